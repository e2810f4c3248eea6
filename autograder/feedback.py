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

Feedback is **inert HTML**: everything that comes from the submission passes bleach (the
sanitizer nbconvert itself uses) with an allow-list: rendered markdown and raw cells (no script,
style, iframe, object, form, event handler or ``javascript:``/``data:`` link; images only as
embedded raster ``data:image/...`` such as the cell's own attachments), and code outputs through
nbconvert's ``SanitizeHTML`` (JavaScript, SVG, widget and unknown outputs dropped, HTML and
markdown outputs cleaned).

A page (:class:`Page`) is made from the gradebook by the coordinator and rendered by
:func:`render_page` wherever it is sent: during a grading run on the run's workers, which
render pages in parallel as they grade; by ``backprop-course feedback`` in its own process.
Either way the page is rendered in a bounded child (:func:`render_html`), and the instructor's
texts once per process ahead of it (:func:`warm_renderer`), so that the child renders only
what the student wrote.
"""

from __future__ import annotations

import copy
import html
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bleach
import nbformat
from nbformat.v4 import new_markdown_cell, new_output

from autograder import bounded
from autograder.results import NotebookResult

RENDER_SECONDS = 60.0
RENDER_MEMORY_BYTES = 2 * 1024**3
MARKDOWN_BUDGET = 200_000
MAX_TEXT_CELLS = 400
_OVER = "*[text cells not shown: the feedback's size limit for text was reached]*"
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


def feedback_notebook(nb: Any, nb_result: NotebookResult, hidden: list[str],
                      student_notes: list[str]) -> Any:
    """The notebook shown to the student (see the module docstring)."""
    fb = copy.deepcopy(nb)
    cells = nb_result.cells
    after_hidden = False
    budget, text_cells = MARKDOWN_BUDGET, 0
    for cell in fb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type in ("markdown", "raw"):
            budget -= len(cell.source)
            text_cells += 1
            if budget < 0 or text_cells > MAX_TEXT_CELLS:
                cell.source, cell.metadata = _OVER, {}
                cell.pop("attachments", None)
                continue
        cell.source, had_hidden = strip_hidden(cell.source)
        gid = meta.get("grade_id")
        if cell.cell_type == "code":
            if meta.get("grade") and had_hidden:
                after_hidden = True
                res = cells.get(gid)
                cell.outputs = [new_output("stream", name="stdout",
                                           text=f"Hidden tests: {res.summary if res else ''}\n")]
            elif after_hidden and not meta.get("grade") and cell.get("outputs"):
                # student code could have kept hidden inputs and print them here
                cell.outputs = [new_output("stream", name="stdout", text=(
                    "[outputs of cells after hidden tests are not shown in feedback]\n"))]
            else:
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not any(h in _output_text(o) for h in hidden)]
        if gid and (meta.get("grade") or meta.get("task")):
            res = cells.get(gid)
            meta["score"] = res.score if res else None
            meta["points"] = res.max_score if res else meta.get("points", 0)
        if gid and (meta.get("solution") or meta.get("task")):
            meta["comment"] = nb_result.comments.get(gid)
    kept = [c for c in fb.cells if c.source != _OVER or c.cell_type == "code"]
    if len(kept) < len(fb.cells):  # text past the budget: one marker instead of every cell
        kept.append(new_markdown_cell(_OVER))
    fb.cells = kept
    fb.cells.insert(0, new_markdown_cell(summary_markdown(nb_result, student_notes)))
    return fb


def summary_markdown(nb_result: NotebookResult, notes: list[str]) -> str:
    """A markdown table of the tasks of one notebook plus the grader's notes."""
    lines = ["## Autograder summary", "", "| task | score | result |", "|---|---|---|"]
    for gid, res in nb_result.cells.items():
        score = "needs manual grading" if res.score is None else (
            f"{res.score:g} / {res.max_score:g}")
        lines.append(f"| `{gid}` | {score} | {_md(res.summary)} |")
    if notes:
        lines += ["", "**Notes from the grader**", ""] + [f"- {_md(n)}" for n in notes]
    return "\n".join(lines)


def _md(text: str) -> str:
    return html.escape(text).replace("|", "\\|").replace("\n", " ")


_TAGS = frozenset(bleach.ALLOWED_TAGS) | {
    "p", "div", "span", "pre", "code", "table", "thead", "tbody", "tr", "td", "th", "h1", "h2",
    "h3", "h4", "h5", "h6", "img", "br", "hr", "sub", "sup", "del", "ins", "dl", "dt", "dd",
    "kbd", "s", "details", "summary", "caption"}
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*")


def _img_attr(tag: str, name: str, value: str) -> bool:
    if name == "src":
        return _IMAGE_DATA.fullmatch(value.strip()) is not None
    return name in ("alt", "title", "width", "height")


def _a_attr(tag: str, name: str, value: str) -> bool:
    if name == "href":
        return not value.strip().lower().startswith("data:")
    return name == "title"


_ATTRS = {"*": ["class"], "a": _a_attr, "img": _img_attr, "abbr": ["title"],
          "acronym": ["title"], "td": ["align", "colspan", "rowspan"],
          "th": ["align", "colspan", "rowspan"]}


def clean_html(element: Any) -> str:
    """Make submission HTML inert (allow-listed tags and attributes; see the module docstring)."""
    text = element.decode("utf-8", "replace") if isinstance(element, bytes) else str(element)
    return bleach.clean(text, tags=_TAGS, attributes=_ATTRS,
                        protocols=["http", "https", "mailto", "data"], strip=True,
                        strip_comments=True)


def inert_cells(fb: Any) -> None:
    """Clean raw cells and code outputs in place (markdown is cleaned after rendering)."""
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    outputs = SanitizeHTML(safe_output_keys={"metadata", "text/plain", "image/png",
                                             "image/jpeg"},
                           sanitized_output_types={"text/html", "text/markdown"})
    outputs.sanitize_html_tags = clean_html  # type: ignore[method-assign]
    for cell in fb.cells:
        if cell.cell_type == "raw":
            cell.source = clean_html(cell.source)
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
        elif cell.cell_type == "code":
            cell.outputs = outputs.sanitize_code_outputs(cell.get("outputs", []))
        cell.metadata.pop("attachments", None)
        if cell.cell_type != "markdown":
            cell.pop("attachments", None)


def render_html(fb: Any, notebook: str, score: float, max_score: float) -> str:
    """Export a feedback notebook with nbgrader's ``feedback`` HTML template."""
    _exporter()
    resources = _resources(notebook, score, max_score)
    nb = nbformat.from_dict(fb)
    inert_cells(nb)
    return bounded.call(_export, nb, resources, seconds=RENDER_SECONDS,
                        memory_bytes=RENDER_MEMORY_BYTES)


def _exporter() -> Any:
    """The feedback exporter of this process, made on first use."""
    global _EXPORTER
    if _EXPORTER is None:
        import nbgrader
        from jinja2 import pass_context
        from nbconvert.exporters import HTMLExporter
        from traitlets.config import Config

        class InertHTMLExporter(HTMLExporter):
            """nbgrader's feedback template renders markdown itself: clean what it renders."""

            @pass_context
            def markdown2html(self, context: Any, source: str) -> str:
                cell = context.get("cell", {})
                if cell.get("attachments"):  # the page shows this cell's own images
                    return clean_html(super().markdown2html(context, source))
                key = ("markdown", source)
                if key not in _RENDERED:
                    _RENDERED[key] = clean_html(super().markdown2html(context, source))
                return _RENDERED[key]

            def from_notebook_node(self, nb: Any, resources: Any = None,
                                   **kw: Any) -> tuple[str, dict[str, Any]]:
                """``HTMLExporter.from_notebook_node`` (nbconvert 7.17) without its last pass,
                a BeautifulSoup parse and re-serialisation of the whole page (half the render
                time). Of what that pass changes, only the alt text of images applies to this
                template (it has no ``jp-`` cells to make focusable), and :func:`_alt_text`
                adds it: the page is the same document (tested against nbconvert's)."""
                from nbconvert.exporters import TemplateExporter
                from nbconvert.exporters.html import WidgetsDataTypeFilter
                from nbconvert.filters.highlight import Highlight2HTML

                info = nb.metadata.get("language_info", {})
                lexer = info.get("pygments_lexer", info.get("name", None))
                self.register_filter("highlight_code", _Remembered(
                    Highlight2HTML(pygments_lexer=lexer, parent=self)))
                resources = self._init_resources(resources)
                self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources))
                page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
                return _alt_text(page), resources

        base = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
        c = Config()
        c.HTMLExporter.template_name = "feedback"
        c.HTMLExporter.extra_template_basedirs = [os.path.join(base, "templates")]
        c.HTMLExporter.extra_template_paths = [
            os.path.join(base, "static", "node_modules", "bootstrap", "dist", "css")]
        # markdown rendered by the template goes through clean_html (our allow-list)
        c.HTMLExporter.sanitize_html = True
        c.HTMLExporter.embed_images = False
        # the notebook is validated once after the preprocessors, not after each of the twelve
        c.HTMLExporter.optimistic_validation = True
        c.HTMLExporter.filters = {"clean_html": clean_html}
        exporter = InertHTMLExporter(config=c)
        # compile the templates and load the highlighter here, once, on a notebook of our own:
        # every bounded child forked below inherits them instead of redoing it per page
        exporter.from_notebook_node(_warm_up_notebook(), resources=_resources("warm-up", 1, 1))
        _EXPORTER = exporter
    return _EXPORTER


_RENDERED: dict[tuple[str, ...], str] = {}
"""Rendered code and markdown by their text (:class:`_Remembered`, ``markdown2html``)."""
_WARMED: set[str] = set()


class _Remembered:
    """nbconvert's code highlighter, remembering its pages by text (the key holds everything
    its result depends on: the language and the cell's ``magics_language``)."""

    def __init__(self, highlighter: Any) -> None:
        self.highlighter = highlighter

    def __call__(self, source: str, language: str | None = None,
                 metadata: Any = None) -> str:
        magics = str((metadata or {}).get("magics_language", ""))
        key = ("code", language or self.highlighter.pygments_lexer, magics, source)
        if key not in _RENDERED:
            _RENDERED[key] = self.highlighter(source, language, metadata)
        return _RENDERED[key]


def warm_renderer(key: str, texts: Callable[[], Any]) -> None:
    """Render the instructor's notebook ``texts()`` (trusted: the release notebook, the stored
    cells) once in this process, so that the feedback pages forked afterwards find their code
    and markdown already rendered; every other cell (the student's) is still rendered only in
    the bounded child. ``key`` names the texts: each is warmed once per process."""
    if key in _WARMED:
        return
    _WARMED.add(key)
    exporter = _exporter()
    nb = nbformat.from_dict(texts())
    nb.cells = [c for c in nb.cells if c.cell_type in ("code", "markdown")]
    for cell in nb.cells:  # only the texts count (the keys of _RENDERED)
        cell.metadata = {}
        cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    try:
        exporter.from_notebook_node(nb, resources=_resources("warm-up", 1, 1))
    except Exception:  # only a head start: each page renders what it misses
        pass


@dataclass
class Page:
    """One feedback page, made from the gradebook (:func:`autograder.publish.pages`)."""

    student: str
    notebook: str
    path: Path
    fb: Any
    """The feedback notebook (hidden tests removed, checked for leaks)."""
    score: float
    max_score: float
    texts_key: str
    """Names the instructor's texts of the notebook (:func:`warm_renderer`)."""


def render_page(page: Page, texts: dict[str, Any]) -> tuple[str, float]:
    """The page's HTML and the seconds it took, in whichever process runs this (the
    coordinator, or a grading worker during a run): ``texts``, the instructor's texts of the
    page's notebook, are rendered once per process (:func:`warm_renderer`), the page in a
    bounded child (:func:`render_html`)."""
    start = time.perf_counter()
    warm_renderer(page.texts_key, lambda: texts)
    return render_html(page.fb, page.notebook, page.score, page.max_score), (
        time.perf_counter() - start)


_IMG_WITHOUT_ALT = re.compile(r"<(img)\b(?![^>]*\salt=)([^>]*?)(\s*/?)>", re.I)
NO_ALT = "No description has been provided for this image"
"""nbconvert's alt text for an image without one (``HTMLExporter.from_notebook_node``)."""


def _alt_text(page: str) -> str:
    """Give every ``<img>`` of ``page`` without an ``alt`` attribute nbconvert's text."""
    return _IMG_WITHOUT_ALT.sub(lambda m: f'<{m[1]}{m[2]} alt="{NO_ALT}"{m[3]}>', page)


def _resources(notebook: str, score: float, max_score: float) -> dict[str, Any]:
    return {"nbgrader": {"notebook": notebook, "score": score, "max_score": max_score,
                         "late_penalty": 0}}


def _warm_up_notebook() -> Any:
    """A small notebook of the grader's own with every kind of cell a feedback page shows."""
    from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell

    # an executed notebook names IPython's lexer (ipykernel's language_info)
    nb = new_notebook(metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}})
    code = new_code_cell("import numpy as np\nx = np.ones(3)  # a comment\nprint(x.sum())",
                         metadata={"nbgrader": {"grade": True, "grade_id": "w", "points": 1,
                                                "solution": False, "locked": False,
                                                "score": 1}})
    code.outputs = [new_output("stream", name="stdout", text="3.0\n"),
                    new_output("error", ename="ValueError", evalue="x", traceback=["x"])]
    nb.cells = [new_markdown_cell("## Title\n\n| a | b |\n|---|---|\n| 1 | $x^2$ |\n\n"
                                  "*text* `code` [link](https://example.org)"),
                code, new_raw_cell("raw")]
    return nb


def plain_html(notebook: str, summary: str, reason: str) -> str:
    """A page without the notebook: the summary table as text and why the page is plain."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(notebook)}"
            f"</title></head><body><p>{html.escape(reason)}</p><pre>{html.escape(summary)}"
            "</pre></body></html>")


def _export(nb: Any, resources: dict[str, Any]) -> str:
    body, _ = _EXPORTER.from_notebook_node(nb, resources=resources)
    return body
