"""Fixtures for the gradient-checker and diagnosis tests (instances live in gc_cases.py)."""

from __future__ import annotations

from typing import Any

import pytest
from gc_cases import SPECS, make_case


@pytest.fixture
def small_case() -> dict[str, Any]:
    return make_case(SPECS["relu_ce"], seed=0)
