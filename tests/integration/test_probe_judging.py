"""Issue 8's judging rules below the corpus, without a sandbox: side effects where they happen
(a cache guard, kept state only on the announced tensors, fresh definitions per probe), the
own-or-model forward of ps2 Task 2.4, and names only with mutant proof."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import plaindata
from autograder.registry import ps2, ps3
from autograder.registry.common import cache_guard, value_mutant_compare
from autograder.runner_host import RUNNER_SOURCE_PATH, _wire, fresh_definitions
from autograder.tasks import Probe, TaskSpec, Trial, side_effect_verdict
from backprop_ref import batched
from coursekit import check

CELL = '''import numpy as np
_ACC = {}
_N = 3
_SEEN = dict()
_TABLE = {"relu": lambda z: np.maximum(z, 0)}


def grads_loop(X):
    return X


print(grads_loop(1))
_RESULT = grads_loop(np.ones(2))
for _k in range(2):
    pass
'''


def test_fresh_definitions_rerun_defs_and_plain_state_only() -> None:
    fresh = fresh_definitions(["x = 1", CELL, "def other():\n    pass"], ("grads_loop",))
    text = fresh["grads_loop"]
    ns: dict = {}
    exec(text, ns)
    assert ns["_ACC"] == {} and ns["_N"] == 3 and ns["_SEEN"] == {} and "grads_loop" in ns
    # calls of the student's functions, prints, loops and values computed by calls stay out
    assert "print" not in text and "_RESULT" not in text and "for " not in text
    assert "_TABLE" not in text
    assert fresh_definitions(["%timeit f()\ndef grads_loop(X):\n    pass"], ("grads_loop",)) == {}


def _runner_functions() -> dict:
    """The runner's functions without its ``main()`` (which would wait on a pipe)."""
    source = RUNNER_SOURCE_PATH.read_text(encoding="utf-8")
    assert source.rstrip().endswith("main()")
    ns: dict = {"__name__": "bpc_runner_under_test"}
    exec(compile(source.rstrip()[: -len("main()")], "runner.py", "exec"), ns)
    return ns


def test_fresh_definitions_run_before_the_lent_sources_and_vanish_after() -> None:
    runner = _runner_functions()
    cell = "_ACC = []\n\ndef grads(x):\n    _ACC.append(x)\n    return helper(len(_ACC))\n"
    ns: dict = {"__builtins__": __builtins__}
    exec(cell + "\ndef helper(n):\n    return -n\n", ns)
    ns["_ACC"].extend([0, 0, 0])  # other cells filled the accumulator
    fresh = list(dict.fromkeys(fresh_definitions([cell], ("grads",)).values()))
    probe, npz = _wire(Probe("grads", args=(1.0,), repeat=2, inject={"helper": "def helper(n):"
                                                                     "\n    return 10 * n\n"}),
                       fresh)
    assert probe["fresh"] == fresh and _wire(Probe("grads", call=False), fresh)[0]["fresh"] == []
    record, _ = runner["_probe"](probe, npz, ns, np, 5.0)
    assert record["error"] is None, record
    # a fresh _ACC (1 and then 2 entries), and the lent helper, not the student's, was called
    assert plaindata.decode(record["value"], {})["calls"] == [10, 20]
    assert len(ns["_ACC"]) == 3 and ns["helper"](1) == -1  # the namespace is as it was


def _trial(got: object, want: object, later: tuple = (), error: str | None = None) -> Trial:
    return Trial(Probe("skip_backward"), want, got, error, later, (), ())


def test_kept_state_counts_only_on_the_tensors_the_cell_tests() -> None:
    first = {"W1": np.ones((2, 2)), "x": np.ones((2, 1))}
    again = {"W1": 2 * np.ones((2, 2)), "x": np.ones((2, 1))}
    assert side_effect_verdict([_trial(first, {"x": np.ones((2, 1))}, (again,))]) is None
    found = side_effect_verdict([_trial(first, {"W1": np.ones((2, 2))}, (again,))])
    assert found is not None and found[0] == "accumulates"


def test_a_cache_write_caught_by_the_guard_is_cache_modified() -> None:
    ns: dict = {"np": np}

    def mlp_backward(da, cache):
        cache["z1"] *= 0
        return {"z1": da}

    ns["mlp_backward"] = mlp_backward
    exec(cache_guard("mlp_backward")["mlp_backward"], ns)
    with pytest.raises(Exception, match="changed cache\\['z1'\\] in place") as info:
        ns["mlp_backward"](np.ones((2, 1)), {"z1": np.ones((2, 1))})
    error = f"{type(info.value).__name__}: {info.value}"
    found = side_effect_verdict([Trial(Probe("mlp_grads"), {}, None, error)])
    assert found is not None and found[0] == "cache_modified"
    assert not found[1].endswith("cache_modified")


def test_check_unchanged_and_repeatable_name_the_side_effect() -> None:
    cache = {"z1": np.ones(3), "acts": ["relu"]}
    check.unchanged("cache", cache, {"z1": np.ones(3), "acts": ["relu"]}, "mlp_backward")
    cache["z1"][0] = 0
    with pytest.raises(AssertionError, match=r"cache\['z1'\].*: cache_modified$"):
        check.unchanged("cache", cache, {"z1": np.ones(3), "acts": ["relu"]}, "mlp_backward")
    check.repeatable("g", {"W1": np.ones(2), "n": 1.0}, {"W1": np.ones(2), "n": 1})
    with pytest.raises(AssertionError, match="accumulates$"):
        check.repeatable("g", {"W1": 2 * np.ones(2)}, {"W1": np.ones(2)})


def test_backward_trials_use_the_students_forward_only_where_it_is_right() -> None:
    want = np.ones((2, 1))
    right, wrong = (Trial(Probe("mlp_output"), want, v, None) for v in (want, 2 * want))
    own, model = (Trial(Probe("mlp_grads"), {}, v, None) for v in ("own", "m"))
    crashed = Trial(Probe("mlp_output"), want, None, "KeyError: 'W1'")
    picked = ps2._own_or_model_forward([right, own, model, wrong, own, model, crashed, own, model])
    assert [t.got for t in picked] == ["own", "m", "m"]


def _spec() -> TaskSpec:
    return TaskSpec("t", 1, ("batch_loss",), lambda ctx: [], lambda p: None, tol=1e-9,
                    compare=value_mutant_compare(ps3._loss_mutants))


def _loss_trial(rng: np.random.Generator, n: int, got_of) -> Trial:
    X, T, params, hidden = ps3.batch_instance(rng, n, 3, 4, 3, "tanh")
    probe = Probe("batch_loss", args=(X, T, params, hidden))
    want = batched.mlp_loss(X, T, params, ps3.spec_of(params, hidden))[0]
    return Trial(probe, want, got_of(want, n), None)


def test_a_missing_one_over_n_is_named_only_when_the_mutant_reproduces_every_case() -> None:
    rng = np.random.default_rng(5)
    summed = [_loss_trial(rng, n, lambda w, n: w * n) for n in (3, 5, 4)]
    verdict = _spec().judge(summed)
    assert verdict.score == 0 and verdict.diagnosis == "missing_1_over_n"
    # N times too large in one case only, or a factor that is not N: no name, plain values
    mixed = [_loss_trial(rng, n, lambda w, n: w * (n if n == 3 else 1)) for n in (3, 5, 4)]
    assert _spec().judge(mixed).diagnosis != "missing_1_over_n"
    other = [_loss_trial(rng, n, lambda w, n: w * 4) for n in (3, 5, 4)]
    assert _spec().judge(other).diagnosis != "missing_1_over_n"


def test_check_number_names_a_mistake_only_at_its_exact_value() -> None:
    text = "exactly N times the mean: missing_1_over_n"
    check.number("loss", 0.5, 0.5, mistakes={text: 2.0})
    with pytest.raises(AssertionError, match="missing_1_over_n"):
        check.number("loss", 2.0, 0.5, mistakes={text: 2.0})
    with pytest.raises(AssertionError) as info:
        check.number("loss", 2.1, 0.5, mistakes={text: 2.0})
    assert "missing_1_over_n" not in str(info.value)
