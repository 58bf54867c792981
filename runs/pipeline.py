"""One scenario end to end: plan, simulate the plan, report, into one run folder written whole."""
from __future__ import annotations

from dataclasses import dataclass

import optimize
import simulate
from optimize.output import write_plan
from portfolio.milestones import milestones_at
from portfolio.model import Portfolio
from portfolio.runfolder import atomic_folder, write_csv
from report.write import write_report
from scenarios.load import load_data_milestones
from scenarios.settings import Settings
from simulate.milestones import forecast as forecast_milestones


@dataclass(frozen=True)
class RunResult:
    plan: optimize.Plan
    simulation: simulate.SimulationResult


def planned_starts(plan: optimize.Plan) -> dict[str, int]:
    """activity_id -> absolute planned start month, as the simulator takes it."""
    return plan.planned_starts()


def run_scenario(portfolio: Portfolio, settings: Settings, out, *, iterations=None, seed=None, workers=None, engine=None,
                 time_limit=None, progress=False, executor=None, deterministic_time=None) -> RunResult:
    """Schedule, simulate the schedule, and write the whole run folder ``out`` (or nothing on error).

    ``executor``: where the Monte Carlo blocks run (``simulate.executors``, e.g. Dask); None = ``workers`` processes.
    """
    milestones = milestones_at(load_data_milestones(settings.data_dir, portfolio), None)
    plan = optimize.solve(portfolio, settings, time_limit=time_limit, deterministic_time=deterministic_time)
    with atomic_folder(out, tables_workbook=True) as folder:
        write_plan(portfolio, settings, plan, folder)
        result = simulate.run(portfolio, settings, plan_starts=planned_starts(plan), iterations=iterations,
                              seed=seed, workers=settings.simulate_workers(workers), progress=progress,
                              engine=engine, executor=executor)
        simulate.write_outputs(result, folder)
        if milestones:
            write_milestones(portfolio, settings, milestones, planned_starts(plan), result.info, folder)
        write_report(folder)
    return RunResult(plan, result)


def write_milestones(portfolio: Portfolio, settings: Settings, milestones, plan_starts, info: dict, folder) -> None:
    """milestones.csv: each milestone forecast with the run's iterations, seed and engine (simulate/milestones.py)."""
    table = forecast_milestones(portfolio, settings, milestones, plan_starts, iterations=info["iterations"],
                                seed=info["seed"], engine=info["engine"])
    table["p_on_time"] = table["p_on_time"].map(lambda p: f"{p:.4f}")
    write_csv(table, folder / "milestones.csv")
