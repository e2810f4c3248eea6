"""A computation graph a student writes down, as ``{node: [its parents]}``, and its checks.

Pure Python: the problem sets' graded cells (:func:`check_graph`) and the grader's hidden tests
(:func:`graph_structure_problems`, :func:`graph_edge_problems`) use the same sentences, and
neither needs the widgets; :func:`coursekit.explorers.graph.show_graph` draws such a graph.
"""

from __future__ import annotations

from collections.abc import Mapping

Parents = Mapping[str, "list[str] | tuple[str, ...] | set[str]"]
"""A computation graph written as ``{node: [its parents]}`` (the nodes its formula reads)."""


def edges_of(parents: Parents) -> list[tuple[str, str]]:
    """The (parent, child) edges of a parents mapping, in the order written."""
    return [(str(p), str(child)) for child, ps in parents.items() for p in ps]


def graph_structure_problems(parents: object, nodes: list[str]) -> list[str]:
    """What is wrong with the *form* of an answer, without knowing the graph: not a dict of
    lists of node names, unknown names, a node that is its own ancestor, or a node of ``nodes``
    that is neither a parent nor a child (drawn but not connected)."""
    if not isinstance(parents, Mapping):
        return [f"must be a dict {{node: [parents]}}, got {type(parents).__name__}"]
    problems = []
    for child, ps in parents.items():
        if child not in nodes:
            problems.append(f"{child!r} is not a node of this graph (nodes: {', '.join(nodes)})")
        if isinstance(ps, str) or not all(isinstance(p, str) for p in ps):
            problems.append(f"the parents of {child!r} must be a list of node names, got {ps!r}")
            continue
        problems += [f"{p!r} (a parent of {child!r}) is not a node" for p in ps if p not in nodes]
    if problems:
        return problems
    edges = edges_of(parents)
    used = {n for e in edges for n in e}
    problems += [f"{n!r} is not connected to any other node" for n in nodes if n not in used]
    ancestors: dict[str, set[str]] = {n: set() for n in nodes}
    for _ in nodes:
        for p, c in edges:
            ancestors[c] |= {p} | ancestors[p]
    problems += [f"{n!r} depends on itself (a cycle)" for n in nodes if n in ancestors[n]]
    return problems


def graph_edge_problems(parents: Parents, expected: Parents) -> list[str]:
    """One sentence per missing or extra edge of ``parents`` against ``expected``."""
    got, want = set(edges_of(parents)), set(edges_of(expected))
    out = [
        f"missing edge {p} \u2192 {c}: {c} is computed from {p} "
        f"(its parents are {', '.join(expected[c])})"
        for p, c in edges_of(expected)
        if (p, c) not in got
    ]
    out += [
        f"extra edge {p} \u2192 {c}: the formula of {c} does not read {p}"
        if c in expected
        else f"extra edge {p} \u2192 {c}: {c} is an input, it has no parents"
        for p, c in edges_of(parents)
        if (p, c) not in want
    ]
    return out


def check_graph(
    name: str, parents: object, nodes: list[str], expected: Parents | None = None
) -> None:
    """Assert that ``parents`` is a well-formed graph on ``nodes`` and, when ``expected`` is
    given, that it has exactly the expected edges; the message names every wrong edge."""
    problems = graph_structure_problems(parents, nodes)
    if not problems and expected is not None:
        problems = graph_edge_problems(parents, expected)  # type: ignore[arg-type]
    if problems:
        raise AssertionError(f"{name}: " + "; ".join(problems))
