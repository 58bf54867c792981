"""The optimizer's answer (``Plan``) and the three tables of the run folder built from it."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portfolio.funding import effective_caps
from portfolio.model import Portfolio
from portfolio.months import format_month, year_of
from portfolio.network import Network

from .status import SolveStatus

OBJECTIVE_LABELS = {
    "weighted_lateness": "priority-weighted months late",
    "weighted_finish": "priority-weighted sum of project end months",
    "makespan": "months until the last activity ends",
    "weighted_on_time": "priority-weighted number of projects on time",
}


@dataclass(frozen=True)
class StageReport:
    """One objective of a lexicographic solve: its value, the best bound proven, and whether it is optimal."""

    name: str
    sense: str  # "min" or "max"
    value: float
    bound: float
    optimal: bool
    seconds: float
    deterministic_time: float = 0.0

    @property
    def gap(self) -> float:
        return abs(self.value - self.bound) / max(1.0, abs(self.value))

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "sense": self.sense,
            "value": round(self.value, 6),
            "bound": round(self.bound, 6),
            "gap": round(self.gap, 6),
            "optimal": self.optimal,
            "seconds": round(self.seconds, 3),
            "deterministic_time": round(self.deterministic_time, 3),
        }


@dataclass(frozen=True)
class SpendRow:
    year: int
    source: str
    spend: float  # 亿元 from t = 0 on
    cap: float | None  # effective cap (the status year prorated); None = unlimited


@dataclass(frozen=True)
class Plan:
    network: Network
    durations: np.ndarray  # whole-month estimate per activity (portfolio order)
    start: np.ndarray  # relative months (t = 0 is the status month)
    end: np.ndarray  # start + duration (a running activity: max(start + d, 1); done: actual)
    status: SolveStatus  # OPTIMAL or FEASIBLE
    objective_name: str  # the objective that decides status and gap (see docs/optimizer.md)
    objective: float
    best_bound: float
    gap: float
    seconds: float
    spend: tuple[SpendRow, ...]
    stages: tuple[StageReport, ...] = ()
    objective_mode: str = "lateness"
    hard_deadlines: bool = False
    notes: tuple[str, ...] = field(default=())
    deterministic_budget: float | None = None  # CP-SAT deterministic time the search was allowed
    deterministic_time: float = 0.0  # and used, over all stages
    workers: int = 1
    reproducible: bool = True  # False when the wall-clock safety net, not the deterministic budget, stopped it

    def project_end(self) -> np.ndarray:
        """Per project: the t at which its last activity ends (-inf for a project without activities)."""
        ends = np.full(len(self.network.project_ids), -np.inf)
        np.maximum.at(ends, self.network.project_of, self.end.astype(float))
        return ends

    def planned_starts(self) -> dict[str, int]:
        """activity_id -> absolute planned start month, as the simulator takes it."""
        return {aid: self.network.status + int(s) for aid, s in zip(self.network.activity_ids, self.start)}

    def lateness(self) -> np.ndarray:
        ends = self.project_end()
        return np.where(np.isfinite(ends), np.maximum(ends - self.network.deadline_end, 0), 0).astype(np.int64)

    def optimizer_summary(self) -> dict:
        """What goes into manifest.json under ``optimizer``."""
        return {
            "status": self.status,
            "objective_mode": self.objective_mode,
            "objective_name": self.objective_name,
            "objective": round(self.objective, 6),
            "best_bound": round(self.best_bound, 6),
            "gap": round(self.gap, 6),
            "seconds": round(self.seconds, 3),
            "hard_deadlines": self.hard_deadlines,
            "deterministic_budget": self.deterministic_budget,
            "deterministic_time": round(self.deterministic_time, 3),
            "workers": self.workers,
            "reproducible": self.reproducible,
            "stages": [s.as_dict() for s in self.stages],
            "notes": list(self.notes),
        }


def objective_values(network: Network, end: np.ndarray) -> dict[str, float]:
    """Every objective, in the planner's units (float priorities, months), of a plan with these ends."""
    ends = np.full(len(network.project_ids), -np.inf)
    np.maximum.at(ends, network.project_of, end.astype(float))
    has = np.isfinite(ends)
    e = np.where(has, ends, 0.0)
    w = network.priority
    late = np.maximum(e - network.deadline_end, 0) * has
    return {
        "weighted_lateness": float(np.sum(w * late)),
        "weighted_finish": float(np.sum(w * e * has)),
        "makespan": float(end.max()) if len(end) else 0.0,
        "weighted_on_time": float(np.sum(w * ((e <= network.deadline_end) & has))),
    }


def spend_table(portfolio: Portfolio, status: int, start, end, include_caps: bool = True) -> tuple[SpendRow, ...]:
    """Spend per (year, source) from t = 0 on, with the effective caps; sorted by year, then source."""
    spend: dict[tuple[int, str], float] = defaultdict(float)
    for a, s, e in zip(portfolio.activities, start, end):
        s, e = int(s), int(e)
        if a.cost <= 0 or e <= s:
            continue
        rate = a.cost / (e - s)
        for t in range(max(0, s), e):
            spend[(year_of(status + t), a.funding_source)] += rate
    caps = effective_caps(portfolio, status) if include_caps else {}
    keys = sorted(set(spend) | set(caps))
    return tuple(SpendRow(y, src, spend.get((y, src), 0.0), caps.get((y, src))) for y, src in keys)


def _month(network: Network, t: int) -> str:
    return format_month(network.status + int(t))


def schedule_frame(portfolio: Portfolio, plan: Plan) -> pd.DataFrame:
    net = plan.network
    rows = []
    for i, a in enumerate(portfolio.activities):
        s, e = int(plan.start[i]), int(plan.end[i])
        rows.append({
            "activity_id": a.activity_id,
            "project_id": a.project_id,
            "name": a.name,
            "start": _month(net, s),
            "finish": _month(net, e - 1),
            "duration": e - s,
            "cost": a.cost,
            "funding_source": a.funding_source,
        })
    return pd.DataFrame(rows, columns=["activity_id", "project_id", "name", "start", "finish", "duration", "cost", "funding_source"])


def projects_frame(portfolio: Portfolio, plan: Plan) -> pd.DataFrame:
    net = plan.network
    ends = plan.project_end()
    rows = []
    for k, p in enumerate(portfolio.projects):
        has = bool(np.isfinite(ends[k]))
        end = int(ends[k]) if has else 0
        late = max(0, end - int(net.deadline_end[k])) if has else 0
        rows.append({
            "project_id": p.project_id,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
            "category": p.category,
            "lead_agency": p.lead_agency,
            "priority": p.priority,
            "planned_finish": _month(net, end - 1) if has else "",
            "deadline": _month(net, int(net.deadline_end[k]) - 1),
            "on_time": "true" if late == 0 else "false",
            "lateness_months": late,
        })
    return pd.DataFrame(rows, columns=["project_id", "name_zh", "name_en", "category", "lead_agency", "priority",
                                       "planned_finish", "deadline", "on_time", "lateness_months"])


def funding_frame(plan: Plan) -> pd.DataFrame:
    rows = [
        {"year": r.year, "source": r.source, "spend": round(r.spend + 0.0, 2) + 0.0,
         "cap": None if r.cap is None else round(r.cap, 4)}
        for r in plan.spend
    ]
    df = pd.DataFrame(rows, columns=["year", "source", "spend", "cap"])
    df["cap"] = df["cap"].astype("Float64")
    return df
