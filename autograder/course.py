"""The course directory: ids, paths, gradebook URL and private grader state."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

EXIT_CODES = {
    0: "success",
    1: "a release leaks, or the gradebook consistency check failed",
    2: "usage or course error (unknown assignment, missing folder, bad configuration)",
    3: "the gradebook is unavailable (database down, corrupt, missing or empty)",
    4: "an output could not be written (disk full, read-only or no permission)",
    130: "interrupted (Ctrl-C or SIGTERM); finished students are saved",
}
"""Exit status of ``backprop-course``, documented in docs/instructor-guide.md."""


class CourseError(RuntimeError):
    """A problem with the course layout or configuration, reported to the instructor in one
    line; ``exit_code`` is the status the command ends with."""

    exit_code = 2


class GradebookError(CourseError):
    """The gradebook cannot be used (down, corrupt, missing, empty)."""

    exit_code = 3


class OutputError(CourseError):
    """An output could not be written (disk full, permissions)."""

    exit_code = 4


def mask_url(url: str) -> str:
    """A database URL with its password replaced by ``***`` (safe to print)."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def mask_text(text: str, url: str | None) -> str:
    """``text`` with the URL's password, and any URL password in it, masked."""
    if url:
        m = re.search(r"//[^:/@]*:([^@/]*)@", url)
        if m and m.group(1):
            text = text.replace(m.group(1), "***")
    return re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", text)


@dataclass(frozen=True)
class Course:
    """An nbgrader course root (``nbgrader_config.py``, ``source/``, ``release/``, ...)."""

    root: Path
    course_id: str
    db_url: str

    @classmethod
    def load(cls, root: Path | str, db_url: str | None = None) -> Course:
        """Read ``nbgrader_config.py`` under ``root``; ``db_url`` overrides the config."""
        root = Path(root).resolve()
        cfg_file = root / "nbgrader_config.py"
        if not cfg_file.is_file():
            raise CourseError(f"{root} is not a course root: nbgrader_config.py is missing")
        cfg = PyFileConfigLoader(cfg_file.name, path=str(root)).load_config()
        cd = cfg.get("CourseDirectory", {})
        course_id = str(cd.get("course_id", "") or "course")
        url = db_url or str(cd.get("db_url", "") or f"sqlite:///{root / 'gradebook.db'}")
        return cls(root, course_id, url)

    # -- paths -------------------------------------------------------------------------------
    def source_dir(self, assignment: str) -> Path:
        """``source/<assignment>``."""
        return self.root / "source" / assignment

    def release_dir(self, assignment: str) -> Path:
        """``release/<assignment>``."""
        return self.root / "release" / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        """``autograded/<student>/<assignment>`` (nbgrader's layout)."""
        return self.root / "autograded" / student / assignment

    def feedback_dir(self, student: str, assignment: str) -> Path:
        """``feedback/<student>/<assignment>`` (nbgrader's layout)."""
        return self.root / "feedback" / student / assignment

    def export_path(self, assignment: str) -> Path:
        """The CSV export of one assignment."""
        return self.root / "exports" / f"{assignment}_grades.csv"

    def state_dir(self, assignment: str) -> Path:
        """Private grader state (the logic digest, resume markers), mode 0700."""
        path = self.root / ".autograder" / assignment
        path.mkdir(parents=True, exist_ok=True)
        for p in (self.root / ".autograder", path):
            os.chmod(p, 0o700)
        return path

    def task_file(self, assignment: str) -> Path | None:
        """The task file of an assignment: ``<root>/autograder_tasks/<a>.py``, else
        ``<root>/autograder/registry/<a>.py``, else the installed package's registry."""
        for candidate in (self.root / "autograder_tasks" / f"{assignment}.py",
                          self.root / "autograder" / "registry" / f"{assignment}.py",
                          Path(__file__).parent / "registry" / f"{assignment}.py"):
            if candidate.is_file():
                return candidate
        return None

    def assignments(self) -> list[str]:
        """Assignments that have a ``source/<a>/`` folder with at least one notebook."""
        src = self.root / "source"
        if not src.is_dir():
            return []
        return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def cell_timeout(self, default: float = 30.0) -> float:
        """``Execute.timeout`` (or ``ExecutePreprocessor.timeout``) from the course config."""
        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        for section in ("Execute", "ExecutePreprocessor"):
            value = cfg.get(section, {}).get("timeout")
            if isinstance(value, (int, float)) and value > 0:
                return float(value)
        return default

    def nbgrader_config(self) -> dict:
        """Config for ``NbGraderAPI``/converters rooted at this course."""
        from traitlets.config import Config

        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        c = Config()
        c.merge(cfg)
        c.CourseDirectory.root = str(self.root)
        c.CourseDirectory.course_id = self.course_id
        c.CourseDirectory.db_url = self.db_url
        return c


def ensure_tools_on_path() -> None:
    """nbgrader shells out to ``alembic``: put this interpreter's ``bin/`` first on PATH."""
    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir] + [p for p in parts if p != bindir])


def protect_db(course: Course) -> None:
    """Make a SQLite gradebook readable and writable by the grader only (mode 0600)."""
    if course.db_url.startswith("sqlite:///"):
        path = Path(course.db_url[len("sqlite:///"):])
        if path.exists():
            path.chmod(0o600)
