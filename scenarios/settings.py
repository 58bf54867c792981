"""What a scenario asks of the optimizer and the simulator (plain data, defaults here)."""
from __future__ import annotations

from dataclasses import dataclass, field

OBJECTIVES = ("lateness", "makespan", "on_time")  # what the optimizer may minimise (docs/optimizer.md)
ENGINES = ("simpy", "fast")  # the simulation engines (simulate/runner.py maps each name to its code)


@dataclass(frozen=True)
class OptimizeSettings:
    # wall-clock safety net; the plan is bounded by deterministic_time. An hour: a deterministic unit took up to
    # 15 s of wall time on a loaded 2-core machine, so 60 units may need 15 minutes (BENCHMARKS.md)
    time_limit_s: float = 3600.0
    deterministic_time: float = 60.0  # CP-SAT deterministic time for all stages: the same plan on any machine
    workers: int = 1
    # "lateness" (default, lexicographic: weighted lateness, then weighted finish),
    # "makespan", or "on_time" (maximise the priority-weighted number of projects on time).
    objective: str = "lateness"
    hard_deadlines: bool = False
    duration_percentile: float | None = None  # None = most likely; e.g. 80 = P80 of each activity
    funding: bool = True  # False ignores funding caps (what would the links alone allow?)


@dataclass(frozen=True)
class SimulateSettings:
    iterations: int = 10000
    seed: int = 2021
    distribution: str = "triangular"  # or "pert"
    correlation: float = 0.0  # share of variance from one common factor per project category
    carry_over: bool = True  # unspent funds of a year stay in the pool for the next
    # the "held to the deadline" execution rule (simulate/execution.py); False: no project is ever crashed
    deadline_pressure: bool = True
    # False: the funding caps pay for nothing in the simulation (every pool unlimited), as [optimize] funding = false
    # does for the plan: for forecasts that caps without a source must not shape (docs/backtest.md)
    funding: bool = True
    engine: str = "fast"  # "fast" (compiled, simulate/engine_fast.py) or "simpy" (the reference); same results
    workers: int = 1


@dataclass(frozen=True)
class Stoppage:
    """All site work (of the listed categories, or all) halts for ``months`` from ``start``."""

    start: int  # absolute month
    months: int
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepAxis:
    """One axis of a sweep grid (``[[sweep.funding]]``): the caps of ``sources`` (all when empty) in the years
    ``first`` .. ``last`` multiplied by each of ``factors`` in turn, on top of the scenario's own funding scales."""

    label: str  # names the axis in variant names, e.g. "provincial"
    factors: tuple[float, ...]
    sources: tuple[str, ...] = ()
    first: int | None = None  # first year (None = all years)
    last: int | None = None


@dataclass(frozen=True)
class Settings:
    name: str
    status_date: int  # absolute month
    deadline: int  # absolute month: default deadline of projects without one
    optimize: OptimizeSettings = field(default_factory=OptimizeSettings)
    simulate: SimulateSettings = field(default_factory=SimulateSettings)
    forced_starts: tuple[tuple[str, int], ...] = ()  # (activity_id, absolute month)
    stoppages: tuple[Stoppage, ...] = ()
    scenario_file: str = ""
    data_dir: str = ""
    sweep: tuple[SweepAxis, ...] = ()  # the [sweep] grid: every combination of the axes' factors is a variant
    rules: tuple[tuple[str, str], ...] = ()  # (key, text) of each rule of the scenario file (scenarios/rules.py)
    backtest_origins: tuple[int, ...] = ()  # [backtest] origins: status dates of the multi-origin backtest

    def simulate_workers(self, workers: int | None) -> int:
        """The worker processes of a simulation: ``workers`` when given (a command's option), else the scenario's."""
        return workers or self.simulate.workers
