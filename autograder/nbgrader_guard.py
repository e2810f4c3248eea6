"""Keep ``nbgrader generate_feedback`` from showing hidden tests in this course.

nbgrader 0.9.6's ``GenerateFeedback.preprocessors`` are ``[GetGrades, CSSHTMLHeaderPreprocessor]``:
the autograded notebook, whose locked cells nbgrader restored with their hidden tests, goes to
the student's HTML as it is. The course's ``nbgrader_config.py`` puts :class:`StripHiddenTests`
between them, so that ``nbgrader generate_feedback`` (and formgrader's "Generate Feedback"
button) can no longer leak: hidden-test regions are removed from every cell (nbgrader's own
``ClearHiddenTests`` rule, on every cell, not only grade cells), the outputs of a cell that had
hidden tests are replaced by a line saying so (tracebacks quote hidden lines), and any output
that quotes a hidden line is dropped. The course's own command is ``backprop-course feedback``
(manual grades, comments, late penalty, the student's own errors): see docs/instructor-guide.md.
"""

from __future__ import annotations

from typing import Any

from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests


class StripHiddenTests(ClearHiddenTests):
    """nbgrader's ``ClearHiddenTests`` for feedback: also the outputs that could quote them."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        """Collect the hidden lines, strip them, then drop outputs that quote one."""
        self.enforce_metadata = False
        hidden: list[str] = []
        for cell in nb.cells:
            inside = False
            for line in cell.source.splitlines():
                if self.begin_test_delimeter in line:
                    inside = True
                elif self.end_test_delimeter in line:
                    inside = False
                elif inside and len(line.strip()) >= 4:
                    hidden.append(line.strip())
        self._hidden = hidden
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: dict, cell_index: int) -> tuple[Any, dict]:
        """Strip one cell; replace or filter its outputs."""
        removed = self._remove_hidden_test_region(cell)
        if cell.cell_type == "code":
            if removed:
                cell.outputs = [new_output("stream", name="stdout", text=(
                    "[hidden tests ran here; their output is not shown in feedback]\n"))]
            else:
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not any(h in _text(o) for h in self._hidden)]
        return cell, resources


def _text(out: Any) -> str:
    parts = [str(out.get("text", "")), str(out.get("evalue", ""))]
    parts += [str(t) for t in out.get("traceback", [])]
    parts += [str(v) for v in out.get("data", {}).values()]
    return "\n".join(parts)
