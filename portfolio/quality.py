"""Schedule-quality gate: the DCMA 14-point assessment, adapted to a monthly portfolio schedule.

Each check counts offending items out of a total and compares the share (or a count, or an
index) with a threshold; thresholds are the DCMA ones, with day thresholds turned into months
(44 working days = 2 months), and can be changed by name (docs/interop.md, "Quality checks").
Float, the critical path and CPLI come from the project's CPM (``portfolio.cpm``) on the
most-likely durations, seen from the scenario's status date. The schema has no baseline: "missed
tasks" and BEI take the finish months of an earlier plan (a run folder's schedule.csv) when given,
and are otherwise not applicable (n.a.), which never fails the gate.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .cpm import cpm, project_critical_path
from .load import parse_number
from .model import Portfolio
from .network import DONE, FUTURE, build_network
from .progress import progress_at

# name -> (default, what it bounds); "max %" checks pass when the share is at most the threshold.
THRESHOLDS: dict[str, float] = {
    "missing_logic": 5.0,  # max % of incomplete activities without a predecessor or successor
    "leads": 0.0,  # max % of links with a negative lag
    "lags": 5.0,  # max % of links with a positive lag
    "relationship_types": 90.0,  # min % of links that are finish-to-start
    "hard_constraints": 5.0,  # max % of incomplete activities under a hard deadline
    "high_float": 5.0,  # max % of incomplete activities with float above high_float_months
    "high_float_months": 2.0,  # 44 working days
    "negative_float": 0.0,  # max % of incomplete activities with float < 0 against their deadline
    "high_duration": 5.0,  # max % of incomplete activities longer than high_duration_months
    "high_duration_months": 24.0,  # 44 working days is a month and a half; a portfolio phase is judged at two years
    "invalid_dates": 0.0,  # max % of activities with actual dates after the status date
    "resources": 0.0,  # max % of incomplete activities with neither cost nor resources
    "critical_path_test": 0.0,  # max % of projects whose end does not move with a delay on their critical path
    "critical_path_test_months": 12.0,  # the delay added
    "cpli": 0.95,  # min critical path length index of every project
    "missed_tasks": 5.0,  # max % of activities due by the baseline that finished late or not at all
    "bei": 0.95,  # min baseline execution index: activities finished / activities due by the baseline
}
PARAMETERS = ("high_float_months", "high_duration_months", "critical_path_test_months")


@dataclass(frozen=True)
class Check:
    name: str
    count: int | None  # None: not applicable
    total: int
    threshold: str  # as shown, e.g. "<= 5%"
    passed: bool | None  # None: n.a.
    value: str = ""  # the % or index shown

    @property
    def result(self) -> str:
        return "n.a." if self.passed is None else ("pass" if self.passed else "FAIL")


def _share(name: str, count: int, total: int, limit: float, at_least: bool = False) -> Check:
    if total == 0:
        return Check(name, count, total, f"{'>=' if at_least else '<='} {limit:g}%", None, "-")
    count, total = int(count), int(total)  # plain ints: a numpy count would make ``passed`` a numpy bool, never ``is False``
    pct = 100.0 * count / total
    passed = pct >= limit - 1e-9 if at_least else pct <= limit + 1e-9
    return Check(name, count, total, f"{'>=' if at_least else '<='} {limit:g}%", passed, f"{pct:.1f}%")


def assess(portfolio: Portfolio, status: int, default_deadline: int, hard_deadlines: bool = False,
           thresholds: dict[str, float] | None = None, baseline: dict[str, int] | None = None) -> list[Check]:
    """The 14 checks in DCMA order; ``baseline``: activity id -> planned finish month of an earlier plan."""
    t = {**THRESHOLDS, **(thresholds or {})}
    net = build_network(portfolio, status, default_deadline)
    d = np.array([a.most_likely for a in portfolio.activities], dtype=float)
    result = cpm(net, d)
    open_ = net.state != DONE
    links = [(link, j) for j, a in enumerate(portfolio.activities) for link in a.predecessors]
    n_links = len(links)
    slack = (net.deadline_end - result.project_end)[net.project_of]  # float to the deadline beyond the project's end
    checks = [
        _share("missing logic", _missing_logic(portfolio, net, open_), int(open_.sum()), t["missing_logic"]),
        _share("leads", sum(1 for link, _ in links if link.lag < 0), n_links, t["leads"]),
        _share("lags", sum(1 for link, _ in links if link.lag > 0), n_links, t["lags"]),
        _share("relationship types (FS)", sum(1 for link, _ in links if link.kind == "FS"), n_links,
               t["relationship_types"], at_least=True),
        _share("hard constraints", int(open_.sum()) if hard_deadlines else 0, int(open_.sum()), t["hard_constraints"]),
        _share(f"high float (> {t['high_float_months']:g} months)",
               int((open_ & (result.total_float > t["high_float_months"] + 1e-9)).sum()), int(open_.sum()), t["high_float"]),
        _share("negative float", int((open_ & (result.total_float + slack < -1e-9)).sum()), int(open_.sum()),
               t["negative_float"]),
        _share(f"high duration (> {t['high_duration_months']:g} months)",
               int((open_ & (d > t["high_duration_months"] + 1e-9)).sum()), int(open_.sum()), t["high_duration"]),
        _share("invalid dates", _invalid_dates(portfolio, status), len(portfolio.activities), t["invalid_dates"]),
        _share("resources", sum(1 for a, o in zip(portfolio.activities, open_) if o and a.cost <= 0 and not a.resources),
               int(open_.sum()), t["resources"]),
        _missed_tasks(portfolio, status, baseline, t["missed_tasks"]),
        _critical_path_test(net, d, result, t),
        _cpli(net, result, t["cpli"]),
        _bei(portfolio, status, baseline, t["bei"]),
    ]
    return checks


def _missing_logic(portfolio: Portfolio, net, open_) -> int:
    """Incomplete activities without a predecessor or a successor, beyond one start and one finish per project."""
    has_pred = np.array([bool(a.predecessors) for a in portfolio.activities])
    has_succ = np.zeros(len(portfolio.activities), dtype=bool)
    index = {a.activity_id: i for i, a in enumerate(portfolio.activities)}
    for a in portfolio.activities:
        for link in a.predecessors:
            has_succ[index[link.predecessor]] = True
    count = 0
    for k in range(len(net.project_ids)):
        members = np.flatnonzero(net.project_of == k)
        open_members = members[open_[members]]
        if len(open_members) == 0:
            continue
        count += max(0, int((~has_pred[open_members]).sum()) - (0 if has_pred[members].all() else 1))
        count += max(0, int((~has_succ[open_members]).sum()) - (0 if has_succ[members].all() else 1))
    return count


def _invalid_dates(portfolio: Portfolio, status: int) -> int:
    """Activities whose actual dates lie after the status date (outcomes not yet known then)."""
    return sum(1 for a in portfolio.activities
               if (a.actual_start is not None and a.actual_start > status)
               or (a.actual_finish is not None and a.actual_finish > status))


def _critical_path_test(net, d, result, t) -> Check:
    """Delay the first unfinished activity of each project's critical path; the project end must move as much.

    A future activity's start is pushed back (so that the delay also travels through SS links); a running
    activity, whose start is history, gets the delay added to its duration.
    """
    delay = t["critical_path_test_months"]
    tested = failed = 0
    for k in range(len(net.project_ids)):
        path = [i for i in project_critical_path(net, result, k) if net.state[i] != DONE]
        if not path:
            continue
        tested += 1
        first, late, network = path[0], d.copy(), net
        if net.state[first] == FUTURE:
            earliest = net.earliest.copy()
            earliest[first] = result.early_start[first] + delay
            network = replace(net, earliest=earliest)
        else:
            late[first] += delay
        moved = cpm(network, late).project_end[k] - result.project_end[k]
        failed += int(abs(moved - delay) > 1e-6)
    check = _share("critical path test", failed, tested, t["critical_path_test"])
    return replace(check, name=f"critical path test (+{delay:g} months)")


def _cpli(net, result, limit: float) -> Check:
    """Critical path length index (CPL + float to the deadline) / CPL per project with work left; all must reach it."""
    index = []
    for k in range(len(net.project_ids)):
        members = net.project_of == k
        remaining = result.project_end[k]
        if remaining <= 0 or not (net.state[members] != DONE).any():
            continue
        index.append(net.deadline_end[k] / remaining)
    if not index:
        return Check("CPLI", 0, 0, f">= {limit:g}", None, "-")
    low = sum(1 for x in index if x < limit - 1e-9)
    return Check("CPLI (projects below)", low, len(index), f">= {limit:g}", low == 0, f"min {float(min(index)):.2f}")


def _finished(portfolio: Portfolio, status: int) -> dict[str, int]:
    """Activity id -> finish month of the activities finished at the status date (the one progress rule)."""
    return {a.activity_id: p.finish for a, p in zip(portfolio.activities, progress_at(portfolio, status))
            if p.state == DONE}


def _due(portfolio: Portfolio, status: int, baseline: dict[str, int]) -> list[str]:
    """Activities the baseline planned to finish before the status month."""
    return [a.activity_id for a in portfolio.activities if a.activity_id in baseline and baseline[a.activity_id] < status]


def _missed_tasks(portfolio: Portfolio, status: int, baseline: dict[str, int] | None, limit: float) -> Check:
    """Of the activities due by the baseline, those not finished, or finished after their baseline finish."""
    if baseline is None:
        return Check("missed tasks", None, 0, f"<= {limit:g}%", None, "no baseline")
    finished = _finished(portfolio, status)
    due = _due(portfolio, status, baseline)
    missed = sum(1 for aid in due if aid not in finished or finished[aid] > baseline[aid])
    return _share("missed tasks", missed, len(due), limit)


def _bei(portfolio: Portfolio, status: int, baseline: dict[str, int] | None, limit: float) -> Check:
    """Baseline execution index: activities finished by the status date / activities due by then."""
    if baseline is None:
        return Check("BEI", None, 0, f">= {limit:g}", None, "no baseline")
    due = len(_due(portfolio, status, baseline))
    done = len(_finished(portfolio, status))
    if due == 0:
        return Check("BEI", done, 0, f">= {limit:g}", None, "nothing due")
    index = done / due
    return Check("BEI", done, due, f">= {limit:g}", bool(index >= limit - 1e-9), f"{index:.2f}")


def table(checks: list[Check]) -> str:
    """The checks as a Markdown table: check, count, total, %, threshold, result."""
    rows = [["check", "count", "total", "% / index", "threshold", "result"], ["---"] * 6]
    for c in checks:
        rows.append([c.name, "-" if c.count is None else str(c.count), str(c.total) if c.count is not None else "-",
                     c.value, c.threshold, c.result])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def parse_thresholds(items: list[str] | tuple[str, ...]) -> dict[str, float]:
    """``name=value`` items -> thresholds; ValueError names the bad item."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in THRESHOLDS:
            raise ValueError(f"expected NAME=VALUE with NAME one of {', '.join(THRESHOLDS)}, got {item!r}")
        number = parse_number(value.strip())
        if number is None or not 0 <= number <= MAX_THRESHOLD:  # also refuses nan, which would switch a check off unseen
            raise ValueError(f"expected a number from 0 to {MAX_THRESHOLD:g} after {name}=, got {value.strip()!r}")
        out[name] = number
    return out


MAX_THRESHOLD = 1e6



def read_thresholds_file(path) -> dict[str, float]:
    """The NAME = VALUE thresholds of a TOML file (top level or under [quality]); ValueError says what is wrong."""
    import tomllib

    with open(path, "rb") as handle:
        loaded = tomllib.load(handle)  # its TOMLDecodeError is a ValueError
    loaded = loaded.get("quality", loaded)
    if not isinstance(loaded, dict):
        raise ValueError("expected NAME = VALUE lines, at the top level or under [quality]")
    return parse_thresholds([f"{k}={v}" for k, v in loaded.items()])


def read_baseline(run_dir) -> dict[str, int]:
    """Activity id -> planned finish month in a run folder's schedule.csv (the baseline of missed tasks and BEI)."""
    import csv
    from pathlib import Path

    from .errors import InputError, InputProblem
    from .months import parse_month

    path = Path(run_dir) / "schedule.csv"
    if not path.is_file():
        raise InputError(InputProblem(str(path), 0, 0, "no schedule.csv (expected a run folder of portfolio schedule or run)"))
    finishes = {}
    line = 1
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                finishes[row["activity_id"]] = parse_month(row["finish"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # UnicodeDecodeError is a ValueError
        raise InputError(InputProblem(str(path), line, 0, f"expected activity_id and finish (YYYY-MM): {exc}")) from None
    return finishes
