"""``backprop-course feedback ASSIGNMENT``: feedback pages from the gradebook, after manual grading.

This replaces ``nbgrader generate_feedback`` in this course (which, in nbgrader 0.9.6, copies the
autograded notebook with every hidden test into the student's HTML, and skips students whose
``feedback/`` folder exists). For every student of the gradebook and every notebook:

- the notebook is the autograded one (``autograded/<s>/<a>/``); the page is made by
  :func:`autograder.feedback.feedback_notebook` (hidden tests removed, outputs that could carry
  them dropped) and nbgrader's feedback template (:func:`autograder.feedback.render_html`);
- every score is the gradebook's (manual if given, else auto, plus extra credit), the total is
  nbgrader's (minus the late penalty, shown as ``late (+N h, −P)``), comments are the
  instructor's from formgrader, else the grader's;
- the student's own errors stay visible: a syntax error is re-derived here from their source
  (compiled, never run), and an import or name error that the hiding rule dropped is put back
  when every name it quotes appears in their own cell;
- a page that would still contain a line of a hidden test is not written (reported instead);
- every file is written atomically; nothing else in ``feedback/`` is touched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_output

from autograder import atomic, books, bounded, feedback, gradebook
from autograder.course import Course
from autograder.results import (
    NO_MARKER,
    CellResult,
    Marker,
    MarkerCell,
    NotebookResult,
    read_marker,
)
from autograder.submissions import valid_student_id

OWN_ERRORS = {"SyntaxError", "IndentationError", "TabError", "ImportError",
              "ModuleNotFoundError", "NameError"}


@dataclass
class FeedbackReport:
    """What the feedback command wrote and what it refused."""

    written: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def compile_error(source: str) -> dict[str, Any] | None:
    """The syntax error of a cell's source as an error output (compiled here, never run)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(source)
        compile(code, "<cell>", "exec")
    except SyntaxError as exc:
        line = (exc.text or "").rstrip("\n")
        where = f"  line {exc.lineno}: {line.strip()}" if exc.lineno else ""
        return new_output("error", ename=type(exc).__name__, evalue=str(exc.msg),
                          traceback=[f"{type(exc).__name__}: {exc.msg}", where])
    except (ValueError, TypeError, RecursionError, MemoryError):
        return None
    return None


def _quoted_names_are_own(evalue: str, source: str) -> bool:
    evalue = re.sub(r"\(.*\)\s*$", "", evalue)  # "cannot import name 'x' from 'y' (/path)"
    names = re.findall(r"'([^']*)'", evalue)
    return bool(names) and all(n and re.search(rf"\b{re.escape(n)}\b", source) for n in names)


def restore_own_errors(fb: Any, graded: Any) -> None:
    """Give back the student's own errors that the hiding rule of feedback_notebook dropped."""
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in graded.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    for cell in fb.cells:
        meta = cell.metadata.get("nbgrader", {})
        orig = by_id.get(meta.get("grade_id"))
        if cell.cell_type != "code" or orig is None or meta.get("grade"):
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            continue
        errors = [o for o in orig.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        mine = compile_error(orig.source)
        if mine is None and errors[0].get("ename") in OWN_ERRORS and _quoted_names_are_own(
                str(errors[0].get("evalue", "")), orig.source):
            e = errors[0]
            mine = new_output("error", ename=e["ename"], evalue=e["evalue"],
                              traceback=[f"{e['ename']}: {e['evalue']}"])
        if mine is not None:
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") !=
                            "stream"] + [mine]


def secret_lines(stored_nb: dict[str, Any], graded: Any) -> list[str]:
    """Hidden-test lines that are neither in the visible part of the stored cells nor in the
    student's own cells (a line the student wrote is not a secret they could learn)."""
    # Compared as text, like leaked_lines: a fragment of a statement split over lines (say a
    # bare "check.number(") that also occurs in visible text reveals nothing.
    public = "\n".join(feedback.strip_hidden(cell["source"])[0]
                       for cell in stored_nb["source"].values())
    own = "\n".join(c.source for c in graded.cells
                    if not c.metadata.get("nbgrader", {}).get("locked"))
    return [h for h in feedback.hidden_lines(stored_nb) if h not in public and h not in own]


def leaked_lines(fb: Any, hidden: list[str]) -> list[str]:
    """Hidden-test lines that appear anywhere in a feedback notebook (sources and outputs)."""
    texts = []
    for cell in fb.cells:
        texts.append(cell.source)
        for out in cell.get("outputs", []):
            texts.append(feedback._output_text(out))
    blob = "\n".join(texts)
    return [h for h in hidden if h in blob]


def _texts_key(release_nb: Path, nb_stored: dict[str, Any]) -> str:
    """What :func:`instructor_texts` depends on, as a digest (cheap: no notebook is parsed)."""
    digest = hashlib.sha256(release_nb.read_bytes() if release_nb.is_file() else b"")
    digest.update(json.dumps([[c["cell_type"], c["source"]] for c in
                              nb_stored["source"].values()]).encode())
    return digest.hexdigest()


def instructor_texts(release_nb: Path, nb_stored: dict[str, Any]) -> dict[str, Any]:
    """A notebook of the texts a feedback page shows that are the instructor's: the release
    notebook's cells and the stored cells without their hidden tests (what
    :func:`autograder.feedback.warm_renderer` renders ahead of the pages)."""
    cells = nbformat.read(release_nb, as_version=4).cells if release_nb.is_file() else []
    for cell in nb_stored["source"].values():
        text = feedback.strip_hidden(cell["source"])[0]
        cells.append(nbformat.v4.new_code_cell(text) if cell.get("cell_type") == "code"
                     else nbformat.v4.new_markdown_cell(text))
    return nbformat.v4.new_notebook(cells=cells)


def _nb_result(book: books.StudentBook, nb_name: str, marker: Marker) -> NotebookResult:
    """The notebook's result as the gradebook holds it, with the grader's summaries."""
    cells = {}
    for gid, cell in book.cells.items():
        if cell.notebook != nb_name:
            continue
        summary = marker.cells.get(gid, MarkerCell()).summary
        pending = cell.manual_score is None and cell.auto_score is None
        if cell.manual_score is not None:
            summary = "graded by hand" + (f" (autograder: {summary})" if summary and
                                          cell.cell_type == "code" else "")
        if cell.extra_credit:
            summary += f"; extra credit +{cell.extra_credit:g}"
        if cell.needs_manual and not pending:
            summary += "; under review"
        cells[gid] = CellResult(cell.max_score, None if pending else cell.score, summary)
    return NotebookResult(cells, dict(book.comments.get(nb_name, {})))


def _notes(book: books.StudentBook, nb_name: str, marker: Marker) -> list[str]:
    raw, mx, pen = book.notebook_scores.get(nb_name, (0.0, 0.0, 0.0))
    notes = []
    if book.late:
        notes.append(f"{book.late_text()}: the score of this notebook is {max(0.0, raw - pen):g}"
                     f" / {mx:g} after the late penalty of {pen:g}")
    if book.needs_manual:
        notes.append("some answers are still being graded by hand; scores may change")
    return notes + list(marker.notes)


def instructor_text_notebooks(course: Course, assignment: str, stored: dict[str, Any]
                              ) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{notebook: (key, instructor_texts)}`` of every notebook of ``assignment``."""
    out = {}
    for nb_name, nb_stored in stored.items():
        release_nb = course.release_dir(assignment) / f"{nb_name}.ipynb"
        out[nb_name] = (_texts_key(release_nb, nb_stored), instructor_texts(release_nb, nb_stored))
    return out


def pages(course: Course, assignment: str, stored: dict[str, Any], students: list[str] | None,
          report: FeedbackReport, texts: dict[str, tuple[str, dict[str, Any]]]
          ) -> Iterator[feedback.Page]:
    """The pages of every student of the gradebook (or of ``students``), read from the
    gradebook and the autograded notebooks; a page refused before rendering (an invalid
    student id, a hidden test line on it) goes to ``report`` instead (``texts``: from
    :func:`instructor_text_notebooks`)."""
    markers = course.state_dir(assignment) / "done"
    wanted = set(students) if students is not None else None
    for book in books.read_class(course, assignment, students):
        if wanted is not None and book.student not in wanted:
            continue
        if not valid_student_id(book.student):  # an id written by hand into the gradebook
            report.refused.append(f"{book.student!r}: not a valid student id; no page written")
            continue
        marker = read_marker(markers / f"{book.student}.json") or NO_MARKER
        for nb_name, nb_stored in stored.items():
            path = course.feedback_dir(book.student, assignment) / f"{nb_name}.html"
            graded_path = course.autograded_dir(book.student, assignment) / f"{nb_name}.ipynb"
            if graded_path.is_file():
                graded = nbformat.read(graded_path, as_version=4)
            else:  # not submitted or unreadable: a page with the scores and the reason
                graded = nbformat.v4.new_notebook()
            hidden = feedback.hidden_lines(nb_stored)
            fb = feedback.feedback_notebook(graded, _nb_result(book, nb_name, marker), hidden,
                                            _notes(book, nb_name, marker))
            restore_own_errors(fb, graded)
            leaks = leaked_lines(fb, secret_lines(nb_stored, graded))
            if leaks:
                report.refused.append(f"{book.student}/{nb_name}: the page would show a hidden "
                                      f"test line ({leaks[0][:40]}...); not written")
                continue
            raw, mx, pen = book.notebook_scores.get(nb_name, (0.0, 0.0, 0.0))
            yield feedback.Page(book.student, nb_name, path, fb, max(0.0, raw - pen), mx,
                       texts[nb_name][0])


def finish_page(page: feedback.Page, html: Callable[[], str], report: FeedbackReport) -> None:
    """Write the page whose HTML ``html()`` gives (a call of
    :func:`autograder.feedback.render_page`, or its future's result); a failed render leaves
    the grade intact and tells the instructor."""
    try:
        text = html()
    except bounded.StepLimitError as exc:  # the grade stays; the instructor is told
        text = feedback.plain_html(page.notebook, page.fb.cells[0].source, (
            "The full feedback page could not be rendered; your scores are below."))
        report.refused.append(f"{page.student}/{page.notebook}: the feedback page could not "
                              f"be rendered ({str(exc)[:120]}); a plain page was written")
    except Exception as exc:
        report.refused.append(f"{page.student}/{page.notebook}: the feedback page could not "
                              f"be rendered ({type(exc).__name__}: {str(exc)[:120]}); "
                              "not written")
        return
    atomic.write_text(page.path, text)
    report.written.append(str(page.path))


def _html(page: feedback.Page, texts: dict[str, Any]) -> str:
    return feedback.render_page(page, texts)[0]


def publish_feedback(course: Course, assignment: str, students: list[str] | None = None,
                     apply_penalties: bool = True, stored: dict[str, Any] | None = None
                     ) -> FeedbackReport:
    """Render ``feedback/<s>/<a>/<nb>.html`` for every student (or ``students``) from the
    gradebook and the autograded notebooks (``stored``: the assignment's stored cells, when the
    caller has just read them from the gradebook), one page after the other in this process
    (a grading run renders its pages on its workers: :mod:`autograder.pipeline`)."""
    if apply_penalties:
        books.apply_late_penalties(course, assignment)
    if stored is None:
        stored = gradebook.load_stored(course.db_url, course.course_id, assignment)
    texts = instructor_text_notebooks(course, assignment, stored)
    report = FeedbackReport()
    for page in pages(course, assignment, stored, students, report, texts):
        finish_page(page, functools.partial(_html, page, texts[page.notebook][1]), report)
    return report
