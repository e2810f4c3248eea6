"""Set-up shared by every test folder: the hypothesis profiles ("ci": no deadline, few examples,
derandomized; "dev": more examples; pick one with the HYPOTHESIS_PROFILE environment variable,
default "ci") and the ``small_case`` instance of the gradient-checker and diagnosis tests.

Every folder below is a package; tests import shared helpers by package path
(``from tests.course.course_helpers import ...``), see tests/README.md."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.backprop_ref.gc_cases import SPECS, make_case

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def small_case() -> dict[str, Any]:
    """A kink-free ReLU + softmax-CE batch with its cache and reference gradients (gc_cases)."""
    return make_case(SPECS["relu_ce"], seed=0)
