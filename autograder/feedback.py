"""Student feedback as HTML through nbgrader's feedback template, without hidden tests.

The graded notebook is copied, and in the copy:

- hidden-test regions are removed from every cell (nbgrader's ``ClearHiddenTests`` rule);
- grade cells that had hidden tests lose their outputs (tracebacks can quote hidden lines and
  hidden inputs); their result is shown as the trusted verdict instead;
- outputs of any cell that quote a hidden line are dropped (student code could echo test code),
  and so are the outputs of non-test cells after the first hidden test (they could print hidden
  inputs that student code kept);
- a summary cell at the top lists every task: score, diagnosis, error measure, parts right.

Scores shown are the ones written to the gradebook (the role of nbgrader's ``GetGrades``).
"""

from __future__ import annotations

import copy
import html
import os
from typing import Any

import nbformat
from nbformat.v4 import new_markdown_cell, new_output

_HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
_HIDDEN_END = "END HIDDEN TESTS"
_EXPORTER: Any = None


def hidden_lines(stored_nb: dict[str, Any]) -> list[str]:
    """Stripped non-empty lines inside hidden-test regions of a notebook's stored cells."""
    out = []
    for cell in stored_nb["source"].values():
        inside = False
        for line in cell["source"].splitlines():
            if _HIDDEN_BEGIN in line:
                inside = True
            elif _HIDDEN_END in line:
                inside = False
            elif inside and len(line.strip()) >= 4:
                out.append(line.strip())
    return out


def strip_hidden(source: str) -> tuple[str, bool]:
    """Remove hidden-test regions (markers included); report whether there was one."""
    kept, inside, found = [], False, False
    for line in source.splitlines():
        if _HIDDEN_BEGIN in line:
            inside, found = True, True
            continue
        if _HIDDEN_END in line:
            inside = False
            continue
        if not inside:
            kept.append(line)
    return "\n".join(kept), found


def _output_text(out: Any) -> str:
    parts = [str(out.get("text", "")), str(out.get("evalue", ""))]
    parts += [str(t) for t in out.get("traceback", [])]
    for value in out.get("data", {}).values():
        parts.append(str(value))
    return "\n".join(parts)


def feedback_notebook(nb: Any, nb_result: dict[str, Any], hidden: list[str],
                      student_notes: list[str]) -> Any:
    """The notebook shown to the student (see the module docstring)."""
    fb = copy.deepcopy(nb)
    cells = nb_result["cells"]
    after_hidden = False
    for cell in fb.cells:
        meta = cell.metadata.get("nbgrader", {})
        cell.source, had_hidden = strip_hidden(cell.source)
        gid = meta.get("grade_id")
        if cell.cell_type == "code":
            if meta.get("grade") and had_hidden:
                after_hidden = True
                res = cells.get(gid, {})
                cell.outputs = [new_output("stream", name="stdout",
                                           text=f"Hidden tests: {res.get('summary', '')}\n")]
            elif after_hidden and not meta.get("grade") and cell.get("outputs"):
                # student code could have kept hidden inputs and print them here
                cell.outputs = [new_output("stream", name="stdout", text=(
                    "[outputs of cells after hidden tests are not shown in feedback]\n"))]
            else:
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not any(h in _output_text(o) for h in hidden)]
        if gid and (meta.get("grade") or meta.get("task")):
            res = cells.get(gid, {})
            meta["score"] = res.get("score")
            meta["points"] = res.get("max_score", meta.get("points", 0))
        if gid and (meta.get("solution") or meta.get("task")):
            meta["comment"] = nb_result.get("comments", {}).get(gid)
    fb.cells.insert(0, new_markdown_cell(summary_markdown(nb_result, student_notes)))
    return fb


def summary_markdown(nb_result: dict[str, Any], notes: list[str]) -> str:
    """A markdown table of the tasks of one notebook plus the grader's notes."""
    lines = ["## Autograder summary", "", "| task | score | result |", "|---|---|---|"]
    for gid, res in nb_result["cells"].items():
        score = "needs manual grading" if res.get("score") is None else (
            f"{res['score']:g} / {res['max_score']:g}")
        text = res.get("summary", "")
        lines.append(f"| `{gid}` | {score} | {_md(text)} |")
    if notes:
        lines += ["", "**Notes from the grader**", ""] + [f"- {_md(n)}" for n in notes]
    return "\n".join(lines)


def _md(text: str) -> str:
    return html.escape(text).replace("|", "\\|").replace("\n", " ")


def render_html(fb: Any, notebook: str, score: float, max_score: float) -> str:
    """Export a feedback notebook with nbgrader's ``feedback`` HTML template."""
    global _EXPORTER  # noqa: PLW0603 - one exporter per process: building it is slow
    if _EXPORTER is None:
        import nbgrader  # noqa: PLC0415
        from nbconvert.exporters import HTMLExporter  # noqa: PLC0415
        from traitlets.config import Config  # noqa: PLC0415

        base = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
        c = Config()
        c.HTMLExporter.template_name = "feedback"
        c.HTMLExporter.extra_template_basedirs = [os.path.join(base, "templates")]
        c.HTMLExporter.extra_template_paths = [
            os.path.join(base, "static", "node_modules", "bootstrap", "dist", "css")]
        _EXPORTER = HTMLExporter(config=c)
    resources = {"nbgrader": {"notebook": notebook, "score": score, "max_score": max_score,
                              "late_penalty": 0}}
    body, _ = _EXPORTER.from_notebook_node(nbformat.from_dict(fb), resources=resources)
    return body
