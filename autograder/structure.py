"""Structural requirements of a task, checked on the student's source by parsing only.

Some tasks ask for a particular form, not only for the right numbers: "explicit loops over units"
(ps1, task 1.9) or "no Python loops" (ps2, task 2.3b). The notebook's own tests check this with
``inspect``, but the trusted verdict must not depend on the student's kernel, so the grader
checks it here on the text of the student's code cells: the source is parsed with ``ast`` and
never executed. A ``TaskSpec(structure=...)`` takes a function ``source -> message | None``;
the helpers below build the two the course uses.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

MATRIX_PRODUCT_CALLS = frozenset({"dot", "matmul", "outer", "einsum", "inner", "tensordot"})


def function_node(source: str, name: str) -> ast.FunctionDef | None:
    """The last top-level ``def name`` in ``source`` (the one a notebook would call), or None.

    Cells that do not parse are skipped one by one by the caller joining them; here a source
    that does not parse as a whole gives None.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    found = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            found = node
    return found


def matrix_products(node: ast.AST) -> list[str]:
    """The matrix products used inside ``node``: ``@`` and calls such as ``np.dot``."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.MatMult):
            found.append("@")
        elif isinstance(sub, ast.Attribute) and sub.attr in MATRIX_PRODUCT_CALLS:
            found.append(sub.attr)
    return found


def python_loops(node: ast.AST) -> list[str]:
    """``for``/``while`` statements and comprehensions over ``range(...)`` inside ``node``
    (a comprehension over the keys of a dict of tensors is not a loop over units)."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.For | ast.While):
            found.append(type(sub).__name__.lower())
        elif (
            isinstance(sub, ast.comprehension)
            and isinstance(sub.iter, ast.Call)
            and getattr(sub.iter.func, "id", None) == "range"
        ):
            found.append("comprehension over range")
    return found


def _join(cells: str | list[str]) -> str:
    """One parseable source from code cells: cells that do not parse are left out."""
    if isinstance(cells, str):
        return cells
    kept = []
    for cell in cells:
        try:
            ast.parse(cell)
        except SyntaxError:
            continue
        kept.append(cell)
    return "\n\n".join(kept)


def loops_only(name: str) -> Callable[[str | list[str]], str | None]:
    """Requirement: ``name`` is written with explicit loops, without matrix products."""

    def check(cells: str | list[str]) -> str | None:
        node = function_node(_join(cells), name)
        if node is None:
            return f"{name} is not defined"
        used = sorted(set(matrix_products(node)))
        if used:
            return f"{name} uses {', '.join(used)}: the task asks for explicit loops over units"
        return None

    return check


def no_loops(name: str) -> Callable[[str | list[str]], str | None]:
    """Requirement: ``name`` is vectorized: no ``for``/``while`` and no comprehensions."""

    def check(cells: str | list[str]) -> str | None:
        node = function_node(_join(cells), name)
        if node is None:
            return f"{name} is not defined"
        used = sorted(set(python_loops(node)))
        if used:
            return (
                f"{name} uses Python loops ({', '.join(used)}): "
                "the task asks for vector and matrix operations"
            )
        return None

    return check
