"""Setup for the reference tests: makes ``tests/strategies.py`` importable and registers the
hypothesis profiles ("ci": no deadline, few examples, derandomized; "dev": more examples).
Select one with the HYPOTHESIS_PROFILE environment variable (default "ci")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
