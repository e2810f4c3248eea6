"""The adversarial corpus: each synthetic submission kind with its expected score and reason.

Scores are out of 5 autograded points (public shapes 1, hidden gradient 3, numeric answer 1);
the manually graded written answer is not counted. ``reason`` must appear in the student's
diagnosis or notes; ``flag`` says whether the submission must be flagged for review.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Expect:
    score: float
    reason: str | None = None
    flag: bool = False


EXPECTED: dict[str, Expect] = {
    # correct work, in two styles, and with noise on stderr
    "correct": Expect(5),
    "correct_loops": Expect(5),
    "stderr_warning": Expect(5),
    # catalogued mistakes: the diagnosis names them
    "blank": Expect(0, "NotImplementedError"),
    "mistake_transposed_dW1": Expect(1, "the transpose of the expected"),
    "mistake_no_tanh_derivative": Expect(2, "W1 is wrong"),
    "mistake_tanh_derivative_of_z": Expect(2, "W1 is wrong"),
    "mistake_db_not_summed": Expect(1, "sum over the examples"),
    "mistake_wrong_answer": Expect(4, "answer is wrong"),
    # cheating attempts on a wrong answer (zeros of the right shapes: worth 1 public point)
    "abuse_patch_numpy": Expect(1, "all zeros"),
    "abuse_input_transformer": Expect(1, "the lower score, 0, counts", flag=True),
    "abuse_ast_transformer": Expect(1, "the lower score, 0, counts", flag=True),
    "abuse_steal_files": Expect(1, "all zeros"),
    "abuse_write_gradebook": Expect(1, "all zeros"),
    "deleted_grade_cell": Expect(1, "was missing and was put back"),
    "duplicated_grade_cell": Expect(1, "appears 2 times"),
    "renamed_grade_cell": Expect(1, "not part of the assignment"),
    "inflated_points": Expect(1, "was changed and was restored"),
    "wrong_kernel": Expect(1, "evil-kernel"),
    # faults on a correct answer
    "abuse_os_exit": Expect(0, "the kernel died"),
    "abuse_sys_exit": Expect(5),
    # the kernel stopped before the tests ran: no evidence from them, so no points (verdict rule)
    "abuse_busy_loop": Expect(0, "ignored the interrupt", flag=True),
    "abuse_memory_bomb": Expect(5),
    "abuse_fork_bomb": Expect(5),
    "abuse_huge_output": Expect(5, "truncated"),
    "abuse_syntax_error": Expect(5),
    "abuse_print_hidden_inputs": Expect(5),
    # unreadable files
    "invalid_json": Expect(0, "not valid JSON"),
    "empty_file": Expect(0, "the notebook file is empty"),
    "not_a_notebook": Expect(0, "not a Jupyter notebook"),
    "no_cells": Expect(0, "was missing and was put back"),
}
