"""Grade the hand-written student corpus through the real CLI and read back what it decided.

``prepare_course(dest)`` makes a temporary course (a copy of ``source/``, ``coursekit/`` and
``nbgrader_config.py``; nothing of the repository's gradebook touched).
``grade_set(course_root, ps, submissions, workers)`` writes every submission as
``submitted/<student>/<ps>/<ps>.ipynb`` (the release notebook with the student's cells), runs
``backprop-course release`` and ``backprop-course grade`` once for the whole set, and returns
an ``Outcome`` per submission: the points lost per grade cell (from the gradebook, via
``nbgrader.api.Gradebook``) and the mistake ids named per cell (from the feedback page, which
the worker renders from the same result it writes to the gradebook). ``summarise`` turns the
outcomes and the expectations into the numbers issue 8 asks for.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from autograder.results import read_marker
from coursekit.diagnose import MISTAKES
from tests.integration.corpus_students.common import Submission

REPO = Path(__file__).resolve().parents[2]
SETS = ("ps1", "ps2", "ps3", "ps4")
EPS = 1e-9
GENERIC = {"wrong_values", "error", "structure", "notebook_test_failed"}
"""Ids that claim no cause ("values differ for no recognised reason", the function raised, a
form rule, the notebook's own test): naming one where a specific mistake is expected is a
miss, not a misnaming ("error" is also an ordinary word of every message)."""


@dataclass
class Outcome:
    """What the grader did with one submission."""

    lost: dict[str, float]
    """grade cell -> points lost (automatically graded cells only)."""
    named: dict[str, str]
    """grade cell -> the feedback's result text of that cell."""
    flagged: bool = False
    notes: list[str] = field(default_factory=list)
    """The grader's notes on the submission (resume marker): time limits, kernel deaths, the
    review text of every cell whose two results disagree."""
    cells: dict[str, CellTrace] = field(default_factory=dict)
    """grade cell -> what the grader said about it (see :class:`CellTrace`)."""
    flags: list[str] = field(default_factory=list)
    """The grader's flags (resume marker)."""

    def explain(self, gid: str) -> str:
        """Everything the grader recorded about ``gid``: its summary and diagnosis, which of the
        two results failed (the review text names both), the kernel's error output of the
        cell, and every note on a time limit, a dead kernel or the isolated run."""
        trace = self.cells.get(gid, CellTrace())
        lines = [f"  {gid}: lost {self.lost.get(gid, 0.0):g}",
                 f"    summary: {trace.summary or '(none)'}",
                 f"    diagnosis: {trace.diagnosis or '(none)'}"]
        reviews = [n for n in self.notes if n.startswith(f"{gid}: ")]
        if reviews:
            lines += [f"    review (kernel vs trusted): {r}" for r in reviews]
        elif self.lost.get(gid, 0.0) > EPS:
            lines.append("    review: none (the kernel's test and the trusted check agree)")
        if trace.kernel_error:
            lines.append(f"    kernel test output: {trace.kernel_error}")
        lines.append(f"    kernel test run: {trace.kernel_run or 'no execute reply recorded'}")
        timing = [n for n in self.notes if _TIMING.search(n)]
        lines += [f"    time/limit note: {n}" for n in timing]
        if not timing:
            lines.append("    time/limit note: none (no time limit, dead kernel or isolated-run "
                         "note on this submission)")
        lines += [f"    flag: {f}" for f in self.flags]
        return "\n".join(lines)


@dataclass
class CellTrace:
    """What the grader recorded about one grade cell (marker and autograded notebook)."""

    summary: str = ""
    diagnosis: str = ""
    kernel_error: str = ""
    """``ename: evalue`` (first lines) of the cell's error output in the autograded notebook,
    and its stderr; "" when the cell has none."""
    kernel_run: str = ""
    """Whether the kernel ran the cell (execution count) and its timing metadata if any."""


_TIMING = re.compile(r"time limit|timed out|interrupted|did not finish|in time|killed|died|"
                     r"isolated run|Overtime|seconds|deadline", re.I)


def prepare_course(dest: Path) -> Path:
    """A temporary course root: a copy of ``source/`` (coursekit links kept), ``coursekit/``
    and ``nbgrader_config.py``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", dest / "nbgrader_config.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(REPO / "source", dest / "source", symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "coursekit", dest / "coursekit", ignore=ignore)
    return dest


def _cli(*args: str) -> subprocess.CompletedProcess:
    """``backprop-course ARGS`` as the instructor runs it (the console script's module)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)


def student_notebook(release_nb: nbformat.NotebookNode, sub: Submission
                     ) -> nbformat.NotebookNode:
    """The release notebook with the student's solution cells and extra cells."""
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    known = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    for gid in list(sub.cells) + list(sub.extra):
        if gid not in known:
            raise KeyError(f"no cell {gid!r} in the release notebook")
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sub.cells:
            cell.source = sub.cells[gid]
        cells.append(cell)
        for src in sub.extra.get(gid, []):
            cells.append(new_code_cell(src))
    nb.cells = cells
    return nb


LATER_ITEMS: dict[str, dict[str, dict[str, float]]] = {
    "ps1": {"t1_0_answer": {"t1_0_tests": 1}},
    "ps2": {"t2_2b_answer": {"t2_2b_tests": 1}, "t2_2c_answer": {"t2_2c_tests": 1},
            "t2_2d_answer": {"t2_2d_tests": 1},
            "t2_3c_answer": {"t2_3c_tests_shapes": 1, "t2_3c_tests_values": 1}},
    "ps4": {"t4_0_answer": {"t4_0_tests": 1}, "t4_4a_answer": {"t4_4a_tests": 1}},
}
"""Graded items added to the problem sets after this corpus was written (answer cell -> its test
cells and points). Students who worked the set (``correct``, ``bug``) answer them with the
model solution; ``blank`` and ``partial`` students leave them blank and lose their points."""


def _model_answers(root: Path, ps: str) -> dict[str, str]:
    """The source notebook's solutions of the later items, solution markers removed."""
    source = nbformat.read(root / "source" / ps / f"{ps}.ipynb", as_version=4)
    wanted = LATER_ITEMS.get(ps, {})
    out = {}
    for cell in source.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in wanted:
            out[gid] = "\n".join(ln for ln in cell.source.splitlines()
                                 if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return out


def expected_loss(name: str, sub: Submission) -> dict[str, float]:
    """What ``sub`` must lose, the later items included (see :data:`LATER_ITEMS`)."""
    if sub.kind not in ("blank", "partial"):
        return dict(sub.lose)
    lose = dict(sub.lose)
    for answer, tests in LATER_ITEMS.get(name.split("_")[0], {}).items():
        if answer not in sub.cells:
            lose.update(tests)
    return lose


def write_submissions(root: Path, ps: str, subs: dict[str, Submission], folder: Path) -> None:
    """``folder/<student>/<ps>/<ps>.ipynb`` for every submission (nbgrader's submitted/)."""
    release_nb = nbformat.read(root / "release" / ps / f"{ps}.ipynb", as_version=4)
    models = _model_answers(root, ps)
    for name, sub in subs.items():
        if sub.kind in ("correct", "bug"):
            sub = replace(sub, cells={**{g: s for g, s in models.items()}, **sub.cells})
        out = folder / name / ps
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(release_nb, sub), out / f"{ps}.ipynb")


_ROW = re.compile(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", re.S)
_TAG = re.compile(r"<[^>]+>")


def feedback_results(page: str) -> dict[str, str]:
    """task -> result text of the summary table at the top of a feedback page."""
    out = {}
    for task, _score, result in _ROW.findall(page):
        key = html.unescape(_TAG.sub("", task)).strip().strip("`")
        out[key] = html.unescape(_TAG.sub("", result)).strip()
    return out


def mistake_ids(text: str) -> set[str]:
    """Catalogued mistake ids a result text names (ids as whole words, "correct" excluded)."""
    return {m for m in MISTAKES if m != "correct" and re.search(rf"(?<![\w-]){m}(?![\w-])", text)}


def grade_set(root: Path, ps: str, subs: dict[str, Submission], workers: int = 2
              ) -> dict[str, Outcome]:
    """Release ``ps`` and grade every submission in one batch through the CLI."""
    rel = _cli("--course-root", str(root), "release", ps)
    if rel.returncode != 0:
        raise RuntimeError(f"release {ps} failed:\n{rel.stdout}\n{rel.stderr}")
    folder = root / "submitted_corpus" / ps
    write_submissions(root, ps, subs, folder)
    graded = _cli("--course-root", str(root), "grade", ps, str(folder),
                  "--workers", str(workers))
    if graded.returncode != 0:
        raise RuntimeError(f"grade {ps} failed:\n{graded.stdout}\n{graded.stderr}")
    return read_outcomes(root, ps, subs)


def read_outcomes(root: Path, ps: str, subs: dict[str, Submission]) -> dict[str, Outcome]:
    """Each submission's lost points (gradebook) and result texts (feedback) of a graded set."""
    outcomes = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "backprop-course") as gb:
        for name in subs:
            sub_nb = gb.find_submission_notebook(ps, ps, name)
            lost = {}
            for grade in sub_nb.grades:
                if grade.cell.cell_type != "code" or grade.auto_score is None:
                    continue
                lost[grade.name] = float(grade.max_score) - float(grade.auto_score)
            page_path = root / "feedback" / name / ps / f"{ps}.html"
            page = page_path.read_text() if page_path.exists() else ""
            marker = read_marker(root / ".autograder" / ps / "done" / f"{name}.json")
            traces = _kernel_traces(root / "autograded" / name / ps / f"{ps}.ipynb")
            for gid, said in (marker.cells if marker else {}).items():
                traces[gid] = replace(traces.get(gid, CellTrace()), summary=said.summary,
                                      diagnosis=said.diagnosis)
            outcomes[name] = Outcome(lost={k: v for k, v in lost.items() if v > EPS},
                                     named=feedback_results(page), flagged=bool(sub_nb.flagged),
                                     notes=list(marker.notes) if marker else [],
                                     cells=traces, flags=list(marker.flags) if marker else [])
    return outcomes


def _kernel_traces(path: Path) -> dict[str, CellTrace]:
    """grade cell -> its error output and run record in the autograded notebook."""
    if not path.exists():
        return {}
    out = {}
    for cell in nbformat.read(path, as_version=4).cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not gid or cell.cell_type != "code":
            continue
        errors = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                evalue = " / ".join(str(o.get("evalue", "")).strip().splitlines()[:4])
                errors.append(f"{o.get('ename', 'Error')}: {evalue}"[:600])
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                errors.append("stderr: " + str(o.get("text", "")).strip()[:300])
            elif o.get("output_type") == "stream" and "grader" in str(o.get("text", "")):
                errors.append("stdout: " + str(o.get("text", "")).strip()[:300])
        timing = cell.metadata.get("execution", {})
        run = f"execution_count {cell.get('execution_count')}"
        if timing:
            run += f", timing {json.dumps(timing)}"
        out[gid] = CellTrace(kernel_error=" | ".join(errors), kernel_run=run)
    return out


@dataclass
class Verdict:
    """How the grader's outcome for one submission compares with its expectation."""

    name: str
    sub: Submission
    outcome: Outcome
    false_pass: list[str]
    """expected-losing cells that lost less than expected."""
    over: dict[str, float]
    """cells that lost more than expected (points beyond the expectation)."""
    named: bool | None
    """the expected mistake id is named on every losing cell (None: no id expected)."""
    misnamed: list[str]
    """cells where another specific catalogued id was named instead of the expected one."""

    @property
    def ok(self) -> bool:
        return not self.false_pass and not self.over and self.named is not False

    def describe(self) -> str:
        parts = []
        if self.false_pass:
            parts.append("keeps points in " + ", ".join(
                f"{g} (lost {self.outcome.lost.get(g, 0):g} of {self.sub.lose[g]:g})"
                for g in self.false_pass))
        if self.over:
            parts.append("loses extra " + ", ".join(f"{g} -{p:g}" for g, p in self.over.items()))
        if self.named is False:
            said = {g: self.outcome.named.get(g, "") for g in self.sub.lose}
            parts.append(f"should name {self.sub.mistake!r}; says " + "; ".join(
                f"{g}: {t[:160]!r}" for g, t in said.items()))
        return f"{self.name}: " + ("ok" if not parts else " | ".join(parts))

    def explain(self) -> str:
        """:meth:`describe`, then everything the grader recorded about each cell whose score
        differs from the expectation (:meth:`Outcome.explain`)."""
        cells = [*self.false_pass, *(g for g in self.over if g not in self.false_pass)]
        if self.named is False:
            cells += [g for g in self.sub.lose if g not in cells]
        return "\n".join([self.describe(), *(self.outcome.explain(g) for g in cells)])


def judge(name: str, sub: Submission, outcome: Outcome) -> Verdict:
    """Compare one outcome with its expectation."""
    lose = expected_loss(name, sub)
    false_pass = [g for g, p in lose.items() if outcome.lost.get(g, 0.0) < p - EPS]
    over = {}
    for g, lost in outcome.lost.items():
        extra = lost - lose.get(g, 0.0)
        if extra > EPS:
            over[g] = extra
    named: bool | None = None
    misnamed: list[str] = []
    if sub.mistake is not None and sub.lose:
        named = True
        for g in sub.lose:
            ids = mistake_ids(outcome.named.get(g, ""))
            if sub.mistake not in ids:
                named = False
                if ids - GENERIC:
                    misnamed.append(g)
    return Verdict(name, sub, outcome, false_pass, over, named, misnamed)


@dataclass
class Summary:
    """The numbers of one set (or of all sets)."""

    submissions: int = 0
    false_passes: int = 0
    false_fails: int = 0
    collateral_points: float = 0.0
    collateral_subs: int = 0
    cascades: int = 0
    spills: int = 0
    expected_names: int = 0
    names_right: int = 0
    proposed_expected: int = 0
    proposed_right: int = 0
    misnamed: int = 0
    wrong: list[str] = field(default_factory=list)

    def add(self, v: Verdict) -> None:
        self.submissions += 1
        if v.sub.lose and v.false_pass:
            self.false_passes += 1
        if not v.sub.lose and v.outcome.lost:
            self.false_fails += 1
        if v.sub.lose and v.over:
            self.collateral_subs += 1
            self.collateral_points += sum(v.over.values())
            bug_tasks = {_task(g) for g in v.sub.lose}
            if any(_task(g) not in bug_tasks for g in v.over):
                self.cascades += 1
            if any(_task(g) in bug_tasks for g in v.over):
                self.spills += 1
        if v.named is not None and v.sub.mistake in MISTAKES:
            self.expected_names += 1
            self.names_right += bool(v.named)
        elif v.named is not None:
            self.proposed_expected += 1
            self.proposed_right += bool(v.named)
        self.misnamed += bool(v.misnamed)
        if not v.ok:
            self.wrong.append(v.describe())

    @property
    def named_rate(self) -> float:
        return self.names_right / self.expected_names if self.expected_names else 1.0

    def lines(self, title: str) -> list[str]:
        return [
            f"{title}: {self.submissions} submissions; false passes {self.false_passes}, "
            f"false fails {self.false_fails}, collateral {self.collateral_points:g} points in "
            f"{self.collateral_subs} submissions (cascades {self.cascades}, spills "
            f"{self.spills}), catalogued mistakes named {self.names_right}/"
            f"{self.expected_names} ({100 * self.named_rate:.0f}%), mistakes the catalogue "
            f"lacks named {self.proposed_right}/{self.proposed_expected}, misnamed "
            f"{self.misnamed}",
            *(f"  WRONG {w}" for w in self.wrong),
        ]


def _task(grade_id: str) -> str:
    """The task a grade cell belongs to: "t3_4" for "t3_4_tests_hidden_layer"."""
    return "_".join(grade_id.split("_")[:2])


def summarise(verdicts: list[Verdict]) -> Summary:
    out = Summary()
    for v in verdicts:
        out.add(v)
    return out
