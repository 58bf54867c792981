"""Backtest: what happened to each project, the scores of a forecast made as of the status date, and its report.

The forecast itself (plan and simulation with only what was known then) and the backtest folder are made by
runs/backtest.py; this module scores and renders them. The rules (docs/backtest.md):

- **What the model sees.** ``known_at(portfolio, status)`` (portfolio/known.py) blanks every
  actual date in or after the status month (a start in or after it: the activity had not
  started; a finish in or after it: it was still running), and the stated progress when the
  data's as-of month is not before it. The network view (portfolio.network) applies the same
  rule; the backtest blanks them as well, so that no later stage can see them. It also drops
  every figure whose ``known_since`` is after the status date (activities with their links,
  earliest starts, risk versions) and takes each deadline as known then (deadlines.csv).
- **What happened** (the truth) comes from the full data. What finished, and when, is decided
  by the one progress rule (``portfolio.progress.progress_at`` with every actual date known),
  the same rule the network applies at a status date. A project whose activities are all
  finished finished in the latest finish month of its activities; it is on time when that
  month is not after its deadline *as known at the status date* (the target the forecast was
  made for). Otherwise it is *still open at
  the status of the data*, whose date ``as_of`` is the latest actual date anywhere in the
  data (or given). An open project is late when ``as_of`` is after its deadline and the data
  followed it: it records an actual date of the project, or a revision of its deadline, after
  the status date. Its outcome is unknown otherwise, and also when it is open only through
  final activities whose source says "completion not found" (the data does not follow them).
  A project that had finished before the status date is listed but not scored: there was
  nothing left to forecast.
- **Scores** (report/scoring.py) over the projects with a known outcome: Brier score, log
  score, calibration table, and the two naive baselines.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio.model import Portfolio
from portfolio.months import format_month, year_of
from portfolio.known import deadline_at, known_at
from portfolio.network import resolve_deadline
from portfolio.progress import DONE, progress_at, project_finish

from . import scoring

ON_TIME, LATE, UNKNOWN = "true", "false", "unknown"
COMPLETION_NOT_FOUND = "completion not found"  # in an activity's source: the data does not follow its finish
CHARTS = (
    ("forecast-vs-actual", "Forecast against what happened, per project"),
    ("calibration", "Calibration: forecast P(on time) against the observed frequency"),
)
BACKTEST_COLUMNS = ["project_id", "name_zh", "deadline", "p_on_time", "finish_p50", "finish_p80", "finish_p90",
                    "actual_finish", "on_time", "scored", "squared_error", "p_finished_by_actual", "note"]


# -- what happened -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    project_id: str
    deadline: int  # absolute month
    finish: int | None  # absolute month of the actual finish; None while open
    on_time: bool | None  # None: unknown
    scored: bool
    note: str

    @property
    def label(self) -> str:
        return UNKNOWN if self.on_time is None else ON_TIME if self.on_time else LATE


def project_outcomes(portfolio: Portfolio, status: int, default_deadline: int, as_of: int | None) -> list[Outcome]:
    """What happened to each project, by the rules of the module docstring (from the full data)."""
    progress = progress_at(portfolio, None)
    known = {p.project_id for p in known_at(portfolio, status).projects}  # the projects the forecast sees
    out = []
    for p in portfolio.projects:
        deadline = resolve_deadline(deadline_at(portfolio, p.project_id, status), default_deadline)
        if p.project_id not in known:
            out.append(Outcome(p.project_id, deadline, None, None, False,
                               "not known at the status date (every row's known_since is later): nothing was "
                               "forecast, not scored"))
            continue
        acts = portfolio.activities_of(p.project_id)
        finish = project_finish(portfolio, progress, p.project_id)
        if finish is not None:
            on_time = finish <= deadline
            implied = sum(q.inferred for a, q in zip(portfolio.activities, progress) if a.project_id == p.project_id)
            how = f"finished {format_month(finish)}" + (
                f" ({implied} phase(s) without an actual finish are taken as finished by the progress rule)"
                if implied else "")
            if finish < status:
                out.append(Outcome(p.project_id, deadline, finish, on_time, False,
                                   f"{how}, before the status date: nothing to forecast, not scored"))
            else:
                out.append(Outcome(p.project_id, deadline, finish, on_time, True, how))
            continue
        followed = any(d is not None and d >= status for a in acts for d in (a.actual_start, a.actual_finish)) or any(
            d.project_id == p.project_id and d.known_since is not None and d.known_since >= status
            for d in portfolio.deadlines)
        untracked = _untracked_open_activities(portfolio, progress, p.project_id)
        if as_of is not None and as_of > deadline and followed and untracked:
            out.append(Outcome(p.project_id, deadline, None, None, False,
                               f"unknown: open only through {', '.join(untracked)}, whose completion the data does not "
                               f"record (\"{COMPLETION_NOT_FOUND}\"), so the data cannot say it is still open"))
        elif as_of is not None and as_of > deadline and followed:
            out.append(Outcome(p.project_id, deadline, None, False, True,
                               f"still open at the data's as-of date {format_month(as_of)}, after its deadline"))
        elif as_of is not None and as_of > deadline:
            out.append(Outcome(p.project_id, deadline, None, None, False,
                               "unknown: the data records no actual date of it after the status date"))
        else:
            when = format_month(as_of) if as_of is not None else "(none)"
            out.append(Outcome(p.project_id, deadline, None, None, False,
                               f"unknown: still open at the data's as-of date {when}, which is not after its deadline"))
    return out


def _untracked_open_activities(portfolio: Portfolio, progress, project_id: str) -> list[str]:
    """The project's unfinished final activities (none of the project depends on them) when every one of them says
    "completion not found" in its source, else []. Their finish would finish the project (the progress rule's
    project completion), so the data cannot tell whether the project is still open."""
    mine = [(a, q) for a, q in zip(portfolio.activities, progress) if a.project_id == project_id]
    needed = {link.predecessor for a, _ in mine for link in a.predecessors}
    open_finals = [a for a, q in mine if a.activity_id not in needed and q.state != DONE]
    if open_finals and all(COMPLETION_NOT_FOUND in a.source.lower() for a in open_finals):
        return [a.activity_id for a in open_finals]
    return []


# -- the backtest --------------------------------------------------------------------------------

@dataclass(eq=False)
class BacktestResult:
    settings: object
    status: int
    as_of: int | None
    table: pd.DataFrame  # backtest.csv (raw values)
    calibration: pd.DataFrame
    scores: dict
    simulation: object = field(repr=False)  # simulate.SimulationResult
    plan_summary: dict = field(default_factory=dict)

    @property
    def scored(self) -> pd.DataFrame:
        return self.table[self.table["scored"]]


def _cdf_at(distribution: pd.DataFrame, project_id: str, month: int) -> float:
    """Forecast probability that the project has finished by the end of ``month``."""
    rows = distribution[distribution["project_id"] == project_id]
    best = 0.0
    for m, p in zip(rows["month"], rows["p_finished"]):
        if _month(m) <= month:
            best = max(best, float(p))
    return best


def _month(text: str) -> int:
    from portfolio.months import parse_month

    return parse_month(str(text))


def score_forecasts(portfolio: Portfolio, settings, simulation, as_of: int | None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """backtest.csv, calibration.csv and scores.json contents from a simulation result and the data's outcomes."""
    sim = simulation.simulation.set_index("project_id")
    dist = simulation.distribution
    rows = []
    for o in project_outcomes(portfolio, settings.status_date, settings.deadline, as_of):
        if o.project_id not in sim.index:  # none of its activities was known at the status date: no forecast
            o = dataclasses.replace(o, scored=False, note=f"not known at the status date (no forecast); {o.note}")
            f = {"p_on_time": math.nan, "finish_p50": "", "finish_p80": "", "finish_p90": ""}
        else:
            f = sim.loc[o.project_id]
        p = float(f["p_on_time"])
        known = o.on_time is not None and o.scored
        rows.append({
            "project_id": o.project_id,
            "name_zh": portfolio.project(o.project_id).name_zh,
            "deadline": format_month(o.deadline),
            "p_on_time": p,
            "finish_p50": f["finish_p50"],
            "finish_p80": f["finish_p80"],
            "finish_p90": f["finish_p90"],
            "actual_finish": format_month(o.finish) if o.finish is not None else "open",
            "on_time": o.label,
            "scored": bool(known),
            "squared_error": (p - float(o.on_time)) ** 2 if known else math.nan,
            "p_finished_by_actual": _cdf_at(dist, o.project_id, o.finish) if o.finish is not None and o.scored
            else math.nan,
            "note": o.note,
        })
    table = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    scored = table[table["scored"]]
    forecasts = scored["p_on_time"].to_numpy(float)
    outcomes = (scored["on_time"] == ON_TIME).to_numpy(float)
    result = scoring.scores(forecasts, outcomes)
    calibration = scoring.calibration_frame(forecasts, outcomes)
    result.update({
        "scenario": settings.name,
        "status_date": format_month(settings.status_date),
        "deadline": format_month(settings.deadline),
        "data_as_of": format_month(as_of) if as_of is not None else None,
        "projects": len(table),
        "scored_projects": list(scored["project_id"]),
        "not_scored": {r.project_id: r.note for r in table.itertuples() if not r.scored},
        "beats_all_on_time": bool(result["brier"] < result["naive_all_on_time"]["brier"]) if len(scored) else None,
        "beats_base_rate": bool(result["brier"] < result["naive_base_rate"]["brier"]) if len(scored) else None,
    })
    return table, calibration, result


# -- text ----------------------------------------------------------------------------------------

def _f(x: float, digits: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def verdict(scores: dict) -> str:
    """One plain sentence: does the model beat both naive forecasts on the Brier score?"""
    if not scores.get("n"):
        return "No project has a known outcome: nothing was scored."
    b, a, r = scores["brier"], scores["naive_all_on_time"]["brier"], scores["naive_base_rate"]["brier"]
    if b < a and b < r:
        return f"The model's Brier score {b:.3f} beats both naive forecasts ({a:.3f} every project on time, " \
               f"{r:.3f} base rate)."
    lost = [name for name, v in (("every project on time", a), ("the base rate", r)) if b >= v]
    return f"The model's Brier score {b:.3f} does NOT beat {' nor '.join(lost)} " \
           f"({a:.3f} every project on time, {r:.3f} base rate); see docs/backtest.md for why."


def summary_text(result: BacktestResult) -> str:
    s = result.scores
    lines = [f"backtest {s['scenario']}: forecast as of {s['status_date']}, outcomes as of {s['data_as_of']}, "
             f"{s['n']} of {s['projects']} projects scored ({s['events']} on time)"]
    width = max(len(r) for r in result.table["project_id"])
    lines.append(f"{'project':<{width}}  deadline  p_on_time  P50      P80      actual   on_time  sq_error")
    for r in result.table.itertuples(index=False):
        lines.append(f"{r.project_id:<{width}}  {r.deadline:<8}  {r.p_on_time:<9.4f}  {r.finish_p50}  {r.finish_p80}  "
                     f"{r.actual_finish:<7}  {r.on_time:<7}  {_f(r.squared_error, 4) if r.scored else '—'}")
    lines.append(f"Brier score      model {_f(s['brier'], 4)}   every project on time "
                 f"{_f(s['naive_all_on_time']['brier'], 4)}   base rate ({_f(s['base_rate'], 3)}) "
                 f"{_f(s['naive_base_rate']['brier'], 4)}")
    lines.append(f"log score (ln)   model {_f(s['log_score'], 4)}   every project on time "
                 f"{_f(s['naive_all_on_time']['log_score'], 4)}   base rate {_f(s['naive_base_rate']['log_score'], 4)}")
    lines.append(verdict(s))
    return "\n".join(lines)


def formatted_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["p_on_time"] = [f"{v:.4f}" for v in out["p_on_time"]]
    out["squared_error"] = ["" if math.isnan(v) else f"{v:.4f}" for v in out["squared_error"]]
    out["p_finished_by_actual"] = ["" if math.isnan(v) else f"{v:.4f}" for v in out["p_finished_by_actual"]]
    out["scored"] = ["yes" if v else "no" for v in out["scored"]]
    return out


def formatted_calibration(cal: pd.DataFrame) -> pd.DataFrame:
    out = cal.copy()
    for c in ("lower", "upper"):
        out[c] = [f"{v:.1f}" for v in out[c]]
    for c in ("mean_forecast", "observed_frequency"):
        out[c] = ["" if math.isnan(v) else f"{v:.4f}" for v in out[c]]
    return out


def json_ready(value):
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


# -- charts --------------------------------------------------------------------------------------

def _chart_forecast_vs_actual(result: BacktestResult):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from .charts import DEADLINE, GOOD, GRID, INK, MUTED, POOR, percent, short

    t = result.table[~((~result.table["scored"]) & (result.table["actual_finish"] != "open"))]  # not: done before
    t = t.iloc[::-1]
    n = len(t)
    fig = Figure(figsize=(10.0, 0.42 * n + 1.6), layout="constrained")
    ax = fig.add_subplot()
    status = result.status
    as_of = result.as_of
    scored = t[t["scored"]]
    months = [_month(m) for m in list(scored["finish_p90"]) + list(scored["deadline"])]
    months += [_month(m) for m in t["actual_finish"] if m != "open"]
    if as_of is not None:
        months.append(as_of)
    lo, hi = status, max(months or [status + 60]) + 6
    for y, r in enumerate(t.itertuples(index=False)):
        p50, p80, p90 = _month(r.finish_p50) + 0.5, _month(r.finish_p80) + 0.5, _month(r.finish_p90) + 0.5
        if p50 > hi:  # beyond the axis (a project far after the others): say where
            ax.annotate(f"P50 {r.finish_p50} →", (hi, y), xytext=(-4, 0), textcoords="offset points",
                        ha="right", va="center", fontsize=8, color=MUTED)
        ax.plot([p50, p90], [y, y], color=MUTED, linewidth=1.2, zorder=2, clip_on=True)
        ax.plot([p50, p80], [y, y], color="#90a4ae", linewidth=7, solid_capstyle="butt", zorder=2, clip_on=True)
        if p50 <= hi:
            ax.plot([p50], [y], marker="|", color=INK, markersize=12, zorder=3)
        d = _month(r.deadline) + 1
        if d <= hi:
            ax.plot([d, d], [y - 0.38, y + 0.38], color=DEADLINE, linewidth=1.6, zorder=3)
        colour = GOOD if r.on_time == ON_TIME else POOR if r.on_time == LATE else MUTED
        if r.actual_finish != "open":
            ax.plot([_month(r.actual_finish) + 0.5], [y], marker="D", color=colour, markersize=8, zorder=4,
                    markeredgecolor="white")
        elif as_of is not None:
            ax.plot([as_of + 0.5], [y], marker=">", color=colour, markersize=9, zorder=4, markeredgecolor="white")
        ax.text(hi + 0.5, y, f"{percent(r.p_on_time, 0)}", va="center", ha="left", fontsize=8.5,
                color=colour if r.scored else MUTED)
    labels = [f"{short(r.name_zh, 30)}  {r.project_id}" for r in t.itertuples(index=False)]
    ax.set_yticks(range(n), labels)
    for tick, r in zip(ax.get_yticklabels(), t.itertuples(index=False)):
        if not r.scored:
            tick.set_color(MUTED)
    years = range(year_of(lo), year_of(hi) + 1)
    step = 1 if len(years) <= 12 else 2
    ax.set_xlim(lo, hi)
    ax.set_xticks([y * 12 for y in years if lo <= y * 12 <= hi and y % step == 0],
                  [str(y) for y in years if lo <= y * 12 <= hi and y % step == 0])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_ylim(-0.7, n - 0.3)
    if as_of is not None:
        ax.axvline(as_of + 1, color=MUTED, linewidth=0.8, linestyle=":")
    ax.set_title(f"Forecast as of {format_month(status)} (P50 to P80 bar, whisker to P90) against the actual "
                 f"finish; right: P(on time)")
    handles = [
        Line2D([], [], color="#90a4ae", linewidth=7, label="forecast P50–P80"),
        Line2D([], [], color=DEADLINE, linewidth=1.6, label="deadline (end of month)"),
        Line2D([], [], marker="D", color=GOOD, linestyle="", label="finished on time"),
        Line2D([], [], marker="D", color=POOR, linestyle="", label="finished late"),
        Line2D([], [], marker=">", color=POOR, linestyle="", label="still open at the data's date, late"),
        Line2D([], [], marker=">", color=MUTED, linestyle="", label="open, outcome unknown (not scored)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
    return fig


def _chart_calibration(result: BacktestResult):
    from matplotlib.figure import Figure

    from .charts import GOOD, GRID, INK, MUTED, POOR

    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color=MUTED, linestyle="--", linewidth=1)
    s = result.scores
    if s.get("n"):
        ax.axhline(s["base_rate"], color="#b0883b", linewidth=1, linestyle=":")
    cal = result.calibration[result.calibration["count"] > 0]
    if len(cal):
        ax.plot(cal["mean_forecast"], cal["observed_frequency"], color=INK, linewidth=1, zorder=2)
        ax.scatter(cal["mean_forecast"], cal["observed_frequency"], s=40 + 40 * cal["count"], color=INK, zorder=3)
        for r in cal.itertuples(index=False):
            ax.annotate(f"n={r.count}", (r.mean_forecast, r.observed_frequency), textcoords="offset points",
                        xytext=(8, -12), fontsize=8, color=INK)
    scored = result.scored
    rng = np.random.default_rng(0)
    for r in scored.itertuples(index=False):
        hit = r.on_time == ON_TIME
        y = 1.04 if hit else -0.04
        ax.plot([r.p_on_time], [y + rng.uniform(-0.012, 0.012)], marker="|", markersize=10,
                color=GOOD if hit else POOR, zorder=3)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel("forecast P(on time) (bin mean)")
    ax.set_ylabel("observed share on time")
    ax.grid(color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title("Calibration (ticks: each project's forecast; top = on time, bottom = late)")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=MUTED, linestyle="--", linewidth=1, label="perfect calibration"),
               Line2D([], [], color=INK, marker="o", linestyle="-", label="bin: mean forecast, observed share"),
               Line2D([], [], color=GOOD, marker="|", linestyle="", markersize=10, label="a project on time"),
               Line2D([], [], color=POOR, marker="|", linestyle="", markersize=10, label="a project late")]
    if s.get("n"):
        handles.insert(1, Line2D([], [], color="#b0883b", linestyle=":", label=f"base rate {s['base_rate']:.2f}"))
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    return fig


def render_charts(result: BacktestResult) -> dict[str, str]:
    from .charts import figure_svg
    from .fonts import chart_style

    out = {}
    with chart_style():
        out["forecast-vs-actual"] = figure_svg(_chart_forecast_vs_actual(result))
        out["calibration"] = figure_svg(_chart_calibration(result))
    return out


# -- Markdown and HTML ---------------------------------------------------------------------------

def _pct(p) -> str:
    from .charts import percent

    return percent(float(p), 1)


def render_markdown(result: BacktestResult, charts: dict[str, str]) -> str:
    from .markdown import markdown_table

    s = result.scores
    lines = [f"# Backtest: {s['scenario']}", "",
             f"Forecast as of **{s['status_date']}** with only what was known then (actual dates from "
             f"{s['status_date']} on are ignored by the model); scored against the data's outcomes as of "
             f"**{s['data_as_of']}**. {s['n']} of {s['projects']} projects have a known outcome "
             f"({s['events']} on time). Rules: docs/backtest.md.", "",
             "## Scores", "",
             markdown_table(["forecast", "Brier score (lower is better)", "log score, ln (higher is better)"], [
                 ["model", _f(s["brier"], 4), _f(s["log_score"], 4)],
                 ["every project on time (p = 1)", _f(s["naive_all_on_time"]["brier"], 4),
                  _f(s["naive_all_on_time"]["log_score"], 4)],
                 [f"base rate (p = {_f(s['base_rate'], 3)} for all)", _f(s["naive_base_rate"]["brier"], 4),
                  _f(s["naive_base_rate"]["log_score"], 4)],
             ], right={1, 2}), "",
             verdict(s), "",
             "Log score: mean natural log of the probability given to what happened, forecasts clipped to "
             "[0.001, 0.999]. The base-rate forecast uses the outcomes themselves.", "",
             "## Projects", ""]
    rows = []
    for r in result.table.itertuples(index=False):
        rows.append([r.project_id, r.name_zh, r.deadline, _pct(r.p_on_time), r.finish_p50, r.finish_p80,
                     r.actual_finish, {ON_TIME: "on time", LATE: "late"}.get(r.on_time, "unknown"),
                     _f(r.squared_error, 3) if r.scored else "not scored",
                     _pct(r.p_finished_by_actual) if not math.isnan(r.p_finished_by_actual) else "—"])
    lines.append(markdown_table(["project", "name", "deadline", "P(on time)", "P50", "P80", "actual finish",
                                 "outcome", "(p - outcome)²", "P(finished by actual)"], rows, right={3, 8, 9}))
    lines += ["", "Not scored:", ""]
    lines += [f"- {pid}: {note}" for pid, note in s["not_scored"].items()]
    lines += ["", "## Calibration", ""]
    cal_rows = [[r.bin, str(r.count), _f(r.mean_forecast, 3), _f(r.observed_frequency, 3)]
                for r in result.calibration.itertuples(index=False)]
    lines.append(markdown_table(["forecast bin", "projects", "mean forecast", "observed frequency"], cal_rows,
                                right={1, 2, 3}))
    lines.append("")
    for name, title in CHARTS:
        if name in charts:
            lines += [f"## {title}", "", f"![{title}](charts/{name}.svg)", ""]
    return "\n".join(lines)


CSS = """
body{font-family:'PortfolioCJK','Noto Sans CJK SC','WenQuanYi Micro Hei',system-ui,sans-serif;color:#1c2833;
margin:0;background:#f6f7f9}main{max-width:1100px;margin:0 auto;padding:24px;background:#fff}
h1{font-size:1.6em;margin:0 0 8px}h2{font-size:1.2em;margin-top:28px;border-bottom:1px solid #e3e6ea}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:4px 6px;border-bottom:1px solid #eceff1;
text-align:left;vertical-align:top}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,monospace}td.m{white-space:nowrap}.late{color:#c62828}.ok{color:#2e7d32}.muted{color:#78909c}
.verdict{font-size:1.05em;padding:10px 12px;background:#eef3f8;border-left:4px solid #3f6fb5}
figure{margin:12px 0}svg.chart{width:100%;height:auto}p.how{color:#455a64;font-size:.9em}
"""


def render_html(result: BacktestResult, charts: dict[str, str]) -> str:
    import html

    from .charts import inline_svg
    from .fonts import embedded_font_css

    e = lambda x: html.escape("" if x is None else str(x), quote=True)  # noqa: E731
    s = result.scores
    body = [f"<h1>Backtest: {e(s['scenario'])}</h1>",
            f"<p>Forecast as of <strong>{e(s['status_date'])}</strong> with only what was known then; scored "
            f"against the data's outcomes as of <strong>{e(s['data_as_of'])}</strong>. {s['n']} of "
            f"{s['projects']} projects have a known outcome ({s['events']} on time).</p>",
            f'<p class="verdict">{e(verdict(s))}</p>',
            "<h2>Scores</h2><table><thead><tr><th>forecast</th><th class=\"num\">Brier score (lower is better)</th>"
            "<th class=\"num\">log score, ln (higher is better)</th></tr></thead><tbody>"]
    for label, b, ls in (("model", s["brier"], s["log_score"]),
                         ("every project on time (p = 1)", s["naive_all_on_time"]["brier"],
                          s["naive_all_on_time"]["log_score"]),
                         (f"base rate (p = {_f(s['base_rate'], 3)} for all)", s["naive_base_rate"]["brier"],
                          s["naive_base_rate"]["log_score"])):
        body.append(f"<tr><td>{e(label)}</td><td class=\"num\">{_f(b, 4)}</td><td class=\"num\">{_f(ls, 4)}</td></tr>")
    body.append("</tbody></table><p class=\"how\">Log score: mean natural log of the probability given to what "
                "happened, forecasts clipped to [0.001, 0.999]. The base-rate forecast uses the outcomes themselves."
                "</p>")
    body.append("<h2>Projects</h2><table><thead><tr><th>project</th><th>deadline</th><th class=\"num\">P(on time)"
                "</th><th>P50</th><th>P80</th><th>actual finish</th><th>outcome</th><th class=\"num\">(p − outcome)²"
                "</th><th>how the outcome is known</th></tr></thead><tbody>")
    for r in result.table.itertuples(index=False):
        cls = "ok" if r.on_time == ON_TIME else "late" if r.on_time == LATE else "muted"
        outcome = {ON_TIME: "on time", LATE: "late"}.get(r.on_time, "unknown")
        body.append(f"<tr><td>{e(r.name_zh)}<br><span class=\"mono muted\">{e(r.project_id)}</span></td>"
                    f"<td class=\"m\">{e(r.deadline)}</td><td class=\"num\">{e(_pct(r.p_on_time))}</td>"
                    f"<td class=\"m\">{e(r.finish_p50)}</td><td class=\"m\">{e(r.finish_p80)}</td>"
                    f"<td class=\"m\">{e(r.actual_finish)}</td><td class=\"{cls}\">{e(outcome)}</td>"
                    f"<td class=\"num\">{e(_f(r.squared_error, 3) if r.scored else 'not scored')}</td>"
                    f"<td class=\"muted\">{e(r.note)}</td></tr>")
    body.append("</tbody></table>")
    body.append("<h2>Calibration table</h2><table><thead><tr><th>forecast bin</th><th class=\"num\">projects</th>"
                "<th class=\"num\">mean forecast</th><th class=\"num\">observed frequency</th></tr></thead><tbody>")
    for r in result.calibration.itertuples(index=False):
        body.append(f"<tr><td>{e(r.bin)}</td><td class=\"num\">{r.count}</td><td class=\"num\">"
                    f"{_f(r.mean_forecast, 3)}</td><td class=\"num\">{_f(r.observed_frequency, 3)}</td></tr>")
    body.append("</tbody></table>")
    for k, (name, title) in enumerate(CHARTS, start=1):
        if name in charts:
            body.append(f"<h2>{e(title)}</h2><figure>{inline_svg(charts[name], f'b{k}', f'chart-{name}', title)}"
                        "</figure>")
    text = "".join(body)
    import re

    css = CSS + embedded_font_css(re.sub(r"<svg\b.*?</svg>", "", text, flags=re.S))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Backtest: {e(s['scenario'])}</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


# -- files ---------------------------------------------------------------------------------------

def write_report_files(folder: Path, svgs: dict[str, str], markdown: str, html: str) -> list[Path]:
    """charts/NAME.svg, backtest.md and backtest.html of a backtest folder (single- or multi-origin)."""
    written = []
    for name, svg in svgs.items():
        path = folder / "charts" / f"{name}.svg"
        path.parent.mkdir(exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    for name, text in (("backtest.md", markdown), ("backtest.html", html)):
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written
