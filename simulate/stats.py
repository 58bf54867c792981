"""Statistics of a run, accumulated block by block in integers only.

Every figure in the output files is a ratio of integer sums, so the sums merge
exactly across blocks and workers and the files are byte-identical whatever the
split. The definitions are in docs/statistics.md.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from portfolio.months import format_month

from .model import DONE, SimModel
from .outcomes import Outcomes
from .sampling import Draws

PORTFOLIO = "PORTFOLIO"
PORTFOLIO_NAME = "全部项目"
QUANTILES = (50, 80, 90)
U_SCALE = 2**32  # fixed point of the duration percentile u in the sensitivity sums


@dataclass(eq=False)
class Accumulator:
    """Integer sums over iterations; ``merge`` adds another accumulator of the same model."""

    n: int  # iterations
    hist: np.ndarray  # (projects + 1, months) counts of finish months; last row: latest project finish
    all_on_time: int  # iterations with every project on time
    past: np.ndarray  # (projects + 1,) iterations in which the project (last: any project) ran past the horizon
    delay_sum: np.ndarray  # (projects + 1,) sums of delay months; last: sum of the largest delay per iteration
    on_path: np.ndarray  # (activities,) iterations on its project's driving path
    sens_t: np.ndarray  # (activities, months) sum of U by its project's finish month
    sens_s1: np.ndarray  # (activities,) sum of U
    sens_s2: np.ndarray  # (activities,) sum of U**2, Python ints (object array)
    risk_occ: np.ndarray  # (risks,) iterations in which it occurred
    risk_delay_occ: np.ndarray  # (risks,) sum of total delay months (all projects) when it occurred
    risk_delay_not: np.ndarray  # (risks,) the same when it did not
    # (projects + 1, ceil(n / 8)) uint8: bit i (little-endian bit order) = iteration i on time; last row: all
    # projects on time. Not a sum: merged in iteration order (the executors yield chunks in that order).
    on_time_bits: np.ndarray = None

    @classmethod
    def empty(cls, model: SimModel) -> "Accumulator":
        n, p, r, months = model.n, model.n_projects, model.n_risks, model.n_months
        zeros = lambda *shape: np.zeros(shape, dtype=np.int64)  # noqa: E731
        return cls(0, zeros(p + 1, months), 0, zeros(p + 1), zeros(p + 1), zeros(n), zeros(n, months), zeros(n),
                   np.array([0] * n, dtype=object), zeros(r), zeros(r), zeros(r), np.zeros((p + 1, 0), np.uint8))

    def merge(self, other: "Accumulator") -> "Accumulator":
        """Add ``other``, the accumulator of the iterations that follow this one's."""
        self.on_time_bits = concat_bits(self.on_time_bits, self.n, other.on_time_bits, other.n)
        self.n += other.n
        self.all_on_time += other.all_on_time
        for name in ("hist", "past", "delay_sum", "on_path", "sens_t", "sens_s1", "sens_s2", "risk_occ",
                     "risk_delay_occ", "risk_delay_not"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def equals(self, other: "Accumulator") -> bool:
        return self.n == other.n and self.all_on_time == other.all_on_time and all(
            np.array_equal(getattr(self, k), getattr(other, k))
            for k in ("hist", "past", "delay_sum", "on_path", "sens_t", "sens_s1", "sens_s2", "risk_occ",
                      "risk_delay_occ", "risk_delay_not", "on_time_bits"))


def concat_bits(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> np.ndarray:
    """Rows of packed bits: the n_a bits of ``a`` followed by the n_b bits of ``b`` (little-endian bit order)."""
    if n_a % 8 == 0:
        return np.concatenate([a[:, : n_a // 8], b], axis=1)
    bits = np.concatenate([np.unpackbits(a, axis=1, count=n_a, bitorder="little"),
                           np.unpackbits(b, axis=1, count=n_b, bitorder="little")], axis=1)
    return np.packbits(bits, axis=1, bitorder="little")


def project_finish(model: SimModel, end: np.ndarray) -> np.ndarray:
    """Relative finish month (month - status) of each project per iteration: ceil(latest end) - 1."""
    ptr = np.zeros(model.n_projects + 1, dtype=np.int64)
    np.cumsum([len(m) for m in model.members], out=ptr[1:])
    members = np.concatenate([np.asarray(m, dtype=np.int64) for m in model.members]) if model.members else []
    return _project_finish(np.ascontiguousarray(end), ptr, np.asarray(members, dtype=np.int64))


def project_past(model: SimModel, end: np.ndarray) -> np.ndarray:
    """(rows, P) True where the project has an activity not ended within the horizon (the engines end it at the
    horizon itself; an end reached inside the window is always earlier)."""
    cut = end >= model.horizon
    return np.stack([cut[:, list(m)].any(axis=1) for m in model.members], axis=1) if model.n_projects \
        else np.zeros((end.shape[0], 0), dtype=bool)


@njit(cache=True)
def _project_finish(end, ptr, members):
    out = np.empty((end.shape[0], ptr.shape[0] - 1), np.int64)
    for q in range(end.shape[0]):
        for p in range(ptr.shape[0] - 1):
            if ptr[p] == ptr[p + 1]:
                out[q, p] = -1
                continue
            latest = end[q, members[ptr[p]]]
            for t in range(ptr[p] + 1, ptr[p + 1]):
                latest = max(latest, end[q, members[t]])
            out[q, p] = np.int64(np.ceil(latest)) - 1
    return out


@njit(cache=True)
def _sensitivity_sums(u, idx, project_of, months):
    """Per activity, with U = rint(u * 2**32): the sums of U by its project's finish-month index, of U, and of
    hi * hi, hi * lo, lo * lo (U = hi * 2**16 + lo). Integers: the same sums in any order."""
    rows, n = u.shape
    sens_t = np.zeros((n, months), np.int64)
    sums = np.zeros((4, n), np.int64)
    for q in range(rows):
        for j in range(n):
            x = np.int64(np.rint(u[q, j] * U_SCALE))
            sens_t[j, idx[q, project_of[j]]] += x
            hi, lo = x >> 16, x & 0xFFFF
            sums[0, j] += x
            sums[1, j] += hi * hi
            sums[2, j] += hi * lo
            sums[3, j] += lo * lo
    return sens_t, sums


def accumulate(model: SimModel, draws: Draws, outcomes: Outcomes) -> Accumulator:
    """The integer sums of one block (or any range of iterations)."""
    rows = draws.size
    months = model.n_months
    acc = Accumulator.empty(model)
    acc.n = rows
    finish = project_finish(model, outcomes.end)  # (rows, P)
    past = project_past(model, outcomes.end)  # (rows, P)
    # Past the horizon the finish is unknown but later than the window: late, by at least what the window shows.
    delay = np.where(past, np.maximum(finish - model.deadline, 1), np.maximum(finish - model.deadline, 0))
    latest = finish.max(axis=1) if model.n_projects else np.full(rows, -1)
    idx = np.concatenate([finish, latest[:, None]], axis=1) - model.month_lo
    for p in range(model.n_projects + 1):
        acc.hist[p] = np.bincount(idx[:, p], minlength=months)
    on_time = np.concatenate([delay == 0, (delay == 0).all(axis=1)[:, None]], axis=1)  # (rows, P + 1)
    acc.all_on_time = int(on_time[:, -1].sum())
    acc.past[:-1] = past.sum(axis=0)
    acc.past[-1] = int(past.any(axis=1).sum()) if model.n_projects else 0
    acc.on_time_bits = np.packbits(on_time.T, axis=1, bitorder="little")
    acc.delay_sum[:-1] = delay.sum(axis=0)
    acc.delay_sum[-1] = int(delay.max(axis=1).sum()) if model.n_projects else 0
    acc.on_path = outcomes.on_path.sum(axis=0).astype(np.int64)

    acc.sens_t, sums = _sensitivity_sums(np.ascontiguousarray(draws.u), np.ascontiguousarray(idx),
                                         model.project_of.astype(np.int64), months)
    acc.sens_s1 = sums[0]
    s_hh, s_hl, s_ll = sums[1:]  # U**2 = hi**2 * 2**32 + hi*lo * 2**17 + lo**2, each sum fits int64
    acc.sens_s2 = np.array([(int(a) << 32) + (int(b) << 17) + int(c) for a, b, c in zip(s_hh, s_hl, s_ll)],
                           dtype=object)

    total = delay.sum(axis=1)
    occ = draws.occurred
    acc.risk_occ = occ.sum(axis=0).astype(np.int64)
    acc.risk_delay_occ = (occ * total[:, None]).sum(axis=0).astype(np.int64)
    acc.risk_delay_not = ((~occ) * total[:, None]).sum(axis=0).astype(np.int64)
    return acc


def _quantile(counts: np.ndarray, n: int, q: int) -> int:
    """Index of the smallest month m with count(finish <= m) * 100 >= q * n."""
    cum = np.cumsum(counts)
    return int(np.argmax(cum * 100 >= q * n))


def _rank_sums(counts: np.ndarray, n: int) -> tuple[list[int], int, int]:
    """Per finish month 2 * its mid-rank, the sum of 2R and the sum of (2R)^2 (the same for a whole project)."""
    counts = [int(c) for c in counts]
    twice_rank, below = [], 0
    for c in counts:  # 2 * mid-rank of a month = 2 * (iterations before it) + its count + 1
        twice_rank.append(2 * below + c + 1)
        below += c
    s_r = n * (n + 1)  # sum of 2R
    s_rr = sum(c * r * r for c, r in zip(counts, twice_rank))  # sum of (2R)^2
    return twice_rank, s_r, s_rr


def _spearman(t_row: np.ndarray, s1: int, s2: int, ranks: tuple[list[int], int, int], n: int) -> float:
    """Pearson correlation of U with the mid-rank of the finish month, from the integer sums (nan if undefined)."""
    twice_rank, s_r, s_rr = ranks
    s_ur = sum(int(t) * r for t, r in zip(t_row, twice_rank) if t)  # sum of U * 2R
    var_u = n * s2 - s1 * s1
    var_r = n * s_rr - s_r * s_r
    if var_u <= 0 or var_r <= 0:
        return math.nan
    return (n * s_ur - s1 * s_r) / math.sqrt(var_u * var_r)


def tables(acc: Accumulator, model: SimModel) -> dict[str, pd.DataFrame]:
    """The four output tables (raw ratios; ``write_outputs`` formats them) from the merged sums."""
    n = acc.n
    if n <= 0:
        raise ValueError("no iterations")
    lo, status = model.month_lo, model.status

    def month(index: int) -> str:
        return format_month(status + lo + index)

    sim_rows, dist_rows = [], []
    for p in range(model.n_projects + 1):
        counts = acc.hist[p]
        if p < model.n_projects:
            pid, name = model.project_ids[p], model.project_names[p]
            deadline = int(model.deadline[p])
            on_time = int(counts[: deadline - lo + 1].sum()) if deadline - lo + 1 > 0 else 0
            if deadline >= model.horizon - 1:  # the iterations past the horizon are in its last month: late
                on_time -= int(acc.past[p])
        else:
            pid, name = PORTFOLIO, PORTFOLIO_NAME
            deadline = int(model.deadline.max()) if model.n_projects else -1
            on_time = acc.all_on_time
        sim_rows.append({
            "project_id": pid,
            "name_zh": name,
            "deadline": format_month(status + deadline),
            "p_on_time": on_time / n,
            **{f"finish_p{q}": month(_quantile(counts, n, q)) for q in QUANTILES},
            "mean_delay_months": int(acc.delay_sum[p]) / n,
        })
        cum = np.cumsum(counts)
        for index in np.flatnonzero(counts):
            dist_rows.append({"project_id": pid, "month": month(int(index)), "p_finished": int(cum[index]) / n})

    crit_rows = []
    ranks = {}  # per project: its finish months' ranks
    for j, aid in enumerate(model.activity_ids):
        p = int(model.project_of[j])
        fixed = model.state[j] == DONE or model.o[j] == model.p[j]
        if not fixed and p not in ranks:
            ranks[p] = _rank_sums(acc.hist[p], n)
        sens = math.nan if fixed else _spearman(acc.sens_t[j], int(acc.sens_s1[j]), int(acc.sens_s2[j]),
                                                 ranks[p], n)
        crit_rows.append({"activity_id": aid, "project_id": model.project_ids[p],
                          "criticality": int(acc.on_path[j]) / n, "sensitivity": sens})

    risk_rows = []
    for r, rid in enumerate(model.risk_ids):
        occ = int(acc.risk_occ[r])
        d_occ = int(acc.risk_delay_occ[r]) / occ if occ else math.nan
        d_not = int(acc.risk_delay_not[r]) / (n - occ) if n - occ else math.nan
        risk_rows.append({"risk_id": rid, "name": model.risk_names[r], "probability": float(model.risk_prob[r]),
                          "occurred": occ / n, "mean_delay_if_occurs": d_occ, "mean_delay_if_not": d_not,
                          "contribution_months": d_occ - d_not})

    columns = {
        "simulation.csv": ["project_id", "name_zh", "deadline", "p_on_time", "finish_p50", "finish_p80",
                           "finish_p90", "mean_delay_months"],
        "criticality.csv": ["activity_id", "project_id", "criticality", "sensitivity"],
        "risks.csv": ["risk_id", "name", "probability", "occurred", "mean_delay_if_occurs", "mean_delay_if_not",
                      "contribution_months"],
        "distribution.csv": ["project_id", "month", "p_finished"],
    }
    rows = {"simulation.csv": sim_rows, "criticality.csv": crit_rows, "risks.csv": risk_rows,
            "distribution.csv": dist_rows}
    return {name: pd.DataFrame(rows[name], columns=cols) for name, cols in columns.items()}


def iterations_table(acc: Accumulator, model: SimModel) -> pd.DataFrame:
    """iterations.csv: per project (and PORTFOLIO) whether each iteration was on time, as base64 of the bits
    packed 8 to a byte (iteration i is bit i % 8 of byte i // 8, least significant bit first): what a paired
    comparison of two runs that share random numbers needs (docs/reports.md)."""
    ids = list(model.project_ids) + [PORTFOLIO]
    bits = [base64.b64encode(row.tobytes()).decode("ascii") for row in acc.on_time_bits]
    return pd.DataFrame({"project_id": ids, "iterations": [acc.n] * len(ids), "on_time_bits": bits})


# Decimals of each number column in the files.
DECIMALS = {
    "p_on_time": 4, "mean_delay_months": 2, "criticality": 4, "sensitivity": 4, "probability": 4,
    "occurred": 4, "mean_delay_if_occurs": 2, "mean_delay_if_not": 2, "contribution_months": 2, "p_finished": 4,
}


def _fixed(value, decimals: int) -> str:
    if value != value:
        return ""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.00"


def formatted(df: pd.DataFrame) -> pd.DataFrame:
    """Number columns as fixed-decimal text (empty when undefined), so the bytes depend only on the sums."""
    out = df.copy()
    for column, decimals in DECIMALS.items():
        if column in out.columns:
            out[column] = [_fixed(v, decimals) for v in out[column]]
    return out
