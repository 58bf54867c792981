"""Run the Monte Carlo: split the iterations into chunks, execute them, merge, tabulate.

Where chunks execute (this process, local worker processes, a Dask cluster) is simulate.executors.

Chunks are CHUNK iterations inside one sampling block (BLOCK is a multiple of
CHUNK), so every chunk's draws are a slice of one block; for the fast
engine, whole blocks (``chunk_size``: up to FAST_CHUNK iterations, which bounds
its memory). Results are integer sums merged in chunk order: the output is the
same for any chunk size and any number of workers.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from portfolio.errors import InputError, InputProblem
from portfolio.months import format_month
from portfolio.limits import MAX_ITERATIONS, usable_processes
from portfolio.runfiles import SIMULATION_FILES, past_horizon_note
from portfolio.runfolder import write_csv, write_manifest
from portfolio.model import Portfolio
from scenarios.rules import scenario_rules
from scenarios.settings import ENGINES as ENGINE_NAMES, Settings

from . import engine_fast, engine_simpy
from .executors import local_executor
from .keyed import SEED_LIMIT
from .model import BLOCK, SimModel, build_model
from .sampling import draws_for
from .stats import Accumulator, accumulate, formatted, iterations_table, tables

CHUNK = 256
FAST_CHUNK = 16 * BLOCK  # most iterations per chunk of the fast engine (bounds the memory of a run)
FAST_CELLS = 1 << 23  # most iterations x activities per fast chunk beyond one block (~70 MB per array of draws)
_BLOCK_RUNNERS = {"simpy": engine_simpy.run_block, "fast": engine_fast.run_block}
ENGINES = {name: _BLOCK_RUNNERS[name] for name in ENGINE_NAMES}  # the names a scenario may give (scenarios/settings.py)
OUTPUT_FILES = SIMULATION_FILES
DRAWS = "keyed"  # the draw scheme (manifest simulation.draws): draws keyed by (seed, ID, iteration), simulate/keyed.py
assert BLOCK % CHUNK == 0


@dataclass(eq=False)
class SimulationResult:
    simulation: pd.DataFrame
    criticality: pd.DataFrame
    risks: pd.DataFrame
    distribution: pd.DataFrame
    accumulator: Accumulator
    model: SimModel
    info: dict  # what the manifest records under "simulation"
    settings: object = field(repr=False, default=None)
    portfolio: object = field(repr=False, default=None)

    def table(self, name: str) -> pd.DataFrame:
        if name == "iterations.csv":
            return iterations_table(self.accumulator, self.model)
        return {"simulation.csv": self.simulation, "criticality.csv": self.criticality,
                "risks.csv": self.risks, "distribution.csv": self.distribution}[name]


def chunk_size(engine: str, iterations: int, activities: int = 1) -> int:
    """Iterations per chunk: CHUNK for SimPy; for the fast engine whole blocks, at least 4 chunks when there is
    enough to share among workers, at most FAST_CHUNK, and fewer on large portfolios (FAST_CELLS) so that a
    chunk's arrays stay in memory."""
    if engine != "fast":
        return CHUNK
    most = min(FAST_CHUNK, FAST_CELLS // max(1, activities) // BLOCK * BLOCK)
    return max(BLOCK, min(most, -(-iterations // (4 * BLOCK)) * BLOCK))


class Chunks(Sequence):
    """The ranges (i0, i1) of ``size`` iterations covering 0 .. ``iterations``, made as they are asked for: the
    memory of a run does not grow with its iteration count."""

    def __init__(self, iterations: int, size: int):
        self.iterations, self.size = int(iterations), int(size)

    def __len__(self) -> int:
        return -(-self.iterations // self.size)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        i0 = (k % len(self)) * self.size
        return i0, min(i0 + self.size, self.iterations)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((i, min(i + self.size, self.iterations)) for i in range(0, self.iterations, self.size))


def chunks(iterations: int, size: int = CHUNK) -> Chunks:
    return Chunks(iterations, size)


def run_chunk(model: SimModel, seed: int, i0: int, i1: int, engine: str = "simpy", cache: dict | None = None):
    draws = draws_for(model, seed, i0, i1, cache)
    return accumulate(model, draws, ENGINES[engine](model, draws))


# -- progress ------------------------------------------------------------------------------------

class Progress:
    """A one-line progress bar with the time left, on stderr; silent when disabled."""

    def __init__(self, total: int, enabled: bool, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self.last = 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < self.total and now - self.last < 0.1:
            return
        self.last = now
        elapsed = now - self.t0
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else math.nan
        width = 30
        filled = int(width * done / self.total)
        eta = "--:--" if left != left else f"{int(left) // 60:d}:{int(left) % 60:02d}"
        self.stream.write(f"\rsimulate [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
                          f"{rate:,.0f} it/s, {eta} left ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# -- the library entry point -----------------------------------------------------------------------

def run(portfolio: Portfolio, settings: Settings, plan_starts: dict[str, int] | None = None,
        iterations: int | None = None, seed: int | None = None, workers: int = 1, progress: bool = False,
        engine: str | None = None, executor=None) -> SimulationResult:
    """Monte Carlo of ``portfolio`` under ``settings``.

    ``plan_starts``: activity_id -> absolute planned start month (a plan's schedule); None = as soon as possible.
    ``iterations``/``seed``/``engine`` default to ``settings.simulate``; ``workers`` processes (1 = in this one);
    ``executor``: where the chunks run instead (``simulate.executors``, e.g. a Dask cluster; ``workers`` is then
    ignored); ``progress`` draws a progress bar on stderr.
    """
    sim = settings.simulate
    iterations = sim.iterations if iterations is None else int(iterations)
    seed = sim.seed if seed is None else int(seed)
    engine = engine or sim.engine
    source = settings.scenario_file or "simulate"
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise InputError(InputProblem(source, 0, 0, f"iterations must be between 1 and {MAX_ITERATIONS}, got {iterations}"))
    if not 0 <= seed < SEED_LIMIT:  # the seed is one 64-bit word of the draws' key (simulate.keyed)
        raise InputError(InputProblem(source, 0, 0, f"seed must be a whole number from 0 to 2**64 - 1, got {seed}"))
    if engine not in ENGINES:
        raise InputError(InputProblem(source, 0, 0, f"engine {engine!r} is not available (available: "
                                               f"{', '.join(ENGINES)})"))
    t0 = time.perf_counter()
    model = build_model(portfolio, settings, plan_starts)
    parts = chunks(iterations, chunk_size(engine, iterations, len(model.activity_ids)))
    bar = Progress(iterations, progress)
    acc = Accumulator.empty(model)
    done = 0
    if executor is None:
        executor = local_executor(usable_processes(workers, len(parts)))
    try:
        # Each executor yields the sums of consecutive chunks in chunk order, so merging is in order.
        with contextlib.closing(executor.run(run_chunk, model, seed, engine, parts)) as results:
            for (i0, i1), part in results:
                acc.merge(part)
                done += i1 - i0
                bar.update(done)
    finally:
        bar.close()
    frames = tables(acc, model)
    info = {
        "engine": engine,
        "iterations": iterations,
        "seed": seed,
        "distribution": model.distribution,
        "correlation": model.correlation,
        "carry_over": model.carry_over,
        "deadline_pressure": model.held_share > 0,
        **({} if settings.simulate.funding else {"funding": False}),
        "block_size": BLOCK,
        "draws": DRAWS,
        "horizon_months": model.horizon,
        **({"iterations_past_horizon": int(acc.past[-1])} if acc.past[-1] else {}),
        "plan": "given" if plan_starts is not None else "asap",
        "stoppages": len(settings.stoppages),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return SimulationResult(frames["simulation.csv"], frames["criticality.csv"], frames["risks.csv"],
                            frames["distribution.csv"], acc, model, info, settings, portfolio)


def write_outputs(result: SimulationResult, folder) -> list[Path]:
    """Write the five CSV files and the manifest's "simulation" section into ``folder`` (which must exist)."""
    folder = Path(folder)
    written = []
    for name in OUTPUT_FILES:
        path = folder / name
        write_csv(formatted(result.table(name)), path)
        written.append(path)
    if result.settings is not None and result.portfolio is not None:
        write_manifest(folder, result.settings, result.portfolio, scenario_rules(result.settings),
                       simulation=dict(result.info))
        written.append(folder / "manifest.json")
    return written


BEYOND = "beyond "  # a finish in the horizon's last month or later, as wide as YYYY-MM


def horizon_month(model) -> str:
    """YYYY-MM of the horizon's last month, where the finishes of iterations cut off at the horizon fall."""
    return format_month(model.status + model.horizon - 1)


def summary_text(result: SimulationResult) -> str:
    """A short table for the terminal: each project's chance to be on time and its P50/P80/P90 finish."""
    sim = formatted(result.simulation)
    cut_off = horizon_month(result.model)
    shown = lambda month: BEYOND if month == cut_off else month  # noqa: E731
    width = max(len("project"), *(len(p) for p in sim.project_id))
    lines = [f"{'project':<{width}}  deadline  p_on_time  P50      P80      P90      mean_delay"]
    for row in sim.itertuples(index=False):
        lines.append(f"{row.project_id:<{width}}  {row.deadline:<8}  {row.p_on_time:<9}  {shown(row.finish_p50)}  "
                     f"{shown(row.finish_p80)}  {shown(row.finish_p90)}  {row.mean_delay_months}")
    if (sim[["finish_p50", "finish_p80", "finish_p90"]] == cut_off).any(axis=None):
        lines.append(f'warning: "{BEYOND.strip()}" is a finish in the last month of the {result.model.horizon}-month '
                     f"horizon ({cut_off}) or later; iterations are cut off there, so the CSV files show {cut_off} "
                     "and mean_delay counts delays only up to it")
    past = past_horizon_note(result.info)
    if past:
        lines.append(f"warning: {past}")
    info = result.info
    lines.append(f"{info['iterations']} iterations, seed {info['seed']}, engine {info['engine']}, "
                 f"{info['seconds']:.1f} s")
    return "\n".join(lines)
