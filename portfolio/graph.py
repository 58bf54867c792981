"""Topological order and cycle finding for the activity network."""
from __future__ import annotations

from collections.abc import Iterable, Sequence


def topological_order(n: int, edges: Iterable[tuple[int, int]]) -> list[int] | None:
    """Kahn's algorithm, smallest index first among ready nodes (so the order is stable); None on a cycle."""
    import heapq

    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for a, b in edges:
        succ[a].append(b)
        indeg[b] += 1
    ready = [i for i in range(n) if indeg[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(ready, j)
    return order if len(order) == n else None


def find_cycles(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """One cycle per strongly connected component that has one, each as a node list in link order."""
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
    # Tarjan's algorithm, iterative.
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if k < len(succ[v]):
                work.append((v, k + 1))
                w = succ[v][k]
                if index[w] == -1:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                self_loop = v in succ[v]
                if len(comp) > 1 or self_loop:
                    components.append(comp)
    return [_cycle_in(sorted(c), succ) for c in sorted(components, key=min)]


def _cycle_in(component: Sequence[int], succ: list[list[int]]) -> list[int]:
    """Walk from the smallest node inside its component until a node repeats."""
    members = set(component)
    path, seen = [], {}
    v = component[0]
    while v not in seen:
        seen[v] = len(path)
        path.append(v)
        v = min(w for w in succ[v] if w in members)
    return path[seen[v]:]
