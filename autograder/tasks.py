"""Task registry: instructor-side descriptions of how each graded code cell is verified.

The verdict on a code task never comes from the student's kernel. For every autograded grade
cell the instructor writes a :class:`TaskSpec` in a *task file*; the grader calls the student's
functions (or reads their variables) in a fresh isolated interpreter with inputs it generated, gets
back plain numbers and arrays, and compares them here, in the trusted process, with the reference.

Writing a task file
-------------------
One Python file per assignment, named after it: ``autograder/registry/<assignment>.py`` (or, for a
course kept elsewhere, ``<course root>/autograder_tasks/<assignment>.py``, which wins). It defines
``TASKS: list[TaskSpec]``. It runs only in the trusted grader, so it may import ``backprop_ref``.
Example::

    import numpy as np
    from autograder.tasks import Probe, TaskSpec, compare_outputs
    from backprop_ref import batched

    def _instances(ctx):                      # ctx.rng is seeded per student
        X = ctx.rng.normal(size=(5, 3)); ...
        return [Probe("two_layer_grad", args=(X, T, W1, b1, W2, b2))]

    def _reference(probe):                    # plain data in, plain data out
        X, T, W1, b1, W2, b2 = probe.args
        return {"W1": ..., "b1": ..., "W2": ..., "b2": ...}

    TASKS = [
        TaskSpec(grade_id="test_grad_hidden", points=3, names=("two_layer_grad",),
                 instances=_instances, reference=_reference),
    ]

Fields of :class:`TaskSpec`:

- ``grade_id``: the nbgrader grade cell whose points this task decides; ``points`` must equal the
  cell's points in the gradebook (checked when grading starts).
- ``names``: the student's functions or variables the task uses (documentation and a check that
  they are defined).
- ``instances(ctx) -> list[Probe]``: what to ask. ``Probe(name, args=(), kwargs={})`` calls a
  function; ``Probe(name, call=False)`` reads a variable. Arguments are plain data: arrays
  (float64), numbers, strings, None, and lists/tuples/dicts of those. Every call probe is made
  ``repeat`` times (default 2) on fresh copies of its inputs, the later calls with read-only
  arrays (``readonly``, default True); the runner also compares the arguments after the first
  call with fresh copies. So accumulation across calls, writes into any argument (arrays, dicts
  of parameters, caches) and in-place updates fail THE TASK whose function does them, whatever
  its numbers (:func:`side_effect_verdict`). ``inject={name: source}`` runs the probe with the
  reference's version of a function the probed one builds on (one bug costs one task);
  ``sympy=True`` reads a SymPy answer as an expression tree (see :mod:`autograder.symbolic`).
  ``ctx`` has ``rng`` (``numpy.random.Generator``), ``seed``, ``student_id``, ``assignment``,
  ``course_id``.
- ``reference(probe) -> value``: the expected value for one probe, computed in the trusted process.
- ``compare(trials, spec) -> Verdict`` (optional): the default :func:`compare_outputs` gives full
  points when every tensor of every probe has ``rel_error <= tol`` (``PASS_TOL``, 1e-6) and a
  mistake diagnosis otherwise; ``partial=True`` gives points in proportion to the tensors right.
- ``notebook``: which notebook of the assignment holds the cell (default: found automatically).
- ``side_effects`` (default True): judge writes into the arguments and kept state here; False
  when another task of the same function announces and judges them (a cell that tests what
  training reaches is not also the cell about leaving the caller's params alone).
- ``select(trials) -> trials`` (optional): the trials that count, chosen after the run (Task
  2.4's backward: the one with the student's own forward when it gave the right output, else
  the one with the reference's forward injected); the others are neither compared nor judged
  for side effects.
- ``structure(cells) -> message | None`` (optional): a requirement on the form of the student's
  code, checked on the source of their code cells by parsing, never by running it (see
  :mod:`autograder.structure`: ``loops_only``, ``no_loops``, ``analytic_gradients``, ``all_of``;
  each follows the student's helpers, never the notebook's ``given`` ones); a message gives 0
  and the task is not probed at all.

Each trial carries ``probe``, ``want`` (reference value), ``got`` (student value of the first
call, decoded, or None), ``error`` (the student's exception text, or None) and, for calls,
``later`` / ``later_errors`` (the repeated calls) and ``mutated`` (what the first call changed in
its arguments). :meth:`TaskSpec.judge` fails the task on any side effect before its comparison
counts.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autograder import compare as _cmp
from coursekit.gradcheck import PASS_TOL


@dataclass(frozen=True)
class TaskContext:
    """What an instance generator may depend on."""

    course_id: str
    assignment: str
    student_id: str
    seed: int
    rng: np.random.Generator


@dataclass(frozen=True)
class Probe:
    """One question to the student's namespace: call ``name(*args, **kwargs)`` or read ``name``."""

    name: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    call: bool = True
    repeat: int = 2
    readonly: bool = True
    label: str = ""
    sympy: bool = False
    inject: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial:
    """A probe together with the reference value and the student's value or error."""

    probe: Probe
    want: Any
    got: Any
    error: str | None
    later: tuple = ()
    later_errors: tuple = ()
    mutated: tuple[str, ...] = ()
    seconds: float | None = None  # the probe's wall time, measured by the grader from outside


def unwrap_trial(trial: Trial) -> Trial:
    """Split the runner's record of a call probe (``{"calls", "errors", "mutated"}``) into the
    first call's value, the later calls and what the first call changed in its arguments."""
    got = trial.got
    if not trial.probe.call or trial.error is not None or not isinstance(got, dict):
        return trial
    if set(got) != {"calls", "errors", "mutated"} or not got["calls"]:
        return Trial(trial.probe, trial.want, None, trial.error or "unreadable call record")
    return Trial(trial.probe, trial.want, got["calls"][0], None, tuple(got["calls"][1:]),
                 tuple(got["errors"]), tuple(str(m) for m in got["mutated"]), trial.seconds)


def _identical(a: Any, b: Any) -> bool:
    """The same value, NaN where NaN (a wrong result repeated exactly is not a side effect)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.dtype.kind in "biufc" and y.dtype.kind in "biufc":
            return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=True))
    except (TypeError, ValueError):
        return False
    return a == b


CACHE_MODIFIED = "CacheModified"
"""Name of the exception a cache guard (``autograder.registry.common.cache_guard``) raises when a
backward pass wrote into the cache its forward pass made."""


def side_effect_verdict(trials: Sequence[Trial], tol: float = PASS_TOL) -> tuple[str, str] | None:
    """(mistake id, message) for the first side effect of a task's function, or None.

    Writing into an argument, failing on read-only inputs and a second identical call that
    gives a different result (state kept between calls) all fail the task that has them.
    """
    for trial in trials:
        name = trial.probe.name
        if trial.error is not None and trial.error.startswith(CACHE_MODIFIED + ":"):
            text = trial.error[len(CACHE_MODIFIED) + 1:].strip()
            return "cache_modified", f"{name}: {text.removesuffix(': cache_modified')}"
        if trial.mutated:
            where = ", ".join(trial.mutated)
            kind = "cache_modified" if "cache" in where else "input_modified"
            return kind, (f"{name} changed its argument {where} in place: a function must not "
                          "modify its inputs (copy before changing, build new arrays)")
        for err in trial.later_errors:
            if err and "read-only" in err:
                return "input_modified", (
                    f"{name} writes into its input arrays ({err}): a function must not modify "
                    "its inputs, even temporarily (copy before changing)")
            if err:
                return "not_repeatable", (f"{name} failed when called a second time on the "
                                          f"same inputs: {err}")
        for again in trial.later:
            if trial.got is None or _identical(again, trial.got):
                continue
            # only what the task compares: a tensor that accumulates costs the cells that test
            # it, not a cell announcing another tensor of the same function
            first = trial.got
            if isinstance(first, Mapping) and isinstance(again, Mapping) and isinstance(
                    trial.want, Mapping):
                first = {k: first[k] for k in trial.want if k in first}
                again = {k: again[k] for k in trial.want if k in again}
            parts = _cmp.compare_value(again, first, "", tol)
            bad = [p.name for p in parts if not p.ok]
            if bad:
                which = name if bad == ["value"] else ", ".join(b for b in bad if b != "value")
                return "accumulates", (
                    f"{name}: a second call on the same inputs gave a different result "
                    f"({which}): the function keeps state between calls (e.g. += into a "
                    "global, a default argument or the cache); compute fresh each call")
    return None


@dataclass(frozen=True)
class Verdict:
    """The trusted result of one task: score, a one-line message and the per-part details."""

    score: float
    max_score: float
    message: str
    diagnosis: str = ""
    parts: Mapping[str, bool] = field(default_factory=dict)
    error_measure: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for results crossing process boundaries)."""
        return {"score": self.score, "max_score": self.max_score, "message": self.message,
                "diagnosis": self.diagnosis, "parts": dict(self.parts),
                "error_measure": self.error_measure}


@dataclass(frozen=True)
class TaskSpec:
    """How one grade cell is verified in the trusted process (see the module docstring)."""

    grade_id: str
    points: float
    names: tuple[str, ...]
    instances: Callable[[TaskContext], Sequence[Probe]]
    reference: Callable[[Probe], Any]
    compare: Callable[[Sequence[Trial], TaskSpec], Verdict] | None = None
    partial: bool = False
    tol: float = PASS_TOL
    notebook: str | None = None
    structure: Callable[[list[str]], str | None] | None = None
    side_effects: bool = True
    select: Callable[[Sequence[Trial]], Sequence[Trial]] | None = None

    def judge(self, trials: Sequence[Trial]) -> Verdict:
        """Apply the task's comparison (default :func:`compare_outputs`) and clamp the score."""
        if self.select is not None:
            trials = self.select(trials)
        fn = self.compare or compare_outputs
        verdict = fn(trials, self)
        score = float(min(max(verdict.score, 0.0), self.points))
        if not np.isfinite(score):
            score = 0.0
        side = (side_effect_verdict(trials, self.tol if self.tol > 0 else PASS_TOL)
                if self.side_effects else None)
        if side is not None:
            mistake, text = side
            # values after kept state are a consequence, not a second mistake
            also = ("" if score >= self.points or mistake in ("accumulates", "cache_modified")
                    else f" Also: {verdict.message}")
            return Verdict(0.0, float(self.points), text + also, mistake, verdict.parts,
                           verdict.error_measure)
        return Verdict(score, float(self.points), verdict.message, verdict.diagnosis,
                       verdict.parts, verdict.error_measure)


def compare_outputs(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Default comparison: every tensor within ``spec.tol``; otherwise a diagnosis of the first
    wrong tensor (transpose, a factor N or 1/N, a sign, a wrong axis, ...)."""
    parts: dict[str, bool] = {}
    messages: list[str] = []
    worst = 0.0
    for i, trial in enumerate(trials):
        prefix = trial.probe.label or (f"case {i + 1}" if len(trials) > 1 else "")
        if trial.error is not None:
            parts[(prefix + " " if prefix else "") + trial.probe.name] = False
            messages.append(f"{prefix + ': ' if prefix else ''}{trial.probe.name} failed: "
                            f"{trial.error}")
            worst = float("inf")
            continue
        got = trial.got
        for part in _cmp.compare_value(got, trial.want, "", spec.tol, n_hint=_batch_size(trial)):
            pname = trial.probe.name if part.name == "value" else part.name
            key = " ".join(s for s in (prefix, pname) if s)
            parts[key] = part.ok
            if part.error is not None:
                worst = max(worst, part.error)
            if not part.ok:
                text = (part.message.replace("value", trial.probe.name, 1)
                        if part.name == "value" else part.message)
                messages.append(f"{prefix}: {text}" if prefix else text)
    right = sum(parts.values())
    total = max(len(parts), 1)
    if right == total and not messages:
        return Verdict(spec.points, spec.points, f"correct (worst relative error {worst:.1e})",
                       "", parts, worst)
    score = spec.points * right / total if spec.partial else 0.0
    diagnosis = messages[0] if messages else "wrong result"
    return Verdict(score, spec.points, f"{right}/{total} parts correct", diagnosis, parts, worst)


def compare_shapes(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Shapes only (for public tests that check shapes): every array of the result must have
    the reference's shape; values are not compared."""
    parts: dict[str, bool] = {}
    messages: list[str] = []
    for trial in trials:
        if trial.error is not None:
            parts[trial.probe.name] = False
            messages.append(f"{trial.probe.name} failed: {trial.error}")
            continue
        for part in _cmp.compare_shapes(trial.got, trial.want, ""):
            parts[part.name] = part.ok
            if not part.ok:
                messages.append(part.message)
    if messages:
        return Verdict(0.0, spec.points, "wrong shapes", messages[0], parts, None)
    return Verdict(spec.points, spec.points, "shapes correct", "", parts, None)


def compare_choice(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Full points when the answer string is the right letter (case and spaces ignored)."""
    trial = trials[0]
    if trial.error is not None:
        return Verdict(0.0, spec.points, f"{trial.probe.name}: {trial.error}", "error")
    got = trial.got.strip().upper() if isinstance(trial.got, str) else None
    if got == trial.want:
        return Verdict(spec.points, spec.points, "correct", "")
    return Verdict(
        0.0, spec.points, f"{trial.probe.name}: {trial.got!r} is not the right option",
        "wrong_choice",
    )


def choice_task(grade_id: str, name: str, answer: str, points: float = 1) -> TaskSpec:
    """A multiple-choice task: the variable ``name`` must hold the letter ``answer``."""
    return TaskSpec(
        grade_id, points, (name,), lambda ctx: [Probe(name, call=False)],
        lambda probe: answer, compare=compare_choice,
    )


def _batch_size(trial: Trial) -> int | None:
    for a in trial.probe.args:
        if isinstance(a, np.ndarray) and a.ndim == 2:
            return int(a.shape[0])
    return None


def task_seed(course_id: str, assignment: str, student_id: str) -> int:
    """The per-student seed: ``coursekit.seeds.student_seed`` when available, else a SHA-256."""
    try:
        from coursekit.seeds import student_seed
    except ImportError:
        digest = hashlib.sha256(f"{course_id}/{assignment}/{student_id}".encode()).digest()
        return int.from_bytes(digest[:8], "little") >> 1
    return int(student_seed(course_id, assignment, student_id))


def make_context(course_id: str, assignment: str, student_id: str) -> TaskContext:
    """The context handed to ``TaskSpec.instances`` for one student."""
    seed = task_seed(course_id, assignment, student_id)
    return TaskContext(course_id, assignment, student_id, seed, np.random.default_rng(seed))


def find_task_file(course_root: Path, assignment: str) -> Path | None:
    """Locate the task file of an assignment (course-local first, then ``autograder/registry``)."""
    for candidate in (course_root / "autograder_tasks" / f"{assignment}.py",
                      Path(__file__).parent / "registry" / f"{assignment}.py"):
        if candidate.is_file():
            return candidate
    return None


_MODULES: dict[str, ModuleType] = {}


def load_module_source(source: str, name: str) -> ModuleType:
    """Execute a task file's text as a module (cached by content) and return the module."""
    key = hashlib.sha256(source.encode()).hexdigest()
    if key not in _MODULES:
        module = ModuleType(f"autograder_tasks_{name}_{key[:8]}")
        module.__file__ = f"<tasks {name}>"
        sys.modules[module.__name__] = module
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        _MODULES[key] = module
    return _MODULES[key]


def load_tasks_source(source: str, name: str) -> list[TaskSpec]:
    """The validated ``TASKS`` of a task file given as text."""
    tasks = list(getattr(load_module_source(source, name), "TASKS", []))
    bad = [t for t in tasks if not isinstance(t, TaskSpec)]
    if bad:
        raise TypeError(f"task file {name}: TASKS must hold TaskSpec objects, got {bad[0]!r}")
    ids = [t.grade_id for t in tasks]
    if len(ids) != len(set(ids)):
        raise ValueError(f"task file {name}: duplicated grade_id in TASKS")
    return tasks


def load_tasks(path: Path) -> list[TaskSpec]:
    """Load the ``TASKS`` of a task file by path."""
    return load_tasks_source(path.read_text(encoding="utf-8"), path.stem)


def load_task_module(path: Path) -> ModuleType:
    """The module of a task file by path (for its optional ``EXAMPLES`` and ``WRONG``)."""
    return load_module_source(path.read_text(encoding="utf-8"), path.stem)
