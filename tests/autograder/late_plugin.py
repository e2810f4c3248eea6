"""A custom nbgrader late-submission plugin for the term test: 1 point per started day late."""

from __future__ import annotations

import math

from nbgrader.plugins import BasePlugin


class OnePointPerDay(BasePlugin):
    """Penalty: one point per started 24 hours late (nbgrader caps it at the score)."""

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float:
        """nbgrader's plugin interface."""
        return float(math.ceil(total_seconds_late / 86400.0))
