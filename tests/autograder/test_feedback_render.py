"""The feedback exporter's shortcuts change no page: templates compiled once before the bounded
forks, and nbconvert's BeautifulSoup pass replaced by the one change it makes to these pages
(alt text), give nbconvert's own document."""

from __future__ import annotations

import base64

import nbformat
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from autograder import feedback
from autograder.results import NotebookResult
from tests.autograder.conftest import FIXTURE

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def _pages(nb):
    fb = feedback.feedback_notebook(nb, NotebookResult({}), [], ["a note"])
    ours = feedback.render_html(fb, "backprop", 1.0, 2.0)
    node = nbformat.from_dict(fb)
    feedback.inert_cells(node)
    theirs, _ = HTMLExporter.from_notebook_node(feedback._EXPORTER, node,
                                                resources=feedback._resources("backprop", 1.0,
                                                                              2.0))
    return ours, theirs


def test_pages_equal_nbconverts_without_images():
    nb = nbformat.read(FIXTURE / "source" / "demo1" / "backprop.ipynb", as_version=4)
    ours, theirs = _pages(nb)
    assert "<img" not in ours and "Autograder summary" in ours
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs


def test_pages_with_images_get_nbconverts_alt_text():
    nb = nbformat.read(FIXTURE / "source" / "demo1" / "backprop.ipynb", as_version=4)
    plot = new_code_cell("plot()")
    plot.outputs = [new_output("display_data", data={"image/png": PNG, "text/plain": "fig"})]
    nb.cells[1:1] = [plot, new_markdown_cell("text")]  # before any hidden test
    ours, theirs = _pages(nb)
    assert ours.count(feedback.NO_ALT) == 1 and theirs.count(feedback.NO_ALT) == 1
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs


def test_alt_text_goes_last_and_only_where_missing():
    page = ('<p><img src="data:image/png;base64,AA=="\n></p><img alt="mine" src="x">'
            '<IMG src="y"/><imgx>')
    assert feedback._alt_text(page) == (
        f'<p><img src="data:image/png;base64,AA==" alt="{feedback.NO_ALT}"\n></p>'
        f'<img alt="mine" src="x"><IMG src="y" alt="{feedback.NO_ALT}"/><imgx>')


def test_warmed_pages_are_the_same_and_student_text_is_rendered_only_in_the_child():
    nb = nbformat.read(FIXTURE / "source" / "demo1" / "backprop.ipynb", as_version=4)
    mark = "only-in-the-child-7d1e"
    student = f"def mine():\n    return '{mark}'\n"
    nb.cells.insert(1, new_code_cell(student))
    feedback._RENDERED.clear()
    feedback._WARMED.clear()
    cold, _ = _pages(nb)
    assert feedback._RENDERED and not _rendered_here(mark)
    instructor = nbformat.read(FIXTURE / "source" / "demo1" / "backprop.ipynb", as_version=4)
    feedback.warm_renderer("demo1", lambda: instructor)
    warmed = len(feedback._RENDERED)
    feedback.warm_renderer("demo1", lambda: 1 / 0)  # once per key
    assert len(feedback._RENDERED) == warmed
    hot, _ = _pages(nb)
    assert hot == cold and mark in hot
    assert not _rendered_here(mark)


def _rendered_here(text):
    """Whether this process (not a bounded child) rendered anything containing ``text``."""
    return any(text in part for key in feedback._RENDERED for part in key)
