"""``release``: generate ``release/<a>/`` through nbgrader, then prove that nothing leaked.

Leak checks on every released file:

- no solution or hidden-test markers, and no non-trivial line of any solution region or hidden
  test region of the source notebooks;
- no outputs in code cells (outputs could reveal reference results);
- no file that is not in ``source/<a>/`` (minus nbgrader's ignore list), no task files, no
  ``backprop_ref`` code or import, nothing named like a solution or an answer key.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import nbformat

from autograder.course import Course, CourseError, ensure_tools_on_path, protect_db

_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
            "BEGIN MARK SCHEME", "END MARK SCHEME")
_SUSPECT_NAMES = re.compile(r"(solution|answer[_-]?key|autograder_tasks|backprop_ref|hidden)",
                            re.IGNORECASE)


@dataclass
class ReleaseReport:
    """The outcome of releasing one assignment."""

    assignment: str
    files: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no leak was found."""
        return not self.leaks


def secret_lines(source_nb: nbformat.NotebookNode) -> list[str]:
    """Non-trivial lines inside solution and hidden-test regions of a source notebook that do
    not also appear outside such regions (lines shared with public code are not secrets)."""
    out: list[str] = []
    public: set[str] = set()
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        lines = cell.source.splitlines()
        inside = False
        region: list[str] = []
        has_markers = any("BEGIN SOLUTION" in ln or "BEGIN HIDDEN TESTS" in ln for ln in lines)
        if meta.get("solution") and not has_markers:
            # nbgrader replaces the whole cell by the stub: all of it is the model answer
            out.extend(ln.strip() for ln in lines if _nontrivial(ln))
            continue
        for line in lines:
            if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
                inside = True
                continue
            if "END SOLUTION" in line or "END HIDDEN TESTS" in line:
                inside = False
                continue
            if inside:
                region.append(line)
            else:
                public.add(line.strip())
        out.extend(ln.strip() for ln in region if _nontrivial(ln))
    return sorted(set(out) - public)


def _nontrivial(line: str) -> bool:
    s = line.strip()
    if len(s) < 12 or s.startswith("#"):
        return False
    return s not in {"raise NotImplementedError()", "return result", "pass"}


def check_release(course: Course, assignment: str) -> ReleaseReport:
    """Verify ``release/<assignment>/`` against ``source/<assignment>/``."""
    src, rel = course.source_dir(assignment), course.release_dir(assignment)
    report = ReleaseReport(assignment)
    if not rel.is_dir():
        report.leaks.append(f"{rel} does not exist")
        return report
    secrets: list[str] = []
    for nb_path in sorted(src.glob("*.ipynb")):
        secrets.extend(secret_lines(nbformat.read(nb_path, as_version=4)))
    src_files = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()}
    for path in sorted(p for p in rel.rglob("*") if p.is_file()):
        relname = path.relative_to(rel).as_posix()
        report.files.append(relname)
        if "__pycache__" in relname or relname.endswith(".pyc"):
            continue
        if relname not in src_files:
            report.leaks.append(f"{relname}: not a file of source/{assignment}")
        if _SUSPECT_NAMES.search(relname):
            report.leaks.append(f"{relname}: file name suggests instructor material")
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if re.search(r"^\s*(from|import)\s+backprop_ref\b", text, re.MULTILINE):
            report.leaks.append(f"{relname}: imports the reference implementation backprop_ref")
        if path.suffix == ".ipynb":
            report.leaks.extend(_check_notebook(relname, text, secrets))
        else:
            for marker in _MARKERS:
                if marker in text:
                    report.leaks.append(f"{relname}: contains the marker '{marker}'")
    return report


def _check_notebook(relname: str, text: str, secrets: list[str]) -> list[str]:
    leaks = []
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        return [f"{relname}: not a readable notebook ({exc})"]
    body = "\n".join(c.source for c in nb.cells)
    for marker in _MARKERS:
        if marker in body:
            leaks.append(f"{relname}: contains the marker '{marker}'")
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("outputs"):
            leaks.append(f"{relname}: a code cell has stored outputs")
            break
    stripped = {ln.strip() for ln in body.splitlines()}
    for line in secrets:
        if line in stripped:
            leaks.append(f"{relname}: contains the solution/hidden line {line!r}")
    return leaks


def release_assignment(course: Course, assignment: str, force: bool = True) -> ReleaseReport:
    """Run ``nbgrader generate_assignment`` (in process) and then :func:`check_release`."""
    from nbgrader.apps import NbGraderAPI

    if not course.source_dir(assignment).is_dir():
        raise CourseError(f"no source/{assignment} in {course.root}")
    ensure_tools_on_path()
    api = NbGraderAPI(config=course.nbgrader_config())
    api.log.setLevel(logging.ERROR)
    result = api.generate_assignment(assignment, force=force, create=True)
    if not result.get("success"):
        raise CourseError(f"nbgrader generate_assignment {assignment} failed:\n"
                          f"{result.get('error') or result.get('log')}")
    protect_db(course)
    return check_release(course, assignment)
