"""The public Python API: load a scenario, plan it, simulate the plan, write and compare run folders.

Each function is a thin wrapper over what the ``portfolio`` command calls, so a notebook and a run folder never
disagree: every table here is a pandas DataFrame equal to what ``pandas.read_csv`` gives for the file of the
same name that the command writes for the same inputs (the frames are made by writing that file's bytes in
memory and reading them back). See docs/api.md.

Errors are raised, not printed: ``InputError`` (bad data or arguments; ``.problems`` lists each as
``file:line:col: message``) and ``Infeasible`` (no plan fits the scenario, with the reasons).
"""
from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

import optimize
import simulate as _simulate
from optimize.output import summary_lines
from portfolio.errors import InputError, InputProblem
from portfolio.limits import MAX_TIME_LIMIT_S, MAX_WORKERS
from portfolio.model import Portfolio
from portfolio.months import format_month
from portfolio.runfolder import write_csv
from report.compare import compare_runs
from report.write import parse_window, write_report
from scenarios.load import load_target
from scenarios.settings import Settings
from simulate.executors import Executor
from simulate.stats import formatted

from .pipeline import planned_starts, run_scenario

ASAP: Literal["asap"] = "asap"
"""``simulate(scenario, ASAP)``: simulate without a plan, every activity as soon as links and funds allow."""


def as_file(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as ``pandas.read_csv`` reads it back from the run folder's file: the API's tables are the files."""
    buffer = io.StringIO()
    write_csv(df, buffer)
    buffer.seek(0)
    return pd.read_csv(buffer)


def _check_range(name: str, value, low, high, kinds: tuple[type, ...] = (int, float)) -> None:
    """The bounds the command's options hold (portfolio/limits.py), for a keyword argument of the API."""
    if value is not None and not (isinstance(value, kinds) and low <= value <= high):
        what = "a whole number" if kinds == (int,) else "a number"
        raise InputError(InputProblem(name, 0, 0, f"must be {what} from {low:g} to {high:g}, got {value!r}"))


# -- load -------------------------------------------------------------------------------------------

MONTH_FIELDS = ("deadline", "earliest_start", "actual_start", "actual_finish", "known_since",
                "earliest_start_known_since")


def _cell(name: str, value):
    """A model field as the data files write it: months as YYYY-MM, lists joined with ';'."""
    if value is None:
        return None
    if name in MONTH_FIELDS:
        return format_month(value)
    if name == "resources":
        return ";".join(f"{rid}:{units:g}" for rid, units in value)
    if isinstance(value, tuple):
        return ";".join(str(item) for item in value)
    return value


def _records(items) -> pd.DataFrame:
    rows = [{f.name: _cell(f.name, getattr(item, f.name)) for f in dataclasses.fields(item)} for item in items]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Scenario:
    """A portfolio with the settings of the scenario that read it: what every other function takes."""

    portfolio: Portfolio
    settings: Settings

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def projects(self) -> pd.DataFrame:
        """One row per project, after the scenario's overrides (deadline empty: the scenario's default)."""
        return _records(self.portfolio.projects)

    @property
    def activities(self) -> pd.DataFrame:
        """One row per activity, after the scenario's overrides, in the data's order."""
        return _records(self.portfolio.activities)


def load(source: str | os.PathLike) -> Scenario:
    """A scenario file (.toml), or a data folder with the default settings, checked as ``portfolio validate``
    checks it; raises ``InputError`` listing every problem."""
    portfolio, settings = load_target(source)
    return Scenario(portfolio, settings)


# -- plan -------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Plan:
    """The optimizer's schedule: the tables of schedule.csv, projects.csv and funding.csv."""

    status: str  # "optimal" or "feasible" (a time limit stopped the proof)
    schedule: pd.DataFrame
    projects: pd.DataFrame
    funding: pd.DataFrame
    result: optimize.Plan = dataclasses.field(repr=False)  # the optimizer's own answer (arrays, bounds, stages)

    def summary(self, scenario: Scenario) -> str:
        """The lines ``portfolio schedule`` prints: status, objective, bound, gap, late projects."""
        return "\n".join(summary_lines(scenario.portfolio, self.result))

    def starts(self) -> dict[str, int]:
        """activity_id -> absolute planned start month: what the simulator executes."""
        return planned_starts(self.result)


def _plan_of(scenario: Scenario, result: optimize.Plan) -> Plan:
    pf = scenario.portfolio
    return Plan(result.status, as_file(optimize.schedule_frame(pf, result)),
                as_file(optimize.projects_frame(pf, result)), as_file(optimize.funding_frame(result)), result)


def plan(scenario: Scenario, *, time_limit: float | None = None, workers: int | None = None) -> Plan:
    """Schedule the portfolio under its funding caps, resources and deadlines, as ``portfolio schedule`` does.

    ``time_limit`` (seconds) and ``workers`` (CP-SAT threads; 1 is deterministic) default to the scenario's.
    Raises ``Infeasible`` with the reasons when no plan fits.
    """
    return _planned(scenario, time_limit, workers)


def _planned(scenario: Scenario, time_limit: float | None = None, workers: int | None = None) -> Plan:
    """``plan()`` under a name that ``simulate``'s argument ``plan`` does not hide."""
    _check_range("time_limit", time_limit, 0.1, MAX_TIME_LIMIT_S)
    _check_range("workers", workers, 1, MAX_WORKERS, (int,))
    return _plan_of(scenario, optimize.solve(scenario.portfolio, scenario.settings, time_limit=time_limit,
                                             workers=workers))


# -- simulate ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Simulation:
    """The Monte Carlo of a plan: the tables of simulation.csv, criticality.csv, risks.csv, distribution.csv."""

    projects: pd.DataFrame  # simulation.csv: per project and PORTFOLIO, P(on time), P50/P80/P90 finish
    criticality: pd.DataFrame
    risks: pd.DataFrame
    distribution: pd.DataFrame
    plan: Plan | None  # the plan simulated; None = as soon as possible (ASAP)
    result: _simulate.SimulationResult = dataclasses.field(repr=False)  # sums, model and manifest info

    def summary(self) -> str:
        """The table ``portfolio simulate`` prints."""
        return _simulate.summary_text(self.result)


def _simulation_of(result: _simulate.SimulationResult, used: Plan | None) -> Simulation:
    tables = {name: as_file(formatted(result.table(name)))
              for name in ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")}
    return Simulation(tables["simulation.csv"], tables["criticality.csv"], tables["risks.csv"],
                      tables["distribution.csv"], used, result)


def simulate(scenario: Scenario, plan: Plan | Literal["asap"] | None = None, *, iterations: int | None = None,
             seed: int | None = None, workers: int | None = None, engine: str | None = None,
             executor: Executor | None = None) -> Simulation:
    """Monte Carlo of ``plan`` against the deadlines.

    ``plan``: a ``Plan`` from ``plan()``; None (the default) plans the scenario first with its own settings, as
    ``portfolio run`` does, because a forecast of the schedule the optimizer would choose is what is usually
    wanted; ``ASAP`` simulates without a plan (every activity as soon as links and funds allow, like
    ``portfolio simulate`` without ``--plan``). ``iterations``, ``seed``, ``engine`` and ``workers`` (processes;
    any number gives the same tables) default to the scenario's; ``executor`` runs the blocks elsewhere, e.g.
    on Dask (``simulate.executors.open_executor``, docs/cluster.md).
    """
    if not (plan is None or isinstance(plan, Plan) or (isinstance(plan, str) and plan == ASAP)):
        raise TypeError(f"plan must be a runs.Plan, runs.ASAP or None, not {plan!r:.40}")
    _check_range("workers", workers, 1, MAX_WORKERS, (int,))
    used = _planned(scenario) if plan is None else (None if isinstance(plan, str) else plan)
    settings = scenario.settings
    result = _simulate.run(scenario.portfolio, settings, plan_starts=None if used is None else used.starts(),
                           iterations=iterations, seed=seed, workers=settings.simulate_workers(workers),
                           engine=engine, executor=executor)
    return _simulation_of(result, used)


# -- run, report, compare ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Run:
    """A whole run: the plan, its simulation, and the run folder written (None when none was asked for)."""

    plan: Plan
    simulation: Simulation
    folder: Path | None


def run(scenario: Scenario, out: str | os.PathLike | None = None, *, iterations: int | None = None,
        seed: int | None = None, workers: int | None = None, engine: str | None = None,
        time_limit: float | None = None, executor: Executor | None = None) -> Run:
    """Plan, simulate the plan and, with ``out``, write the whole run folder with its report as ``portfolio run``
    does (written aside and renamed: all or nothing). ``workers`` are the simulation's processes."""
    _check_range("time_limit", time_limit, 0.1, MAX_TIME_LIMIT_S)
    _check_range("workers", workers, 1, MAX_WORKERS, (int,))
    if out is None:
        planned = plan(scenario, time_limit=time_limit)
        return Run(planned, simulate(scenario, planned, iterations=iterations, seed=seed, workers=workers,
                                     engine=engine, executor=executor), None)
    done = run_scenario(scenario.portfolio, scenario.settings, out, iterations=iterations, seed=seed,
                        workers=workers, engine=engine, time_limit=time_limit, executor=executor)
    planned = _plan_of(scenario, done.plan)
    return Run(planned, _simulation_of(done.simulation, planned), Path(out))


def report(run_folder: str | os.PathLike, *, gantt_window: str | None = None) -> dict[str, Path]:
    """(Re)write report.md, report.html and charts/ of a run folder, as ``portfolio report``; returns name ->
    path of what was written. ``gantt_window``: "YYYY-MM:YYYY-MM", the months of the Gantt's axis."""
    return write_report(run_folder, parse_window(gantt_window) if gantt_window else None)


def compare(run_a: str | os.PathLike, run_b: str | os.PathLike, *, fmt: Literal["md", "html"] = "md") -> str:
    """What changed from run folder A to run folder B, the text ``portfolio compare`` prints."""
    return compare_runs(run_a, run_b, fmt)
