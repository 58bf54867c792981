"""The multi-origin backtest's events, scores and report: every event scored at several status dates.

At each origin T (a status date) runs/multiorigin.py plans and simulates the portfolio as known at T
(``portfolio.known.known_at``), as ``portfolio backtest`` does at one status date, and also
simulates it without the plan (the *outside view*: every activity as soon as its links and the
funding pools allow, with the reference classes' durations and risks). Here every event whose
outcome the data records and that had not finished before T is scored (the truth rules of
``report.backtest.project_outcomes``). The scores and baselines are in report/evaluation.py;
the rules are in docs/backtest.md, "The multi-origin evaluation".
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portfolio.milestones import Milestone, milestones_at
from portfolio.model import Portfolio
from portfolio.months import format_month, parse_month

from . import evaluation as ev
from .backtest import project_outcomes

PROJECT_FINISH = "project finish"
MILESTONE = "milestone"
FORECASTS = (
    ("model", "model (plan + simulation)"),
    ("all_on_time", "every event on time (p = 1)"),
    ("base_rate", "leave-one-out base rate"),
    ("plan", "deterministic plan (leave-one-out rate of its verdict)"),
    ("outside_view", "outside view (simulation without the plan)"),
)
BASELINES = tuple(name for name, _ in FORECASTS if name != "model")
WITH_DISTRIBUTION = ("model", "outside_view")
EVENT_COLUMNS = ["origin", "event_id", "project_id", "kind", "deadline", "actual_finish", "on_time",
                 "planned_verdict", "plan_finish", "p_model", "p_all_on_time", "p_base_rate", "p_plan",
                 "p_outside_view", "model_p_by_actual", "model_pit_low", "model_pit_high", "model_crps",
                 "outside_view_p_by_actual", "outside_view_pit_low", "outside_view_pit_high", "outside_view_crps",
                 "note"]
DIFFERENCE_COLUMNS = ["score", "baseline", "model", "baseline_value", "difference", "low", "high", "verdict"]
SCORES = (("brier", "Brier score", False), ("log_score", "log score (ln)", True), ("crps", "CRPS (months)", False))


# -- events ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """One scored event at one origin. ``project_id`` groups events for the bootstrap."""

    origin: int
    event_id: str
    project_id: str
    kind: str
    deadline: int
    actual: int | None  # finish month; None: still open at the data's as-of month (censored)
    on_time: bool
    note: str


def project_events(portfolio: Portfolio, origin: int, default_deadline: int, as_of: int | None) -> list[Event]:
    """The projects' finishes with a known outcome that had not finished before ``origin``."""
    return [Event(origin, o.project_id, o.project_id, PROJECT_FINISH, o.deadline, o.finish, bool(o.on_time), o.note)
            for o in project_outcomes(portfolio, origin, default_deadline, as_of) if o.scored and o.on_time is not None]


def milestone_events(milestones: tuple[Milestone, ...], origin: int, forecast_ids) -> list[Event]:
    """The milestones with a sourced actual month that had not happened before ``origin``, scored against their
    deadline as known at ``origin``; only those forecast at that origin (``forecast_ids``: their activity known)."""
    actual = {m.milestone_id: m.actual for m in milestones if m.actual is not None}
    return [Event(origin, m.milestone_id, m.project_id, MILESTONE, m.deadline, actual[m.milestone_id],
                  actual[m.milestone_id] <= m.deadline, f"{m.event} of {m.activity_id}")
            for m in milestones_at(milestones, origin)
            if m.milestone_id in actual and actual[m.milestone_id] >= origin and m.milestone_id in forecast_ids]


def months_cdf(months: np.ndarray) -> ev.Cdf:
    """The step CDF of an event's month from its month in each iteration."""
    values, counts = np.unique(months, return_counts=True)
    return ev.Cdf(tuple(int(v) for v in values), tuple(min(1.0, c / len(months)) for c in np.cumsum(counts)))


def cdfs_of(distribution: pd.DataFrame) -> dict[str, ev.Cdf]:
    """Per project: the step CDF of its finish month from a simulation's distribution table."""
    out = {}
    for pid, rows in distribution.groupby("project_id", sort=False):
        months = [parse_month(str(m)) for m in rows["month"]]
        out[str(pid)] = ev.Cdf(tuple(months), tuple(min(1.0, float(p)) for p in rows["p_finished"]))
    return out


@dataclass(eq=False)
class OriginForecast:
    origin: int
    model: object = field(repr=False)  # simulate.SimulationResult
    outside: object = field(repr=False)
    plan_finish: dict[str, int]  # absolute month of each project's planned finish
    plan_on_time: dict[str, bool]  # the plan's verdict: no lateness against the project's deadline
    optimizer: dict
    # milestones known at the origin: per forecast name ("model", "outside_view") the event month of each iteration,
    # and the plan's month of each event
    milestone_months: dict = field(default_factory=dict)
    milestone_plan: dict = field(default_factory=dict)


# -- the evaluation --------------------------------------------------------------------------------------

@dataclass(eq=False)
class MultiOriginResult:
    settings: object
    origins: tuple[int, ...]
    as_of: int
    events: pd.DataFrame  # events.csv (raw values)
    scores: pd.DataFrame  # scores.csv
    differences: list  # of evaluation.Difference
    pit: pd.DataFrame  # pit.csv
    by_origin: pd.DataFrame  # origin_scores.csv
    forecasts: list = field(repr=False, default_factory=list)  # OriginForecast per origin
    info: dict = field(default_factory=dict)


def event_forecast(simulation, cdfs: dict[str, ev.Cdf], event: Event) -> tuple[float, ev.Cdf]:
    """P(on time) and the finish CDF that one simulation gives an event. Each kind of event says where its forecast
    is: a project's finish is its project's row of simulation.csv and distribution.csv."""
    if event.kind != PROJECT_FINISH:
        raise ValueError(f"no forecast for events of kind {event.kind!r}")
    row = simulation.simulation.set_index("project_id").loc[event.project_id]
    return float(row["p_on_time"]), cdfs[event.project_id]


def event_plan(fc: OriginForecast, event: Event) -> tuple[int | None, bool]:
    """The plan's finish month of an event (None when it has none) and its verdict: on time or not."""
    if event.kind == MILESTONE:
        return fc.milestone_plan[event.event_id]
    if event.kind != PROJECT_FINISH:
        raise ValueError(f"no plan for events of kind {event.kind!r}")
    return fc.plan_finish.get(event.project_id), fc.plan_on_time[event.project_id]


def event_rows(events: list[Event], fc: OriginForecast, as_of: int) -> list[dict]:
    """events.csv rows (without the pooled baselines) of the events scored at one origin."""
    simulations = {"model": fc.model, "outside_view": fc.outside}
    cdfs = {name: cdfs_of(sim.distribution) for name, sim in simulations.items()}
    rows = []
    for e in events:
        plan_finish, verdict = event_plan(fc, e)
        row = {"origin": format_month(e.origin), "event_id": e.event_id, "project_id": e.project_id, "kind": e.kind,
               "deadline": format_month(e.deadline),
               "actual_finish": format_month(e.actual) if e.actual is not None else "open",
               "on_time": e.on_time, "planned_verdict": verdict,
               "plan_finish": format_month(plan_finish) if plan_finish is not None else "", "note": e.note}
        for name, sim in simulations.items():
            if e.kind == MILESTONE:
                months = fc.milestone_months[name][e.event_id]
                p, cdf = float(np.count_nonzero(months <= e.deadline)) / len(months), months_cdf(months)
            else:
                p, cdf = event_forecast(sim, cdfs[name], e)
            lo, hi = ev.pit_interval(cdf, e.actual, as_of)
            row.update({f"p_{name}": p, f"{name}_p_by_actual": cdf.at(e.actual) if e.actual is not None else math.nan,
                        f"{name}_pit_low": lo, f"{name}_pit_high": hi,
                        f"{name}_crps": ev.crps_months(cdf, e.actual, as_of)})
        rows.append(row)
    return rows


def with_baselines(events: pd.DataFrame) -> pd.DataFrame:
    """The pooled baselines of every event: every on time, leave-one-out base rate, deterministic plan."""
    out = events.copy()
    outcomes = out["on_time"].to_numpy(float)
    groups = out["project_id"].to_numpy(str)
    out["p_all_on_time"] = 1.0
    out["p_base_rate"] = ev.leave_one_out_rate(outcomes, groups)
    out["p_plan"] = ev.plan_rate(outcomes, groups, out["planned_verdict"].to_numpy(bool))
    return out[EVENT_COLUMNS]


def score_terms(events: pd.DataFrame, forecast_name: str, score: str) -> np.ndarray | None:
    """Per event: the score's term for one forecast (None when the forecast has no distribution for CRPS)."""
    outcomes = events["on_time"].to_numpy(float)
    if score == "crps":
        return events[f"{forecast_name}_crps"].to_numpy(float) if forecast_name in WITH_DISTRIBUTION else None
    p = events[f"p_{forecast_name}"].to_numpy(float)
    return ev.brier_terms(p, outcomes) if score == "brier" else ev.log_terms(p, outcomes)


def scores_table(events: pd.DataFrame) -> pd.DataFrame:
    """scores.csv: per forecast, the mean of each score, and for distributions the share of finished events with
    P(finished by the actual month) below 0.2."""
    finished = events[events["actual_finish"] != "open"]
    rows = []
    for name, label in FORECASTS:
        row = {"forecast": name, "label": label, "events": len(events), "on_time": int(events["on_time"].sum())}
        for score, _, _ in SCORES:
            terms = score_terms(events, name, score)
            row[score] = float(terms.mean()) if terms is not None and len(terms) else math.nan
        row["finished"] = len(finished)
        row["share_p_by_actual_below_0_2"] = (float((finished[f"{name}_p_by_actual"] < ev.LOW_PIT).mean())
                                              if name in WITH_DISTRIBUTION and len(finished) else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def differences(events: pd.DataFrame, resamples: int = ev.BOOTSTRAP_RESAMPLES,
                seed: int = ev.BOOTSTRAP_SEED) -> list[ev.Difference]:
    """Model - each baseline on each score it has, with bootstrap intervals over whole projects."""
    if not len(events):
        return []
    weights = ev.bootstrap_weights(events["project_id"].to_numpy(str), resamples, seed)
    out = []
    for score, _, higher in SCORES:
        model = score_terms(events, "model", score)
        for name in BASELINES:
            other = score_terms(events, name, score)
            if other is not None:
                out.append(ev.difference(score, name, model, other, weights, higher))
    return out


def pit_table(events: pd.DataFrame) -> pd.DataFrame:
    """pit.csv: per bin, the events' mass for the model and the outside view, beside the uniform count."""
    edges = np.linspace(0, 1, ev.PIT_BINS + 1)
    table = {"lower": edges[:-1], "upper": edges[1:]}
    for name in WITH_DISTRIBUTION:
        table[name] = ev.pit_histogram(zip(events[f"{name}_pit_low"], events[f"{name}_pit_high"]))
    table["uniform"] = np.full(ev.PIT_BINS, len(events) / ev.PIT_BINS)
    return pd.DataFrame(table)


def origin_scores(events: pd.DataFrame) -> pd.DataFrame:
    """origin_scores.csv: per origin, the number of events and each forecast's Brier and log score."""
    rows = []
    for origin, group in events.groupby("origin", sort=True):
        row = {"origin": origin, "events": len(group), "on_time": int(group["on_time"].sum())}
        for name, _ in FORECASTS:
            row[f"brier_{name}"] = float(score_terms(group, name, "brier").mean())
            row[f"log_{name}"] = float(score_terms(group, name, "log_score").mean())
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate(events: pd.DataFrame, settings, origins, as_of: int, forecasts=(), info=None) -> MultiOriginResult:
    """Scores, differences, PIT and per-origin scores of a complete events table."""
    events = with_baselines(events)
    return MultiOriginResult(settings, tuple(origins), as_of, events, scores_table(events), differences(events),
                             pit_table(events), origin_scores(events), list(forecasts), dict(info or {}))


# -- text ----------------------------------------------------------------------------------------------

def _f(x, digits: int = 4) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _signed(x, digits: int = 4) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.{digits}f}"


def headline(result: MultiOriginResult) -> str:
    e = result.events
    origins = "origin" if len(result.origins) == 1 else "origins"
    return (f"{len(e)} events scored ({int(e['on_time'].sum())} on time) over {len(result.origins)} {origins} "
            f"({', '.join(format_month(o) for o in result.origins)}), {e['project_id'].nunique()} projects; "
            f"outcomes as of {format_month(result.as_of)}")


def difference_rows(result: MultiOriginResult) -> list[list[str]]:
    labels = dict(FORECASTS)
    names = {s: n for s, n, _ in SCORES}
    return [[names[d.score], labels[d.baseline], _f(d.model), _f(d.other), _signed(d.difference),
             f"[{_signed(d.low)}, {_signed(d.high)}]", d.verdict] for d in result.differences]


def summary_text(result: MultiOriginResult) -> str:
    lines = [f"multi-origin backtest {result.settings.name}: " + headline(result)]
    if result.events.empty:
        return "\n".join(lines + ["No event has a known outcome at these origins: nothing was scored."])
    lines.append(f"{'origin':<8} events on_time  " + "  ".join(f"brier_{n:<12}" for n, _ in FORECASTS))
    for r in result.by_origin.itertuples(index=False):
        lines.append(f"{r.origin:<8} {r.events:<6} {r.on_time:<7}  "
                     + "  ".join(f"{_f(getattr(r, 'brier_' + n)):<18}" for n, _ in FORECASTS))
    lines.append(f"{'forecast':<56} {'Brier':>7} {'log (ln)':>9} {'CRPS mo':>8} {'F(actual)<0.2':>14}")
    for r in result.scores.itertuples(index=False):
        lines.append(f"{r.label:<56} {_f(r.brier):>7} {_f(r.log_score):>9} {_f(r.crps, 2):>8} "
                     f"{_f(r.share_p_by_actual_below_0_2, 2):>14}")
    lines.append("model - baseline, bootstrap 95% interval over whole projects "
                 f"({ev.BOOTSTRAP_RESAMPLES} resamples, seed {ev.BOOTSTRAP_SEED}); "
                 "Brier and CRPS: lower is better, log score: higher is better")
    for row in difference_rows(result):
        lines.append(f"  {row[0]:<15} vs {row[1]:<56} {row[4]:>8}  {row[5]:<20} {row[6]}")
    pit = result.pit
    lines.append("PIT histogram (10 bins, 0 to 1; uniform " + _f(float(pit['uniform'].iloc[0]), 1) + " per bin)")
    for name in WITH_DISTRIBUTION:
        lines.append(f"  {name:<13} " + " ".join(f"{v:5.1f}" for v in pit[name]))
    return "\n".join(lines)


# -- charts, Markdown, HTML ----------------------------------------------------------------------------

def pit_chart(result: MultiOriginResult):
    from matplotlib.figure import Figure

    from .charts import GRID, INK, MUTED

    pit = result.pit
    fig = Figure(figsize=(7.2, 4.2), layout="constrained")
    ax = fig.add_subplot()
    width = 0.1 / 2.4
    mids = (pit["lower"] + pit["upper"]) / 2
    ax.bar(mids - width / 2, pit["model"], width=width, color=INK, label="model (plan + simulation)")
    ax.bar(mids + width / 2, pit["outside_view"], width=width, color="#90a4ae", label="outside view (no plan)")
    ax.axhline(float(pit["uniform"].iloc[0]), color=MUTED, linestyle="--", linewidth=1,
               label="a calibrated forecast (uniform)")
    ax.set_xlim(0, 1)
    ax.set_xticks(np.linspace(0, 1, 11))
    ax.set_xlabel("PIT: forecast probability of finishing by the actual month")
    ax.set_ylabel("events (mass)")
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title("Where each actual finish fell in its forecast distribution")
    ax.legend(fontsize=8, loc="upper center")
    return fig


def render_charts(result: MultiOriginResult) -> dict[str, str]:
    from .charts import figure_svg
    from .fonts import chart_style

    with chart_style():
        return {"pit": figure_svg(pit_chart(result))}


RULES_TEXT = ("Brier and log score (natural log, p clipped to [0.001, 0.999]) of P(on time); CRPS of the finish "
              "month in months (a finish still open at the data's as-of month is charged only for the months up "
              "to it). Baselines: every event on time (p = 1); the leave-one-out base rate (the "
              "on-time share of the other projects' events, all origins pooled); the deterministic plan (that "
              "share among the other projects' events whose plan had the same verdict, on time or late); the "
              "outside view (the simulation without the plan: every activity as soon as its links and the funds "
              "allow). Intervals: 95% percentile bootstrap of the difference, resampling whole projects. "
              "Rules: docs/backtest.md.")


def render_markdown(result: MultiOriginResult, charts: dict[str, str]) -> str:
    from .markdown import markdown_table

    lines = [f"# Multi-origin backtest: {result.settings.name}", "", headline(result) + ".", "", RULES_TEXT, "",
             "## Scores", ""]
    lines.append(markdown_table(
        ["forecast", "Brier (lower is better)", "log score, ln (higher is better)", "CRPS, months (lower is better)",
         "finished events with P(finished by actual) < 0.2"],
        [[r.label, _f(r.brier), _f(r.log_score), _f(r.crps, 2), _f(r.share_p_by_actual_below_0_2, 2)]
         for r in result.scores.itertuples(index=False)], right={1, 2, 3, 4}))
    lines += ["", "## Model against each baseline", "",
              f"Difference = model − baseline; 95% interval of {ev.BOOTSTRAP_RESAMPLES} bootstrap resamples of whole "
              f"projects (seed {ev.BOOTSTRAP_SEED}). 'undecided' when the interval covers 0.", ""]
    lines.append(markdown_table(["score", "baseline", "model", "baseline's", "difference", "95% interval", "verdict"],
                                difference_rows(result), right={2, 3, 4}))
    lines += ["", "## PIT histogram", ""]
    pit = result.pit
    lines.append(markdown_table(["PIT bin", "model", "outside view", "uniform"],
                                [[f"[{r.lower:.1f}, {r.upper:.1f}{']' if r.upper >= 1 else ')'}", _f(r.model, 2),
                                  _f(r.outside_view, 2), _f(r.uniform, 2)] for r in pit.itertuples(index=False)],
                                right={1, 2, 3}))
    if "pit" in charts:
        lines += ["", "![PIT histogram](charts/pit.svg)"]
    lines += ["", "## Per origin (Brier score)", ""]
    lines.append(markdown_table(["origin", "events", "on time"] + [label for _, label in FORECASTS],
                                [[r.origin, str(r.events), str(r.on_time)]
                                 + [_f(getattr(r, f"brier_{n}")) for n, _ in FORECASTS]
                                 for r in result.by_origin.itertuples(index=False)], right=set(range(1, 8))))
    lines += ["", "## Events", ""]
    lines.append(markdown_table(
        ["origin", "event", "deadline", "actual", "outcome", "plan", "P(on time) model", "outside view", "plan base.",
         "base rate", "P(by actual)", "PIT", "CRPS"],
        [[r.origin, r.event_id, r.deadline, r.actual_finish, "on time" if r.on_time else "late",
          "on time" if r.planned_verdict else "late", _f(r.p_model, 3), _f(r.p_outside_view, 3), _f(r.p_plan, 3),
          _f(r.p_base_rate, 3), _f(r.model_p_by_actual, 3), f"[{r.model_pit_low:.2f}, {r.model_pit_high:.2f}]",
          _f(r.model_crps, 1)] for r in result.events.itertuples(index=False)], right={6, 7, 8, 9, 10, 12}))
    lines.append("")
    return "\n".join(lines)


def render_html(result: MultiOriginResult, charts: dict[str, str]) -> str:
    """The Markdown report's content as a self-contained page (tables as HTML, the chart inline)."""
    import html

    from .backtest import CSS
    from .charts import inline_svg
    from .fonts import embedded_font_css

    e = lambda x: html.escape("" if x is None else str(x), quote=True)  # noqa: E731

    def table(header, rows, right=frozenset()):
        num = ' class="num"'
        cells = "".join(f"<th{num if k in right else ''}>{e(h)}</th>" for k, h in enumerate(header))
        body = "".join("<tr>" + "".join(f"<td{num if k in right else ''}>{e(c)}</td>"
                                        for k, c in enumerate(row)) + "</tr>" for row in rows)
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"

    body = [f"<h1>Multi-origin backtest: {e(result.settings.name)}</h1>", f"<p>{e(headline(result))}.</p>",
            f'<p class="how">{e(RULES_TEXT)}</p>', "<h2>Scores</h2>",
            table(["forecast", "Brier", "log score (ln)", "CRPS (months)", "P(by actual) < 0.2"],
                  [[r.label, _f(r.brier), _f(r.log_score), _f(r.crps, 2), _f(r.share_p_by_actual_below_0_2, 2)]
                   for r in result.scores.itertuples(index=False)], {1, 2, 3, 4}),
            "<h2>Model against each baseline</h2>",
            f'<p class="how">Difference = model − baseline; 95% interval of {ev.BOOTSTRAP_RESAMPLES} bootstrap '
            f"resamples of whole projects (seed {ev.BOOTSTRAP_SEED}).</p>",
            table(["score", "baseline", "model", "baseline's", "difference", "95% interval", "verdict"],
                  difference_rows(result), {2, 3, 4}),
            "<h2>PIT histogram</h2>"]
    if "pit" in charts:
        body.append(f"<figure>{inline_svg(charts['pit'], 'm1', 'chart-pit', 'PIT histogram')}</figure>")
    body.append(table(["PIT bin", "model", "outside view", "uniform"],
                      [[f"{r.lower:.1f}–{r.upper:.1f}", _f(r.model, 2), _f(r.outside_view, 2), _f(r.uniform, 2)]
                       for r in result.pit.itertuples(index=False)], {1, 2, 3}))
    body.append("<h2>Per origin (Brier score)</h2>")
    body.append(table(["origin", "events", "on time"] + [label for _, label in FORECASTS],
                      [[r.origin, r.events, r.on_time] + [_f(getattr(r, f"brier_{n}")) for n, _ in FORECASTS]
                       for r in result.by_origin.itertuples(index=False)], set(range(1, 8))))
    body.append("<h2>Events</h2>")
    body.append(table(["origin", "event", "deadline", "actual", "outcome", "P(on time) model", "outside view",
                       "plan base.", "base rate", "P(by actual)", "CRPS"],
                      [[r.origin, r.event_id, r.deadline, r.actual_finish, "on time" if r.on_time else "late",
                        _f(r.p_model, 3), _f(r.p_outside_view, 3), _f(r.p_plan, 3), _f(r.p_base_rate, 3),
                        _f(r.model_p_by_actual, 3), _f(r.model_crps, 1)]
                       for r in result.events.itertuples(index=False)], {5, 6, 7, 8, 9, 10}))
    text = "".join(body)
    css = CSS + embedded_font_css(re.sub(r"<svg\b.*?</svg>", "", text, flags=re.S))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Multi-origin backtest: {e(result.settings.name)}</title>\n<style>{css}</style>\n</head>\n"
            "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


# -- files ----------------------------------------------------------------------------------------------

def formatted_events(events: pd.DataFrame) -> pd.DataFrame:
    out = events.copy()
    for column in out.columns:
        if column.startswith("p_") or column.endswith(("_p_by_actual", "_pit_low", "_pit_high")):
            out[column] = [_blank(v, 4) for v in out[column]]
        elif column.endswith("_crps"):
            out[column] = [_blank(v, 3) for v in out[column]]
    out["on_time"] = ["true" if v else "false" for v in out["on_time"]]
    out["planned_verdict"] = ["on time" if v else "late" for v in out["planned_verdict"]]
    return out


def _blank(value, digits: int) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def formatted_numbers(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            out[column] = [_blank(v, digits) for v in out[column]]
    return out


def differences_frame(result: MultiOriginResult) -> pd.DataFrame:
    return pd.DataFrame([{"score": d.score, "baseline": d.baseline, "model": d.model, "baseline_value": d.other,
                          "difference": d.difference, "low": d.low, "high": d.high, "verdict": d.verdict}
                         for d in result.differences], columns=DIFFERENCE_COLUMNS)


def scores_json(result: MultiOriginResult) -> dict:
    """evaluation.json: the headline numbers and the settings behind them."""
    def clean(v):
        return None if isinstance(v, float) and math.isnan(v) else round(v, 6) if isinstance(v, float) else v

    return {
        "scenario": result.settings.name,
        "origins": [format_month(o) for o in result.origins],
        "data_as_of": format_month(result.as_of),
        "events": len(result.events),
        "projects": int(result.events["project_id"].nunique()),
        "scores": {r["forecast"]: {k: clean(v) for k, v in r.items() if k not in ("forecast", "label")}
                   for r in result.scores.to_dict("records")},
        "differences": [{k: clean(v) for k, v in r.items()} for r in differences_frame(result).to_dict("records")],
        "bootstrap": {"resamples": ev.BOOTSTRAP_RESAMPLES, "seed": ev.BOOTSTRAP_SEED, "interval": ev.INTERVAL,
                      "unit": "project"},
        "log_clip": [ev.CLIP, 1 - ev.CLIP],
        **result.info,
    }
