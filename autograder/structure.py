"""Structural requirements of a task, checked on the student's source by parsing only.

Some tasks ask for a particular form, not only for the right numbers: "explicit loops over units"
(ps1, task 1.9), "no Python loops" (ps2, task 2.3b) or "analytic gradients only" (every task that
asks for backpropagation). The notebook's own tests check this with ``inspect``, but the trusted
verdict must not depend on the student's kernel, so the grader checks it here on the text of the
student's code cells: the source is parsed with ``ast`` and never executed. The rules themselves
(what counts as a computation loop, a matrix product, a finite difference) live in
``coursekit.structure`` so that the notebook and the grader apply the same ones.

A rule reads the named function AND every function of the student's cells it uses (calls,
passes as a callback), transitively: moving a loop or a finite difference into a helper does not
hide it. Functions the notebook gives (``given``: locked cells) are not the student's and are not
followed. A ``TaskSpec(structure=...)`` takes a function ``cells -> message | None``; build it
with :func:`loops_only`, :func:`no_loops`, :func:`analytic_gradients` and :func:`all_of`.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable

from coursekit import structure as rules

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@functools.lru_cache(maxsize=128)
def parsed(source: str) -> ast.Module:
    """``ast.parse(source)``, remembered: a submission's cells are parsed by every rule and
    every task (a syntax error is raised each time). The tree is shared: never change it."""
    return ast.parse(source)


def function_node(source: str, name: str) -> FunctionNode | None:
    """The last top-level ``def name`` in ``source`` (the one a notebook would call), or None."""
    return _functions(source).get(name)


def _functions(source: str) -> dict[str, FunctionNode]:
    try:
        tree = parsed(source)
    except SyntaxError:
        return {}
    found: dict[str, FunctionNode] = {}
    for node in tree.body:
        if isinstance(node, FunctionNode):
            found[node.name] = node
    return found


def reachable(source: str, name: str, given: Iterable[str] = ()) -> list[FunctionNode]:
    """``name`` and every top-level function of ``source`` it uses, transitively, except the
    ``given`` ones (the notebook's own helpers); empty when ``name`` is not defined."""
    funcs = _functions(source)
    skip = set(given)
    if name not in funcs:
        return []
    order, todo, seen = [], [name], {name}
    while todo:
        node = funcs[todo.pop()]
        order.append(node)
        for sub in ast.walk(node):
            if (isinstance(sub, ast.Name) and sub.id in funcs and sub.id not in seen
                    and sub.id not in skip):
                seen.add(sub.id)
                todo.append(sub.id)
    return order


def _where(node: FunctionNode, name: str) -> str:
    return name if node.name == name else f"{name} (through its helper {node.name})"


def _join(cells: str | list[str]) -> str:
    """One parseable source from code cells: cells that do not parse are left out."""
    if isinstance(cells, str):
        return cells
    kept = []
    for cell in cells:
        try:
            parsed(cell)
        except SyntaxError:
            continue
        kept.append(cell)
    return "\n\n".join(kept)


Rule = Callable[[str | list[str]], str | None]


def loops_only(name: str, given: Iterable[str] = ()) -> Rule:
    """Requirement: ``name`` is written with explicit loops, without matrix products."""

    def check(cells: str | list[str]) -> str | None:
        nodes = reachable(_join(cells), name, given)
        if not nodes:
            return f"{name} is not defined"
        for node in nodes:
            used = sorted(set(rules.matrix_products(node)))
            if used:
                return (f"{_where(node, name)} uses {', '.join(used)}: the task asks for "
                        "explicit loops over units")
        return None

    return check


def no_loops(name: str, given: Iterable[str] = ()) -> Rule:
    """Requirement: ``name`` is vectorized: no loops over the computation (walking the keys of a
    dict of results is allowed, see ``coursekit.structure.computation_loops``)."""

    def check(cells: str | list[str]) -> str | None:
        source = _join(cells)
        nodes = reachable(source, name, given)
        if not nodes:
            return f"{name} is not defined"
        keys = _key_names(source)
        for node in nodes:
            used = sorted(set(rules.computation_loops(node, keys)))
            if used:
                return (f"{_where(node, name)} uses Python loops ({', '.join(used)}): "
                        "the task asks for vector and matrix operations")
        return None

    return check


def analytic_gradients(name: str, given: Iterable[str] = ()) -> Rule:
    """Requirement: ``name`` computes its gradients by backpropagation, not by finite
    differences (helper calls or difference quotients, in it or in its helpers)."""

    def check(cells: str | list[str]) -> str | None:
        source = _join(cells)
        nodes = reachable(source, name, given)
        if not nodes:
            return f"{name} is not defined"
        try:
            steps, aliases = _step_facts(source)
        except SyntaxError:
            return None
        for node in nodes:
            used = rules.finite_differences(node, steps, aliases)
            if used:
                return (f"{_where(node, name)} uses finite differences ({'; '.join(used)}): "
                        "the task asks for analytic gradients by backpropagation; finite "
                        "differences are only for checking them")
        return None

    return check


@functools.lru_cache(maxsize=32)
def _key_names(source: str) -> frozenset[str]:
    """``rules.key_names`` of the whole source (every task's rule asks for the same)."""
    return frozenset(rules.key_names(parsed(source)))


@functools.lru_cache(maxsize=32)
def _step_facts(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """The module-level step sizes and the finite-difference aliases of the whole source."""
    tree = parsed(source)
    module_level = ast.Module(body=[n for n in tree.body if not isinstance(n, FunctionNode)],
                              type_ignores=[])
    return frozenset(rules.step_names(module_level)), frozenset(rules.fd_aliases(tree))


def all_of(*checks: Rule) -> Rule:
    """Every requirement at once: the first broken one's message."""

    def check(cells: str | list[str]) -> str | None:
        for one in checks:
            broken = one(cells)
            if broken:
                return broken
        return None

    return check
