"""ps5's task file beyond what every assignment gets: a mistake costs only the cells of its own
task (no cascade), the engine's comparisons give no point to a backward pass that is not one,
and the digits reach the stated accuracy with the reference. (That the lent model solutions
are the notebook's: ``test_model_sources.py``.)"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder import synthetic, tasks
from autograder.runner_host import runner_chains
from autograder.tasks import Probe, Trial
from tests.course.course_helpers import REPO, STUDENT, make_course_copy, notebook_folder

TASK_FILE = REPO / "autograder" / "registry" / "ps5.py"


@pytest.fixture(scope="module")
def ps5_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """source/ps5 of a temporary copy of the course (its coursekit links resolve there)."""
    root = make_course_copy(tmp_path_factory.mktemp("ps5") / "root")
    return root / "source" / "ps5"


@pytest.fixture(scope="module")
def module() -> Any:
    return tasks.load_task_module(TASK_FILE)


def _namespace(folder: Path, replace: dict[str, str] | None = None) -> dict[str, Any]:
    """The source notebook's non-test code cells (solutions in, ``replace`` applied) run in
    this process, the explorer cell left out; a cell that raises is skipped, as in the
    trusted runner (a broken layer stops the training cell, not the grading)."""
    nb = nbformat.read(folder / "ps5.ipynb", 4)
    ns: dict[str, Any] = {"__name__": "__main__"}
    os.environ.setdefault("MPLBACKEND", "Agg")
    with notebook_folder(folder):
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or meta.get("grade") or "_explorer(" in cell.source:
                continue
            gid = meta.get("grade_id")
            src = replace[gid] if replace and gid in replace else synthetic.strip_markers(
                cell.source)
            try:
                exec(compile(src, str(gid), "exec"), ns)
            except Exception:
                continue
    return ns


def _verdicts(ns: dict[str, Any], student: str = STUDENT) -> dict[str, Any]:
    out = {}
    for spec in tasks.load_tasks(TASK_FILE):
        ctx = tasks.make_context("backprop-course", "ps5", student)
        trials = []
        for probe in spec.instances(ctx):
            want = spec.reference(probe)
            target, saved = ns[probe.name], dict(ns)
            try:
                for source in probe.inject.values():  # as the runner lends them
                    exec(source, ns)
                got = target(*copy.deepcopy(probe.args), **dict(probe.kwargs))
                trials.append(Trial(probe, want, got, None))
            except Exception as exc:
                trials.append(Trial(probe, want, None, f"{type(exc).__name__}: {exc}"))
            finally:
                ns.clear()
                ns.update(saved)
        out[spec.grade_id] = spec.judge(trials)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["correct", *tasks.load_task_module(TASK_FILE).EXAMPLES])
def test_a_mistake_costs_only_its_own_cells(ps5_source: Path, module: Any, name: str) -> None:
    """Judged in process: every cell not named in EXPECTED keeps its points (the later tasks
    run with the model solutions of the earlier ones), the named ones fail as declared."""
    replace = None if name == "correct" else module.EXAMPLES[name]
    verdicts = _verdicts(_namespace(ps5_source, replace))
    expected = module.EXPECTED.get(name, {})
    for gid, verdict in verdicts.items():
        if gid in expected:
            assert verdict.score == 0, f"{name}: {gid} passed"
            if expected[gid]:
                assert verdict.diagnosis == expected[gid], (gid, verdict.message)
        else:
            assert verdict.score == verdict.max_score, (name, gid, verdict.message)


def _backward_trials(module: Any, fn: Any) -> list[Trial]:
    """Trials of the reset task's probes answered by ``fn(spec, calls)``."""
    ctx = tasks.make_context("backprop-course", "ps5", STUDENT)
    spec = next(s for s in module.TASKS if s.grade_id == "t5_2_tests_reset")
    return [Trial(p, spec.reference(p), fn(*p.args), None) for p in spec.instances(ctx)]


def test_a_backward_that_does_nothing_earns_no_engine_point(module: Any) -> None:
    def idle(graph: list, calls: int = 1) -> dict:
        return {"order": [e[0] for e in graph][::-1], "grads": {e[0]: 0.0 for e in graph}}

    trials = _backward_trials(module, idle)
    for gid in ("t5_2_tests_grads", "t5_2_tests_reset"):
        spec = next(s for s in module.TASKS if s.grade_id == gid)
        picked = trials if gid.endswith("reset") else trials[::2]
        assert spec.judge(picked).score == 0, gid


def test_order_comparison_names_the_node_visited_too_early(module: Any) -> None:
    spec = next(s for s in module.TASKS if s.grade_id == "t5_2_tests_order")
    probe = Probe("run_backward", args=(module.DIAMOND, 1), label="DIAMOND")
    good = {"order": ["r", "w", "v", "u"], "grads": {}}
    early = {"order": ["r", "w", "u", "v"], "grads": {}}
    assert spec.judge([Trial(probe, None, good, None)]).score == 1
    verdict = spec.judge([Trial(probe, None, early, None)])
    assert verdict.score == 0 and verdict.diagnosis == "visited_before_consumers"
    assert "u visited before its consumer v" in verdict.message
    bad = spec.judge([Trial(probe, None, {"order": ["r", "w"], "grads": {}}, None)])
    assert bad.score == 0 and bad.diagnosis != "visited_before_consumers"


@pytest.mark.slow
def test_the_reference_reaches_the_stated_digits_accuracy(module: Any) -> None:
    result = module.digits_reference()
    assert result["val_accuracy"] >= module.DIGITS_ACCURACY
    assert result["losses"].shape == (15 * (1437 // 32),)


def test_no_probe_can_keep_a_model_solution_for_a_task_it_is_not_lent_to(module: Any) -> None:
    """Probes lent model solutions run in chains of growing lent sources (one sandbox each), and
    no probe is lent the model solution of the answer cell it is about."""
    ctx = tasks.make_context("backprop-course", "ps5", STUDENT)
    flat, owner = [], []
    for spec in module.TASKS:
        for probe in spec.instances(ctx):
            flat.append(probe)
            owner.append(spec.grade_id)
            for answer in probe.inject:
                assert not spec.grade_id.startswith(answer.replace("_answer", "_tests")), (
                    spec.grade_id, answer)
    chains = runner_chains(flat)
    assert sorted(k for c in chains for k in c) == list(range(len(flat)))
    for chain in chains:
        for before, after in zip(chain, chain[1:], strict=False):
            assert set(flat[before].inject.items()) <= set(flat[after].inject.items())
    assert any(p.inject for p in flat) and 1 < len(chains) <= 3
