"""Explorer 2 (step size), driven from Python: the V shape, float32 vs float64, the kink."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.explorers import ProbeFunction, step_size_explorer
from coursekit.explorers.stepsize import (
    ERROR_FLOOR,
    H_GRID,
    exp_sin_relu,
    exp_sin_relu_prime,
    fd_errors,
)


def at(h: float) -> int:
    return int(np.argmin(np.abs(np.log(H_GRID / h))))


def test_smooth_point_shows_the_truncation_roundoff_v():
    e = step_size_explorer()
    assert e.x() == 0.5
    s = e.summary
    h, err = s[("central", "float64")]["best_h"], s[("central", "float64")]["best_error"]
    assert 1e-7 <= h <= 1e-3 and err < 1e-9
    h, err = s[("forward", "float64")]["best_h"], s[("forward", "float64")]["best_error"]
    assert 1e-10 <= h <= 1e-6 and err < 1e-6
    assert 1e-4 <= s[("central", "float32")]["best_h"] <= 1e-1
    assert 1e-6 <= s[("forward", "float32")]["best_h"] <= 1e-2
    # float32 is orders of magnitude worse at its best step; central beats forward
    assert s[("central", "float32")]["best_error"] > 100 * s[("central", "float64")]["best_error"]
    assert s[("central", "float64")]["best_error"] < s[("forward", "float64")]["best_error"]
    for key, errors in e.errors.items():
        best = errors[at(s[key]["best_h"])]
        assert errors[at(1e-1)] > 10 * best, key  # truncation side of the V
        assert errors[at(1e-15)] > 10 * best, key  # round-off side of the V
    # truncation slopes: O(h) forward, O(h^2) central (float64, between 1e-3 and 1e-1)
    fwd, cen = e.errors[("forward", "float64")], e.errors[("central", "float64")]
    assert fwd[at(1e-2)] / fwd[at(1e-3)] == pytest.approx(10, rel=0.2)
    assert cen[at(1e-2)] / cen[at(1e-3)] == pytest.approx(100, rel=0.2)


def test_plotted_lines_hold_the_errors_and_follow_the_slider():
    e = step_size_explorer()
    before = {k: line.get_ydata().copy() for k, line in e.lines.items()}
    png = e.image.value
    e.point.value = 1.25
    assert e.x() == 1.25 and "x = 1.25" in e.ax.get_title()
    assert e.image.value != png and bytes(e.image.value).startswith(b"\x89PNG")
    for key, line in e.lines.items():
        np.testing.assert_array_equal(line.get_xdata(), H_GRID)
        np.testing.assert_array_equal(line.get_ydata(), np.clip(e.errors[key], ERROR_FLOOR, 1e2))
        assert not np.array_equal(line.get_ydata(), before[key])
    exact = fd_errors(ProbeFunction(exp_sin_relu, exp_sin_relu_prime), 1.25)
    np.testing.assert_array_equal(exact[("central", "float64")], e.errors[("central", "float64")])
    assert 0 < e.last_update_seconds < 1.0


def test_at_the_relu_kink_no_step_size_works():
    e = step_size_explorer()
    e.point.value = 1e-17  # snapped onto the slider grid: exactly the kink
    assert e.x() == 0.0
    assert "kink" in e.note.value
    mid = slice(at(1e-8), at(1e-2) + 1)
    # central difference -> mean of the one-sided slopes (1 and 2) = f'(0) + 1/2 with ReLU'(0)=0
    np.testing.assert_allclose(e.errors[("central", "float64")][mid], 0.5, atol=1e-5)
    np.testing.assert_allclose(e.errors[("forward", "float64")][mid], 1.0, atol=1e-2)
    assert e.summary[("central", "float64")]["best_error"] > 0.1


def test_near_a_kink_large_steps_straddle_it():
    e = step_size_explorer(x=0.25)
    assert "0.25 away" in e.note.value
    cen = e.errors[("central", "float64")]
    assert cen[at(1e-4)] < 1e-8 < 1e-2 < cen[at(0.5)]


def test_functions_passed_in_and_float32_rounding():
    def cube(x):
        return np.asarray(x, dtype=np.float64) ** 3  # ignores the dtype on purpose

    e = step_size_explorer({"cube": (cube, lambda x: 3 * np.asarray(x, dtype=np.float64) ** 2)})
    assert e.function.options == ("exp(sin x) + relu(x)", "cube")
    e.function.value = "cube"
    assert "cube" in e.ax.get_title()
    # f values are rounded to float32, so round-off dominates small steps there
    assert e.summary[("central", "float32")]["best_h"] > 1e-5
    assert e.errors[("central", "float32")][at(1e-10)] > 1e-3
    # central difference of a cubic: error h^2 exactly (x-independent), float64
    cen = e.errors[("central", "float64")]
    assert cen[at(1e-2)] == pytest.approx(H_GRID[at(1e-2)] ** 2, rel=1e-6)
    only = step_size_explorer({"cube": (cube, cube)}, include_default=False)
    assert only.function.options == ("cube",)
