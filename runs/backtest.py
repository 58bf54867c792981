"""The backtest's forecast and folder: plan and simulate a scenario as of its status date with only what was known
then, score the forecast against the full data (report/backtest.py), and write the backtest folder.

What the model sees (docs/backtest.md): ``known_at`` (portfolio/known.py) gives the portfolio as known at the status
date: actual dates, stated progress, and every figure with a ``known_since`` date (activities and their links,
earliest starts, risk versions, deadline history).
"""
from __future__ import annotations

import json
from pathlib import Path

import optimize
import simulate
from portfolio.known import known_at
from portfolio.model import Portfolio
from portfolio.progress import data_as_of
from portfolio.runfolder import write_csv, write_manifest
from report.backtest import (BacktestResult, formatted_calibration, formatted_table, json_ready, render_charts,
                             render_html, render_markdown, score_forecasts, write_report_files)
from scenarios.rules import scenario_rules
from scenarios.settings import Settings
from simulate.stats import formatted


def forecast(portfolio: Portfolio, settings: Settings, *, iterations=None, seed=None, workers=None, progress=False,
             time_limit=None, use_plan: bool = True):
    """Plan (CP-SAT) and simulate ``portfolio`` as known at the scenario's status date: (plan, simulation result).

    ``use_plan=False`` simulates without the optimizer's planned starts (every activity as soon as its links
    and the funding pools allow); the plan is then None.
    """
    known = known_at(portfolio, settings.status_date)
    plan, starts = None, None
    if use_plan:
        plan = optimize.solve(known, settings, time_limit=time_limit)
        starts = plan.planned_starts()
    result = simulate.run(known, settings, plan_starts=starts, iterations=iterations, seed=seed,
                          workers=settings.simulate_workers(workers), progress=progress)
    return plan, result


def run_backtest(portfolio: Portfolio, settings: Settings, *, as_of: int | None = None, iterations=None, seed=None,
                 workers=None, progress=False, time_limit=None, use_plan: bool = True) -> BacktestResult:
    """Forecast as of the status date with what was known then, then score it against the full data."""
    as_of = data_as_of(portfolio) if as_of is None else as_of
    plan, simulation = forecast(portfolio, settings, iterations=iterations, seed=seed, workers=workers,
                                progress=progress, time_limit=time_limit, use_plan=use_plan)
    table, calibration, result = score_forecasts(portfolio, settings, simulation, as_of)
    result["simulation"] = {k: simulation.info[k] for k in ("iterations", "seed", "engine", "distribution",
                                                             "correlation", "plan") if k in simulation.info}
    result["optimizer"] = ({"status": plan.status, "objective": plan.objective_name, "gap": round(plan.gap, 6)}
                           if plan is not None else {"status": "not used (--asap)"})
    return BacktestResult(settings, settings.status_date, as_of, table, calibration, result, simulation,
                          result["optimizer"])


def write_backtest(result: BacktestResult, folder, portfolio: Portfolio | None = None, charts: bool = True) -> list[Path]:
    """Write the backtest files into ``folder`` (which must exist; use portfolio.runfolder.atomic_folder)."""
    folder = Path(folder)
    written = []
    path = folder / "backtest.csv"
    write_csv(formatted_table(result.table), path)
    written.append(path)
    path = folder / "calibration.csv"
    write_csv(formatted_calibration(result.calibration), path)
    written.append(path)
    path = folder / "scores.json"
    path.write_text(json.dumps(json_ready(result.scores), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")
    written.append(path)
    path = folder / "simulation.csv"
    write_csv(formatted(result.simulation.simulation), path)
    written.append(path)
    svgs = render_charts(result) if charts else {}
    written += write_report_files(folder, svgs, render_markdown(result, svgs), render_html(result, svgs))
    if portfolio is not None:
        write_manifest(folder, result.settings, portfolio, scenario_rules(result.settings), backtest={
            "status_date": result.scores["status_date"], "data_as_of": result.scores["data_as_of"],
            "simulation": result.scores.get("simulation", {}), "optimizer": result.scores.get("optimizer", {})})
        written.append(folder / "manifest.json")
    return written
