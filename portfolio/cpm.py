"""Critical path method on a duration vector, with the month conventions of ``network``.

Starts fall on month boundaries (whole months); ends are start + duration. For
activity j and each binding link from i with lag L:

    FS: start_j >= ceil(end_i + L)        SS: start_j >= start_i + L
    FF: start_j >= ceil(end_i + L - d_j)  SF: start_j >= ceil(start_i + L - d_j)

and start_j >= max(0, earliest_start_j). Done activities keep their actual
dates; a running one keeps its actual start and ends at max(start + d, 1): at
least its status month of work is left. Late dates are taken against each
project's own early finish, so float 0 marks the critical activities of each
project.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .network import DONE, FUTURE, RUNNING, Network

_EPS = 1e-9
NO_DRIVER = -1


@dataclass(frozen=True)
class CpmResult:
    early_start: np.ndarray
    early_finish: np.ndarray  # end time (t), not the finish month
    late_start: np.ndarray
    late_finish: np.ndarray
    total_float: np.ndarray
    driver: np.ndarray  # per activity: index of the binding link that set its early start, or NO_DRIVER
    project_end: np.ndarray  # per project: latest early_finish of its activities

    def critical(self) -> np.ndarray:
        return np.abs(self.total_float) < 1e-6


def _ceil(x: float) -> int:
    return math.ceil(x - _EPS)


def cpm(network: Network, durations) -> CpmResult:
    d = np.asarray(durations, dtype=float)
    n = network.n
    es = np.zeros(n)
    ef = np.zeros(n)
    driver = np.full(n, NO_DRIVER, dtype=np.int64)
    incoming: list[list[int]] = [[] for _ in range(n)]
    outgoing: list[list[int]] = [[] for _ in range(n)]
    for k, j in enumerate(network.succ):
        incoming[j].append(k)
        outgoing[network.pred[k]].append(k)

    for j in network.order:
        if network.state[j] == DONE:
            es[j], ef[j] = network.fixed_start[j], network.fixed_end[j]
            continue
        if network.state[j] == RUNNING:
            es[j] = network.fixed_start[j]
            ef[j] = max(es[j] + d[j], 1.0)
            continue
        start = float(network.earliest[j])
        for k in incoming[j]:
            bound = _link_bound(network.kind[k], es[network.pred[k]], ef[network.pred[k]], network.lag[k], d[j])
            if bound >= start:
                if bound > start or driver[j] == NO_DRIVER:
                    driver[j] = k
                start = bound
        es[j], ef[j] = start, start + d[j]

    project_end = np.full(len(network.project_ids), -np.inf)
    np.maximum.at(project_end, network.project_of, ef)

    lf = project_end[network.project_of].copy()
    ls = np.zeros(n)
    for i in reversed(network.order):
        if network.state[i] != FUTURE:
            ls[i], lf[i] = es[i], ef[i]
            continue
        for k in outgoing[i]:
            j = network.succ[k]
            lag = network.lag[k]
            kind = network.kind[k]
            if kind == 0:  # FS
                lf[i] = min(lf[i], ls[j] - lag)
            elif kind == 1:  # SS
                lf[i] = min(lf[i], ls[j] - lag + d[i])
            elif kind == 2:  # FF
                lf[i] = min(lf[i], lf[j] - lag)
            else:  # SF
                lf[i] = min(lf[i], lf[j] - lag + d[i])
        ls[i] = math.floor(lf[i] - d[i] + _EPS)
        lf[i] = ls[i] + d[i]
    return CpmResult(es, ef, ls, lf, ls - es, driver, project_end)


def _link_bound(kind: int, pred_start: float, pred_end: float, lag: int, duration: float) -> float:
    if kind == 0:
        return _ceil(pred_end + lag)
    if kind == 1:
        return pred_start + lag
    if kind == 2:
        return _ceil(pred_end + lag - duration)
    return _ceil(pred_start + lag - duration)


def driving_path(network: Network, result: CpmResult, last: int) -> list[int]:
    """Activities whose links set the early start of ``last``, traced back; first activity first."""
    path = [last]
    while result.driver[path[-1]] != NO_DRIVER:
        path.append(int(network.pred[result.driver[path[-1]]]))
    return path[::-1]


def project_critical_path(network: Network, result: CpmResult, project: int) -> list[int]:
    members = np.flatnonzero(network.project_of == project)
    last = members[np.argmax(result.early_finish[members])]
    return driving_path(network, result, int(last))


def portfolio_critical_path(network: Network, result: CpmResult) -> list[int]:
    return driving_path(network, result, int(np.argmax(result.early_finish)))
