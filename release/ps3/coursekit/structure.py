"""The form of a function's code, read from its syntax tree (never by running it).

Some tasks ask for a form as well as the right numbers: "explicit loops over units" (no matrix
products), "vector and matrix operations" (no Python loops over the computation) or "analytic
gradients" (no finite differences). These rules read an ``ast`` node; the notebook's visible
tests and the trusted grader (``autograder.structure``) use the same rules.

What counts:

- a **computation loop** is a ``while``, or a ``for``/comprehension that does not only walk the
  keys of a dict of named tensors. Walking keys (``for k in grads:``, ``for k, v in g.items()``,
  ``for k in ("W1", "b1")``) converts or collects results; a loop over ``range``, ``zip``, an
  array's rows or examples is a computation loop. ``map``, ``np.vectorize`` and
  ``np.apply_along_axis`` are loops too.
- a **matrix product** is ``@`` or a call such as ``np.dot`` / ``np.einsum``.
- a **finite difference** is a call of a finite-difference helper (the course's
  ``numerical_gradient``, ``grad_fd``, ``fd_grads``, ``twin_fd``, ... or SciPy's
  ``approx_fprime``) or a difference quotient ``(f(x + h) - f(x - h)) / (2 * h)`` whose step
  ``h`` is a small constant (at most 1e-2) or a name bound to one.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterable

MATRIX_PRODUCT_CALLS = frozenset({"dot", "matmul", "outer", "einsum", "inner", "tensordot"})
HIDDEN_LOOP_CALLS = frozenset({"map", "vectorize", "apply_along_axis", "frompyfunc"})
FD_HELPERS = frozenset({
    "numerical_gradient", "_numerical_gradient", "batched_numerical_gradient", "perturbed_stack",
    "check_gradients", "compare_gradients", "directional_check", "assert_gradients",
    "grad_fd", "grads_fd", "fd_grads", "twin_fd", "skip_fd", "approx_fprime", "check_grad",
})
"""Names of finite-difference helpers (coursekit's, backprop_ref's checks, the notebooks' given
ones, SciPy's)."""
MAX_STEP = 1e-2


def matrix_products(node: ast.AST) -> list[str]:
    """The matrix products used inside ``node``: ``@`` and calls such as ``np.dot``."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.MatMult):
            found.append("@")
        elif isinstance(sub, ast.Attribute) and sub.attr in MATRIX_PRODUCT_CALLS:
            found.append(sub.attr)
    return found


def _string_keyed(node: ast.AST) -> set[str]:
    """Names subscripted with a string constant somewhere in ``node`` (dicts of tensors)."""
    out = set()
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)
                and isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str)):
            out.add(sub.value.id)
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Dict | ast.DictComp):
            out.update(t.id for t in sub.targets if isinstance(t, ast.Name))
    return out


def _over_keys(iterable: ast.AST, dicts: set[str]) -> bool:
    """``iterable`` walks the keys (or items) of a dict of named tensors."""
    if isinstance(iterable, ast.Call):
        func = iterable.func
        if isinstance(func, ast.Attribute) and func.attr in {"items", "keys", "values"}:
            return not iterable.args
        if isinstance(func, ast.Name) and func.id in {"sorted", "list", "tuple"} and iterable.args:
            return _over_keys(iterable.args[0], dicts)
        return False
    if isinstance(iterable, ast.Tuple | ast.List | ast.Set):
        return bool(iterable.elts) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in iterable.elts)
    return isinstance(iterable, ast.Name) and iterable.id in dicts


def key_names(tree: ast.AST) -> set[str]:
    """Names a module binds to a dict literal or a tuple/list/set of strings (key lists such
    as ``KEYS = ("W1", "b1")``): walking them walks result keys."""
    out = set()
    for sub in getattr(tree, "body", []):
        if isinstance(sub, ast.Assign) and (
                isinstance(sub.value, ast.Dict | ast.DictComp)
                or _over_keys(sub.value, set())):
            out.update(t.id for t in sub.targets if isinstance(t, ast.Name))
    return out


def _runtime_key_names(fn: Callable) -> set[str]:
    """Global names of ``fn`` bound to a dict or a tuple/list/set of strings right now."""
    out = set()
    for name, value in getattr(fn, "__globals__", {}).items():
        if isinstance(value, dict) or (isinstance(value, tuple | list | set | frozenset) and value
                                       and all(isinstance(v, str) for v in value)):
            out.add(name)
    return out


def computation_loops(node: ast.AST, keys: Iterable[str] = ()) -> list[str]:
    """Loops over the computation inside ``node`` (see the module docstring); loops that only
    walk the keys of a dict of tensors (or a list of key names, ``keys``) are not counted."""
    dicts = _string_keyed(node) | set(keys)
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.While):
            found.append("while")
        elif isinstance(sub, ast.For) and not _over_keys(sub.iter, dicts):
            found.append("for")
        elif isinstance(sub, ast.comprehension) and not _over_keys(sub.iter, dicts):
            it = sub.iter
            is_range = isinstance(it, ast.Call) and getattr(it.func, "id", "") == "range"
            found.append("comprehension over range" if is_range else "comprehension")
        elif isinstance(sub, ast.Call):
            name = getattr(sub.func, "id", None) or getattr(sub.func, "attr", None)
            if name in HIDDEN_LOOP_CALLS:
                found.append(name)
    return found


def _small(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and 0 < abs(value) <= MAX_STEP)


def step_names(tree: ast.AST) -> set[str]:
    """Names bound to a small constant (``h = 1e-5``, ``eps=1e-6`` as a default argument)."""
    names = set()
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) and _small(
                sub.value.value):
            names.update(t.id for t in sub.targets if isinstance(t, ast.Name))
        elif isinstance(sub, ast.AnnAssign | ast.AugAssign):
            continue
        elif isinstance(sub, ast.arguments):
            positional = [*sub.posonlyargs, *sub.args]
            for arg, default in zip(positional[len(positional) - len(sub.defaults):],
                                    sub.defaults, strict=True):
                if isinstance(default, ast.Constant) and _small(default.value):
                    names.add(arg.arg)
            for arg, default in zip(sub.kwonlyargs, sub.kw_defaults, strict=True):
                if isinstance(default, ast.Constant) and _small(default.value):
                    names.add(arg.arg)
    return names


def _is_step(node: ast.AST, steps: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return _small(node.value)
    if isinstance(node, ast.Name):
        return node.id in steps
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _is_step(node.left, steps) or _is_step(node.right, steps)
    return False


def fd_aliases(tree: ast.AST) -> set[str]:
    """Local names of imported finite-difference helpers (``import ... as ng``)."""
    out = set()
    for sub in ast.walk(tree):
        if isinstance(sub, ast.ImportFrom):
            out.update(a.asname or a.name for a in sub.names if a.name in FD_HELPERS)
    return out


def finite_differences(node: ast.AST, steps: set[str] = frozenset(),
                       aliases: set[str] = frozenset()) -> list[str]:
    """Finite differences inside ``node``: helper calls and difference quotients.

    ``steps`` are names bound to small constants outside ``node`` (module level), ``aliases``
    local names of imported helpers; both come from the whole source (see :func:`step_names`).
    """
    steps = set(steps) | step_names(node)
    helpers = FD_HELPERS | set(aliases)
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in helpers:
            found.append(f"calls {sub.id}")
        elif isinstance(sub, ast.Attribute) and sub.attr in helpers:
            found.append(f"calls {sub.attr}")
        elif (isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Div)
              and isinstance(sub.left, ast.BinOp) and isinstance(sub.left.op, ast.Sub)
              and _is_step(sub.right, steps)):
            found.append("a difference quotient (f(x + h) - f(x - h)) / 2h")
    return list(dict.fromkeys(found))


def used_functions(fn: Callable, given: Iterable[str] = ()) -> list[tuple[Callable, ast.AST]]:
    """``fn`` and every function of its module it uses by name, transitively (for a notebook:
    the functions of ``__main__``), except the ``given`` ones and those without source."""
    skip = set(given)
    order, todo, seen = [], [fn], {getattr(fn, "__name__", "")}
    while todo:
        f = todo.pop()
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(f)))
        except (OSError, TypeError, SyntaxError):
            continue
        first = tree.body[0] if tree.body else None
        if not isinstance(first, ast.FunctionDef | ast.AsyncFunctionDef) or (
                first.name != f.__name__):
            continue  # inspect found some other text (no source for code made by exec)
        order.append((f, tree))
        namespace = getattr(f, "__globals__", {})
        for sub in ast.walk(tree):
            if not isinstance(sub, ast.Name) or sub.id in seen or sub.id in skip:
                continue
            other = namespace.get(sub.id)
            if inspect.isfunction(other) and other.__module__ == f.__module__:
                seen.add(sub.id)
                todo.append(other)
    return order


def function_loops(fn: Callable, given: Iterable[str] = ()) -> list[str]:
    """:func:`computation_loops` of ``fn`` and of the helpers it uses (see
    :func:`used_functions`), each as ``"for"`` or ``"for (in helper)"``."""
    found = []
    for f, tree in used_functions(fn, given):
        where = "" if f is fn else f" (in {f.__name__})"
        found += [kind + where for kind in computation_loops(tree, _runtime_key_names(f))]
    return found
