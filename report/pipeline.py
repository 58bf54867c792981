"""One scenario end to end: plan, simulate the plan, report, into one run folder written whole."""
from __future__ import annotations

from dataclasses import dataclass

import optimize
import simulate
from optimize.output import write_plan

from .runfolder import atomic_folder
from .write import write_report


@dataclass(frozen=True)
class RunResult:
    plan: optimize.Plan
    simulation: simulate.SimulationResult


def planned_starts(plan: optimize.Plan) -> dict[str, int]:
    """activity_id -> absolute planned start month, as the simulator takes it."""
    network = plan.network
    return {aid: network.status + int(s) for aid, s in zip(network.activity_ids, plan.start)}


def run_scenario(portfolio, settings, out, *, iterations=None, seed=None, workers=None, engine=None,
                 time_limit=None, progress=False, executor=None, deterministic_time=None) -> RunResult:
    """Schedule, simulate the schedule, and write the whole run folder ``out`` (or nothing on error).

    ``executor``: where the Monte Carlo blocks run (``simulate.executors``, e.g. Dask); None = ``workers`` processes.
    """
    plan = optimize.solve(portfolio, settings, time_limit=time_limit, deterministic_time=deterministic_time)
    with atomic_folder(out) as folder:
        write_plan(portfolio, settings, plan, folder)
        result = simulate.run(portfolio, settings, plan_starts=planned_starts(plan), iterations=iterations,
                              seed=seed, workers=workers or settings.simulate.workers, progress=progress,
                              engine=engine, executor=executor)
        simulate.write_outputs(result, folder)
        write_report(folder)
    return RunResult(plan, result)
