"""Per-student numbers: a seed from the course, the assignment and the student id.

Two students get different numbers; the grader recomputes the numbers of the student whose
submission it grades, so answers copied from a friend do not match. The salt is public (this
file ships to students): it separates this course's seeds from other uses of the same ids, it
is not a secret.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

COURSE_ID = "backprop-course"
SALT = "bpc-2026-seeds-v1"
ENV_GRADER = "BPC_STUDENT_ID"
ENV_HUB = "JUPYTERHUB_USER"


def student_seed(course_id: str, assignment: str, student_id: str) -> int:
    """A 63-bit seed from a salted SHA-256 of ``course_id``, ``assignment`` and ``student_id``.

    The id is stripped and lower-cased first, so " Alice " and "alice" get the same numbers.
    """
    text = "\x1f".join((SALT, course_id, assignment, student_id.strip().lower()))
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _autograde_student() -> str | None:
    """The student folder name while ``nbgrader autograde`` runs the notebook, else None.

    nbgrader executes ``autograded/<student>/<assignment>/<nb>.ipynb`` with that folder as the
    working directory.
    """
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    cwd = Path.cwd()
    if cwd.parent.parent.name == "autograded" and cwd.parent.name:
        return cwd.parent.name
    return None


def student_id(typed: str | None = None) -> str:
    """The id whose numbers this notebook uses; the first that is set wins.

    1. env ``BPC_STUDENT_ID`` (set by the course's grader),
    2. the student folder during ``nbgrader autograde``,
    3. env ``JUPYTERHUB_USER`` (your login on JupyterHub),
    4. ``typed``: the id you typed into the ``STUDENT_ID`` cell.
    """
    for candidate in (
        os.environ.get(ENV_GRADER),
        _autograde_student(),
        os.environ.get(ENV_HUB),
        typed,
    ):
        if candidate is not None and candidate.strip():
            _explain_name_errors(None)
            return candidate.strip()
    reason = ("No student id: type your student id between the quotes in the STUDENT_ID cell "
              "near the top of the notebook, run that cell and then this one again.")
    _explain_name_errors(reason)
    raise ValueError(reason)


def _explain_name_errors(reason: str | None) -> None:
    """In IPython, append ``reason`` to every later NameError (None: stop doing so).

    Without an id the setup cell fails, so the numbers and answers after it are never defined;
    the tests (and ``nbgrader validate``, which reports only graded cells) would otherwise show
    "name 'dL_dL' is not defined" instead of the real cause.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return
    if reason is None:
        if getattr(shell, "_bpc_explains_name_errors", False):
            shell.set_custom_exc((), None)
            shell._bpc_explains_name_errors = False
        return

    def handler(self, etype, value, tb, tb_offset=None):  # noqa: ANN001 - IPython's API
        value = etype(f"no student id (fill in the STUDENT_ID cell at the top), so {value}. "
                      f"{reason}")
        self.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((NameError,), handler)
    shell._bpc_explains_name_errors = True


def rng(assignment: str, student: str, task: str) -> np.random.Generator:
    """A generator for one task of one student (independent across tasks)."""
    seed = student_seed(COURSE_ID, f"{assignment}/{task}", student)
    return np.random.default_rng(seed)


def numbers(
    assignment: str,
    student: str,
    task: str,
    names: Sequence[str],
    low: float = -2.0,
    high: float = 2.0,
    decimals: int = 1,
    min_abs: float = 0.3,
) -> dict[str, float]:
    """One number per name in ``[low, high]``, rounded to ``decimals``, with ``|v| >= min_abs``.

    Small numbers with one decimal can be worked by hand; keeping away from 0 avoids kinks of
    ReLU and degenerate partials. Returns ``{name: float}`` in the order of ``names``.
    """
    gen = rng(assignment, student, task)
    out: dict[str, float] = {}
    for name in names:
        while True:
            value = round(float(gen.uniform(low, high)), decimals)
            if abs(value) >= min_abs:
                break
        out[name] = value
    return out


def matrix(
    assignment: str,
    student: str,
    task: str,
    shape: tuple[int, ...],
    low: float = -1.5,
    high: float = 1.5,
    decimals: int = 1,
    min_abs: float = 0.2,
) -> np.ndarray:
    """A float64 array of ``shape`` drawn like :func:`numbers` (one decimal, ``|v| >= min_abs``)."""
    gen = rng(assignment, student, task)
    size = int(np.prod(shape))
    values: list[float] = []
    while len(values) < size:
        value = round(float(gen.uniform(low, high)), decimals)
        if abs(value) >= min_abs:
            values.append(value)
    return np.array(values, dtype=np.float64).reshape(shape)
