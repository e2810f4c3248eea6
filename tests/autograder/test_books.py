"""Pure pieces of the books: the 80-column summary at class scale, the late text, masking,
the per-task statistics of the class report."""

from __future__ import annotations

from autograder.books import StudentBook
from autograder.classreport import task_lines, task_stats
from autograder.course import mask_text, mask_url
from autograder.export import safe
from autograder.report import summary_lines
from autograder.results import ClassRow, RowCell


def row(i: int, score: float, late: str = "", flags=(), needs=False, diagnosis=""):
    cells = {"t1": RowCell(3, score >= 10 and 3 or 0, needs, diagnosis)}
    return ClassRow(f"student{i:03d}_with_a_long_name", score, 0.0, 21, 0.0, 0.0, late, cells,
                    diagnosis, tuple(flags))


def test_summary_fits_80_columns_and_lists_only_attention_for_a_big_class():
    rows = [row(i, 21) for i in range(300)]
    rows[5] = row(5, 15, late="late (+26.5 h, −3)", needs=True,
                  flags=["notebook and trusted results disagree on 2 task(s): a, b " * 3])
    rows[9] = row(9, 0, diagnosis="dW1 is the transpose of the expected " * 4)
    lines = summary_lines(rows)
    assert max(len(ln) for ln in lines) <= 80
    assert len(lines) == 1 + 2 + 1  # header, the two students, the "and N more" line
    assert "298 students with full marks" in lines[-1]
    assert "late (+26.5 h, −3)" in lines[1] and "15/21" in lines[1]
    everyone = summary_lines(rows, all_rows=True)
    assert len(everyone) == 301 and max(len(ln) for ln in everyone) <= 80


def test_late_text_rounds_up_to_a_tenth_of_an_hour():
    book = StudentBook("a", 5.0, 2.0, 7.0, 26 * 3600 + 1, False)
    assert book.late_text() == "late (+26.1 h, −2)" and book.total == 3.0
    assert StudentBook("b", 5.0, 0.0, 7.0, 0.0, False).late_text() == ""
    assert StudentBook("c", 1.0, 3.0, 7.0, 10.0, False).total == 0.0


def test_passwords_are_masked():
    url = "postgresql://grader:pa%40ss@db.example:5432/gb"
    assert mask_url(url) == "postgresql://grader:***@db.example:5432/gb"
    text = 'connection to "db.example" failed: password pa%40ss rejected for grader'
    assert "pa%40ss" not in mask_text(text, url)


def test_csv_text_is_neutralised():
    assert safe("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe("a\nb") == "a b"


def test_task_stats_count_named_mistakes():
    rows = [row(1, 21), row(2, 0, diagnosis="transposed"), row(3, 0, diagnosis="transposed"),
            row(4, 0, diagnosis="no derivative")]
    (stats,) = task_stats(rows, ["t1"])
    assert (stats.passed, stats.graded) == (1, 4)
    assert stats.mistakes == [("transposed", 2), ("no derivative", 1)]
    assert task_lines([stats])[0].split() == ["t1", "25%", "pass", "2×", "transposed", "(+1",
                                              "more)"]
