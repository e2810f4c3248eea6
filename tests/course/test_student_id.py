"""An empty STUDENT_ID is reported as the cause in the cells that fail because of it (those are
the graded cells ``nbgrader validate`` shows), not as a bare NameError."""

from __future__ import annotations


def _error_text(shell, code: str) -> str:
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        shell.run_cell(code)
    return out.getvalue()


def test_name_errors_after_a_missing_id_name_the_missing_id(monkeypatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.delenv("BPC_STUDENT_ID", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    shell = InteractiveShell.instance(colors="nocolor")
    try:
        shell.run_cell("from coursekit import seeds")
        assert "No student id" in _error_text(shell, 'ME = seeds.student_id("")')
        text = _error_text(shell, "dL_dL")
        assert ("NameError: no student id (fill in the STUDENT_ID cell at the top), so name "
                "'dL_dL' is not defined") in text
        # Once an id is given, NameErrors are plain again.
        _error_text(shell, 'ME = seeds.student_id("alice")')
        text = _error_text(shell, "dL_dL")
        assert "NameError: name 'dL_dL' is not defined" in text and "student id" not in text
    finally:
        InteractiveShell.clear_instance()
