"""The multi-origin backtest's forecasts and folder: at each origin, plan and simulate with only what was known then,
and simulate without the plan (the outside view); the events are scored by report/multiorigin.py.

The rules are in docs/backtest.md, "The multi-origin evaluation".
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio.errors import InputError, InputProblem
from portfolio.milestones import Milestone, milestones_at
from portfolio.model import Portfolio
from portfolio.months import format_month
from portfolio.progress import data_as_of
from portfolio.runfolder import write_csv, write_manifest
from report.backtest import write_report_files
from report.multiorigin import (EVENT_COLUMNS, MultiOriginResult, OriginForecast, differences_frame, evaluate,
                                event_rows, formatted_events, formatted_numbers, milestone_events, project_events,
                                render_charts, render_html, render_markdown, scores_json)
from scenarios.load import load_data_milestones
from scenarios.settings import Settings
from scenarios.rules import scenario_rules
from simulate.milestones import event_months
from simulate.stats import formatted

from .backtest import forecast


def forecast_at(portfolio: Portfolio, settings: Settings, origin: int, milestones: tuple[Milestone, ...] = (),
                **options) -> OriginForecast:
    """Plan + simulation, and the simulation without the plan, with what was known at ``origin``; with them, the
    month of each milestone known then."""
    at = dataclasses.replace(settings, status_date=origin)
    plan, model = forecast(portfolio, at, use_plan=True, **options)
    _, outside = forecast(portfolio, at, use_plan=False, **options)
    ends = plan.project_end()
    ids = plan.network.project_ids
    finish = {pid: origin + int(end) - 1 for pid, end in zip(ids, ends) if np.isfinite(end)}
    on_time = {pid: bool(late == 0) for pid, late in zip(ids, plan.lateness())}
    months, plan_events = _milestone_forecasts(milestones_at(milestones, origin), plan, model, outside)
    return OriginForecast(origin, model, outside, finish, on_time,
                          {"status": plan.status, "objective": plan.objective_name, "gap": round(plan.gap, 6)},
                          months, plan_events)


def _milestone_forecasts(milestones, plan, model, outside) -> tuple[dict, dict]:
    """Per forecast name the months of each milestone whose activity the forecast knows, and the plan's
    (month, on time) of each: the same iterations, seed and engine as the simulations (simulate/milestones.py)."""
    known = model.portfolio
    ids = {a.activity_id for a in known.activities}
    milestones = tuple(m for m in milestones if m.activity_id in ids)
    if not milestones:
        return {}, {}
    origin = model.settings.status_date
    starts = plan.planned_starts()
    months = {}
    for name, sim, plan_starts in (("model", model, starts), ("outside_view", outside, None)):
        info = sim.info
        table = event_months(known, sim.settings, milestones, plan_starts, info["iterations"], info["seed"],
                             info["engine"])
        months[name] = {m.milestone_id: table[:, k] for k, m in enumerate(milestones)}
    plan_events = {}
    for m in milestones:
        j = known.activity_index(m.activity_id)
        month = origin + (int(round(float(plan.start[j]))) if m.event == "start" else int(np.ceil(plan.end[j])) - 1)
        plan_events[m.milestone_id] = (month, month <= m.deadline)
    return months, plan_events


def run_multi_origin(portfolio: Portfolio, settings: Settings, origins, *, as_of: int | None = None, iterations=None,
                     seed=None, workers=None, progress=False, time_limit=None, log=None,
                     milestones: tuple[Milestone, ...] | None = None) -> MultiOriginResult:
    """Forecast at every origin with what was known then, and score every event with a known outcome: the projects'
    finishes and the milestones with a sourced actual month (``milestones``: None = the data folder's)."""
    as_of = data_as_of(portfolio) if as_of is None else as_of
    if as_of is None:
        raise InputError(InputProblem(settings.data_dir or "data", 0, 0, "the data records no actual date, so no "
                                 "outcome is known: give --as-of YYYY-MM or add actual dates"))
    if milestones is None:
        milestones = load_data_milestones(settings.data_dir, portfolio)
    rows, forecasts = [], []
    for origin in origins:
        if log:
            log(f"origin {format_month(origin)}: planning and simulating")
        fc = forecast_at(portfolio, settings, origin, milestones, iterations=iterations, seed=seed, workers=workers,
                         progress=progress, time_limit=time_limit)
        forecasts.append(fc)
        events = project_events(portfolio, origin, settings.deadline, as_of)
        events += milestone_events(milestones, origin, set(fc.milestone_months.get("model", {})))
        rows += event_rows(events, fc, as_of)
    events = pd.DataFrame(rows, columns=[c for c in EVENT_COLUMNS if c not in ("p_all_on_time", "p_base_rate",
                                                                                "p_plan")])
    sim_info = forecasts[0].model.info if forecasts else {}
    info = {"simulation": {k: sim_info[k] for k in ("iterations", "seed", "engine", "distribution", "correlation")
                           if k in sim_info},
            "optimizer": {format_month(f.origin): f.optimizer for f in forecasts}}
    return evaluate(events, settings, origins, as_of, forecasts, info)


def write_multi_origin(result: MultiOriginResult, folder, portfolio: Portfolio | None = None,
                       charts: bool = True) -> list[Path]:
    """Write the multi-origin files into ``folder`` (which must exist; use portfolio.runfolder.atomic_folder)."""
    folder = Path(folder)
    written = []

    def csv(df, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(df, path)
        written.append(path)

    for fc in result.forecasts:
        where = folder / "origins" / format_month(fc.origin)
        csv(formatted(fc.model.simulation), where / "simulation.csv")
        csv(formatted(fc.model.distribution), where / "distribution.csv")
        csv(formatted(fc.outside.simulation), where / "outside-simulation.csv")
        csv(formatted(fc.outside.distribution), where / "outside-distribution.csv")
        csv(pd.DataFrame([{"project_id": pid, "plan_finish": format_month(m),
                           "planned_verdict": "on time" if fc.plan_on_time[pid] else "late"}
                          for pid, m in fc.plan_finish.items()]), where / "plan.csv")
    csv(formatted_events(result.events), folder / "events.csv")
    csv(formatted_numbers(result.scores), folder / "scores.csv")
    csv(formatted_numbers(differences_frame(result)), folder / "differences.csv")
    csv(formatted_numbers(result.pit), folder / "pit.csv")
    csv(formatted_numbers(result.by_origin), folder / "origin_scores.csv")
    path = folder / "evaluation.json"
    path.write_text(json.dumps(scores_json(result), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")
    written.append(path)
    svgs = render_charts(result) if charts else {}
    written += write_report_files(folder, svgs, render_markdown(result, svgs), render_html(result, svgs))
    if portfolio is not None:
        write_manifest(folder, result.settings, portfolio, scenario_rules(result.settings), backtest={
            "origins": [format_month(o) for o in result.origins], "data_as_of": format_month(result.as_of),
            **result.info})
        written.append(folder / "manifest.json")
    return written
