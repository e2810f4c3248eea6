"""CSV export: one row per student with the total, each task's score, diagnosis and flags."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from autograder.course import Course


def csv_header(task_ids: list[str]) -> list[str]:
    """Column names of the export."""
    return (["student", "score", "max_score", "needs_manual_grade"] + task_ids
            + ["diagnosis", "flags", "notes"])


def write_csv(course: Course, assignment: str, rows: list[dict[str, Any]],
              task_ids: list[str]) -> Path:
    """Write ``exports/<assignment>_grades.csv`` and return its path."""
    path = course.export_path(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_header(task_ids))
        for row in rows:
            cells = row.get("cells", {})
            scores = []
            for gid in task_ids:
                score = cells.get(gid, {}).get("score")
                scores.append("" if score is None else f"{score:g}")
            writer.writerow([row["student"], f"{row['score']:g}", f"{row['max_score']:g}",
                             "yes" if row.get("needs_manual") else "no", *scores,
                             _safe(row.get("diagnosis", "")),
                             _safe("; ".join(row.get("flags", []))),
                             _safe("; ".join(row.get("notes", [])))])
    tmp.replace(path)
    return path


def _safe(text: str) -> str:
    """Neutralise spreadsheet formulas in text that may come from student code."""
    text = text.replace("\n", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
