"""Terminal output of the grader: a progress bar with ETA and the summary table (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A callback ``(done, total, student)`` that drives a progress bar with ETA."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   TextColumn("{task.fields[last]}"), console=console, transient=False)
    task_id = None

    def update(done: int, total: int, student: str) -> None:
        nonlocal task_id
        if task_id is None:
            task_id = bar.add_task(label, total=total, last="")
        bar.update(task_id, completed=done, total=total, last=student)

    with bar:
        yield update


def _cell(c: dict[str, Any] | None) -> str:
    if c is None:
        return "-"
    if c["score"] is None:
        return "[yellow]manual[/]"
    mark = "green" if c["score"] >= c["max_score"] else ("red" if c["score"] == 0 else "yellow")
    return f"[{mark}]{c['score']:g}/{c['max_score']:g}[/]"


def _mark(c: dict[str, Any] | None) -> str:
    if c is None:
        return "[dim]-[/]"
    if c["score"] is None:
        return "[yellow]?[/]"
    if c["score"] >= c["max_score"]:
        return "[green]✓[/]"
    return "[red]✗[/]" if c["score"] == 0 else "[yellow]~[/]"


COMPACT_ABOVE = 5
"""With more tasks than this, tasks are shown as one column of marks (✓ ✗ ~ ?) in order."""


def summary_table(rows: list[dict[str, Any]], task_ids: list[str], title: str) -> Table:
    """One line per student: total, each task, the diagnosis and any flag or note."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("student", no_wrap=True)
    table.add_column("score", justify="right")
    compact = len(task_ids) > COMPACT_ABOVE
    if compact:
        table.caption = ("tasks, in order: " + " ".join(task_ids)
                         + "  (✓ full, ~ partial, ✗ zero, ? manual)")
        table.add_column("tasks", no_wrap=True)
    else:
        for gid in task_ids:
            table.add_column(gid, justify="center")
    table.add_column("diagnosis", overflow="fold", max_width=60)
    table.add_column("flag / note", overflow="fold", max_width=50)
    for row in rows:
        flag = "; ".join(row.get("flags", []))
        if not flag and row.get("notes"):
            flag = row["notes"][0]
        tasks = ([("".join(_mark(row["cells"].get(g)) for g in task_ids))] if compact
                 else [_cell(row["cells"].get(g)) for g in task_ids])
        table.add_row(row["student"], f"{row['score']:g}/{row['max_score']:g}", *tasks,
                      row.get("diagnosis", ""), f"[magenta]{flag}[/]" if row.get("flags")
                      else flag)
    return table


def print_report(console: Console, report: Any) -> None:
    """Table, consistency verdict, rejected entries and where the outputs are."""
    console.print(summary_table(report.rows, report.task_ids, f"Grades: {report.assignment}"))
    for rej in report.rejected:
        console.print(f"[red]not graded[/] {rej.path}: {rej.reason}")
    if report.problems:
        console.print("[bold red]Gradebook consistency check FAILED:[/]")
        for p in report.problems:
            console.print(f"  {p}")
    else:
        console.print("[green]Gradebook consistency check passed[/]: no other student's rows "
                      "and no stored test changed.")
    n = len(report.graded)
    per = report.seconds / n if n else 0.0
    console.print(f"graded {n}, unchanged and skipped {len(report.skipped)}, "
                  f"{report.seconds:.1f} s ({per:.2f} s per graded submission)")
    console.print(f"CSV export: {report.csv_path}")
    console.print(f"feedback:   {report.feedback_root}/<student>/{report.assignment}/*.html")
