"""Each category of "grading you can trust" on hand-written submissions, through the real
trusted runner: exactly the cells listed in ``verdict_cases.CASES`` lose points, with the
message (and mistake id) given there; every other cell keeps full points (no cascade)."""

from __future__ import annotations

import nbformat
import pytest

from tests.autograder import trusted_harness
from tests.autograder.verdict_cases import CASES


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_case_loses_exactly_the_cells_it_should(name: str) -> None:
    case = CASES[name]
    verdicts = trusted_harness.grade(case.assignment, case.answers)
    lost = {g: v for g, v in verdicts.items() if v.score != v.max_score}
    assert set(lost) == set(case.lost), {g: v.message for g, v in lost.items()}
    for gid, (score, text) in case.lost.items():
        v = verdicts[gid]
        assert v.score == score, (gid, v.message)
        said = f"{v.message} {v.diagnosis}"
        assert text in said, (gid, said)
    for gid, mistake in case.diagnosis.items():
        assert verdicts[gid].diagnosis == mistake, (gid, verdicts[gid].message)


@pytest.mark.slow
@pytest.mark.parametrize("student", ["alice", "bob", "carol"])
def test_both_targets_of_the_binary_cross_entropy_for_every_student(student: str) -> None:
    case = CASES["bce_one_branch_only"]
    verdicts = trusted_harness.grade(case.assignment, case.answers,
                                     only={"t1_4_tests_backward"}, student=student)
    assert verdicts["t1_4_tests_backward"].score == 0


def test_the_registries_cover_every_automatically_graded_cell() -> None:
    for a in ("ps1", "ps2", "ps3", "ps4"):
        nb = nbformat.read(trusted_harness.REPO / "source" / a / f"{a}.ipynb", 4)
        graded = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code"
                  and c.metadata.get("nbgrader", {}).get("grade")]
        covered = {s.grade_id for s in trusted_harness.specs(a)}
        missing = [g for g in graded if g not in covered]
        # the timing cell too: its trusted task times the vectorized step from outside
        assert missing == [], (a, missing)
