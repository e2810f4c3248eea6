"""Attacks on the trusted runner's job: no reference code or data a probe is not lent is reachable.

A blank ps3 and ps5 submission (the released notebooks' code cells) with each attack of
:data:`tests.autograder.runner_attacks.RUNNER_ATTACKS` appended runs through the real trusted
runner (``autograder.runner_host.run_trusted``, bubblewrap sandbox) and must score, task by task,
what the blank scores; the honest control (the instructor's solution) must score full points.
ps3 lends its earlier functions in a chain of growing sources, ps5 in two chains.
"""

from __future__ import annotations

import functools

import nbformat
import pytest

from autograder import runner_host, sandbox, tasks
from tests.autograder import trusted_harness
from tests.autograder.runner_attacks import RUNNER_ATTACKS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
ASSIGNMENTS = ("ps3", "ps5")


def _blank_cells(assignment: str) -> list[str]:
    nb = nbformat.read(trusted_harness.REPO / "release" / assignment / f"{assignment}.ipynb", 4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]


def _targets(assignment: str) -> list[str]:
    names = set()
    for spec in trusted_harness.specs(assignment):
        names.update(spec.names)
    return sorted(names)


def _scores(assignment: str, cells: list[str]) -> dict[str, float]:
    ctx = tasks.make_context("backprop-course", assignment, trusted_harness.STUDENT)
    files = dict(trusted_harness._release_files(assignment))
    result = runner_host.run_trusted(cells, trusted_harness.specs(assignment), ctx, files,
                                 sandbox.Limits())
    return {gid: v.score for gid, v in result.verdicts.items()}


@functools.cache
def _blank(assignment: str) -> dict[str, float]:
    return _scores(assignment, _blank_cells(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_honest_control_scores_everything(assignment):
    scores = _scores(assignment, trusted_harness.cells(assignment))
    specs = {s.grade_id: s.points for s in trusted_harness.specs(assignment)}
    assert scores == pytest.approx({gid: float(p) for gid, p in specs.items()})


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("kind", sorted(RUNNER_ATTACKS))
def test_no_runner_attack_gains_a_point(assignment, kind):
    code = RUNNER_ATTACKS[kind].replace("{TARGETS}", repr(_targets(assignment)))
    attacked = _scores(assignment, [*_blank_cells(assignment), code])
    blank = _blank(assignment)
    gained = {gid: s for gid, s in attacked.items() if s > blank[gid] + 1e-9}
    assert gained == {}, gained


def test_lent_sources_only_grow_along_a_chain_and_never_hold_the_probed_function():
    for assignment in ("ps1", "ps2", "ps3", "ps4", "ps5"):
        ctx = tasks.make_context("backprop-course", assignment, trusted_harness.STUDENT)
        flat = [p for s in trusted_harness.specs(assignment) for p in s.instances(ctx)]
        for chain in runner_host.runner_chains(flat):
            lent = [set(flat[k].inject.items()) for k in chain]
            assert all(a <= b for a, b in zip(lent, lent[1:], strict=False)), assignment
            for k in chain:
                for src in flat[k].inject.values():
                    assert flat[k].name not in runner_host.defined_names(src)
    bad = tasks.Probe("f", inject={"f": "def f():\n    return 1\n"})
    with pytest.raises(ValueError, match="defines f itself"):
        runner_host.runner_chains([bad])


_LOOPED_VEC = '''def backward_step_vec(W, dz_next, fprime):
    return backward_step_loops(W, dz_next, fprime)
'''


@pytest.mark.parametrize("case, score", [
    ("correct", 1.0),
    ("vectorized step is the looped one", 0.0),
    ("looped, with the kernel's clock frozen", 0.0),
    ("blank, with forged timings", 0.0),
])
def test_the_timing_point_takes_evidence_the_kernel_cannot_forge(case, score):
    """ps2's timing test: only a right backward_step_vec that the grader itself times as
    faster than a third of a looped step scores, whatever the kernel measured."""
    cells = {
        "correct": trusted_harness.cells("ps2"),
        "vectorized step is the looped one": [*trusted_harness.cells("ps2"), _LOOPED_VEC],
        "looped, with the kernel's clock frozen": [
            *trusted_harness.cells("ps2"),
            _LOOPED_VEC + "import time\ntime.perf_counter = lambda: 0.0\n"],
        "blank, with forged timings": [
            *_blank_cells("ps2"),
            "timings = {'H': [256], 'loops': [1.0], 'vectorized': [1e-6]}\n"],
    }[case]
    spec = next(s for s in trusted_harness.specs("ps2") if s.grade_id == "t2_5_tests_timing")
    ctx = tasks.make_context("backprop-course", "ps2", trusted_harness.STUDENT)
    result = runner_host.run_trusted(cells, [spec], ctx,
                                     dict(trusted_harness._release_files("ps2")), sandbox.Limits())
    verdict = result.verdicts["t2_5_tests_timing"]
    assert verdict.score == score, verdict.message
