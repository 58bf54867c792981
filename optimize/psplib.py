"""PSPLIB single-mode RCPSP instances (.sm): read them and solve them with the model core.

An instance becomes a core ``Problem`` with one task per job (the zero-duration
source and sink included), FS links with lag 0, one cumulative constraint per
renewable resource, and one group holding every job, so that the objective is
the makespan. The bounds files of PSPLIB (j30opt.sm, j60lb.sm, j120lb.sm) are
read by ``read_bounds``. ``solve_instance`` adds what pure RCPSP allows beside the
model: the GA's hint on large instances (ga.py), the feasible-set bound
(feasible_sets.py) and the branch-and-bound (bnb.py) on small ones.
"""
from __future__ import annotations

import csv
import io
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from portfolio.errors import InputError, InputProblem, PortfolioError

from . import bnb, core, feasible_sets, ga
from .heuristic import best_schedule
from .status import SolveStatus


@dataclass(frozen=True)
class Instance:
    name: str
    duration: tuple[int, ...]
    successors: tuple[tuple[int, ...], ...]  # 0-based job indices
    capacity: tuple[int, ...]
    demand: tuple[tuple[int, ...], ...]  # per job, per resource

    @property
    def n(self) -> int:
        return len(self.duration)

    def key(self) -> tuple[str, int, int] | None:
        """("j30", parameter group, instance) from the file name jXXP_I, or None."""
        return parse_name(self.name)


def parse_name(name: str) -> tuple[str, int, int] | None:
    name = Path(name).name
    if name.endswith(".sm"):
        name = name[:-3]
    for prefix in ("j120", "j90", "j60", "j30"):
        m = re.match(rf"^({prefix})(\d+)_(\d+)$", name)
        if m:
            return m.group(1), int(m.group(2)), int(m.group(3))
    return None


class FormatError(PortfolioError, ValueError):
    """A file that is not a readable single-mode PSPLIB instance; ``file`` and ``line`` say where."""

    def __init__(self, file: str, line: int, message: str):
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}")


def read_sm(path: str | Path) -> Instance:
    """Read a single-mode PSPLIB file; raise FormatError (with the file name and line) on anything else."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise FormatError(str(path), 0, f"cannot read the file ({exc.strerror or exc})") from None

    def fail(lineno: int, message: str):
        raise FormatError(str(path), lineno, message)

    def find(prefix: str) -> int:
        for k, line in enumerate(lines):
            if line.strip().upper().startswith(prefix):
                return k
        fail(0, f"no {prefix!r} section; is this a PSPLIB .sm file?")

    k = find("PRECEDENCE RELATIONS")
    successors: dict[int, tuple[int, ...]] = {}
    k += 2
    while k < len(lines) and not lines[k].startswith("*"):
        parts = lines[k].split()
        if parts:
            try:
                job, modes, count = int(parts[0]), int(parts[1]), int(parts[2])
                succ = tuple(int(x) - 1 for x in parts[3:3 + count])
            except (ValueError, IndexError):
                fail(k + 1, f"cannot read precedence row {lines[k]!r}")
            if modes != 1:
                fail(k + 1, f"job {job} has {modes} modes; only single-mode (.sm) instances are supported")
            if len(succ) != count:
                fail(k + 1, f"job {job} lists {len(succ)} successors, expected {count}")
            successors[job - 1] = succ
        k += 1
    n = len(successors)
    if sorted(successors) != list(range(n)):
        fail(k, "jobs are not numbered 1..n")

    k = find("REQUESTS/DURATIONS")
    k += 3  # header, column names, dashes
    duration = [0] * n
    demand: list[tuple[int, ...]] = [()] * n
    seen = 0
    while k < len(lines) and not lines[k].startswith("*"):
        parts = lines[k].split()
        if parts:
            try:
                values = [int(x) for x in parts]
            except ValueError:
                fail(k + 1, f"cannot read request row {lines[k]!r}")
            job = values[0] - 1
            if not 0 <= job < n:
                fail(k + 1, f"unknown job {job + 1}")
            duration[job] = values[2]
            demand[job] = tuple(values[3:])
            seen += 1
        k += 1
    if seen != n:
        fail(k, f"{seen} request rows for {n} jobs")

    k = find("RESOURCEAVAILABILITIES")
    try:
        capacity = tuple(int(x) for x in lines[k + 2].split())
    except (ValueError, IndexError):
        fail(k + 3, "cannot read the resource availabilities")
    if any(len(d) != len(capacity) for d in demand):
        fail(k + 3, "requests and availabilities list different numbers of resources")
    return Instance(
        name=path.name[:-3] if path.name.endswith(".sm") else path.name,
        duration=tuple(duration),
        successors=tuple(successors[j] for j in range(n)),
        capacity=capacity,
        demand=tuple(demand),
    )


def read_bounds(path: str | Path) -> dict[tuple[int, int], tuple[int, int | None]]:
    """(parameter, instance) -> (upper bound, lower bound or None) from a PSPLIB bounds file.

    j30opt.sm: proven optima (UB = LB); j*lb.sm: rows ``P I UB LB``; j*hrs.sm: best
    known makespans (UB only).
    """
    bounds: dict[tuple[int, int], tuple[int, int | None]] = {}
    lines = Path(path).read_text(encoding="latin-1").splitlines()
    name = Path(path).name
    for line in lines:
        parts = line.split()
        if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]):
            continue
        par, inst, first = int(parts[0]), int(parts[1]), int(parts[2])
        if "opt" in name:
            bounds[(par, inst)] = (first, first)
        elif "hrs" in name:
            bounds[(par, inst)] = (first, None)
        elif len(parts) >= 4 and parts[3].isdigit():
            bounds[(par, inst)] = (first, int(parts[3]))
    return bounds


def known_bounds(folder: str | Path, family: str) -> dict[tuple[int, int], tuple[int, int | None]]:
    """Best known (UB, LB) per instance of a family (j30, j60, j120), merged from every bounds file there."""
    merged: dict[tuple[int, int], tuple[int, int | None]] = {}
    for path in sorted(Path(folder).glob(f"{family}*.sm")):
        if not any(k in path.name for k in ("opt", "lb", "hrs")):
            continue
        for key, (ub, lb) in read_bounds(path).items():
            old_ub, old_lb = merged.get(key, (ub, lb))
            lbs = [x for x in (lb, old_lb) if x is not None]
            merged[key] = (min(ub, old_ub), max(lbs) if lbs else None)
    return merged


def to_problem(inst: Instance, horizon: int | None = None) -> core.Problem:
    links = tuple((i, j, core.FS, 0) for i, succ in enumerate(inst.successors) for j in succ)
    resources = tuple(
        core.Resource(f"R{k + 1}", inst.capacity[k], tuple(d[k] for d in inst.demand))
        for k in range(len(inst.capacity))
    )
    return core.Problem(
        duration=inst.duration,
        release=(0,) * inst.n,
        fixed_start=(None,) * inst.n,
        links=links,
        resources=resources,
        groups=(core.Group("all", tuple(range(inst.n)), 0, 1),),
        horizon=horizon if horizon is not None else sum(inst.duration),
    )


@dataclass(frozen=True)
class Result:
    instance: str
    makespan: int | None
    lower_bound: int
    optimal: bool
    seconds: float
    start: tuple[int, ...] = ()


# Parameters measured in BENCHMARKS.md (PSPLIB section).
DEFAULT_PARAMS: dict = {"linearization_level": 0}  # no LP: see BENCHMARKS.md, PSPLIB


@dataclass
class Options:
    hint: bool = True
    heuristic_share: float = 0.05  # of the time limit, for the list-scheduling hint
    energy_tails: bool = True
    energy_heads: bool = True
    pair_delays: bool = False
    search: str = "auto"
    params: dict | None = None  # CP-SAT parameters for every phase
    phases: list | None = None  # [(share of the time left, CP-SAT parameters)]; None = one phase, DEFAULT_PARAMS
    ga_until: float = 0.9  # on large instances the hint is the GA's (optimize/ga.py), run until this share of the limit
    ga_population: int = 640
    ga_min_jobs: int = 50  # the GA on instances with more jobs (on j30 its time is better spent on the proof)
    set_weights: bool = True  # without the GA: the feasible-set bound (feasible_sets.py)
    set_resource: bool = False  # ... and its weights as a redundant resource (mixed results: BENCHMARKS.md)
    set_limit: int = 5000  # feasible sets enumerated at most
    bnb_after: float = 0.2  # without the GA: CP-SAT until this share of the limit, then the branch-and-bound
    #                         (optimize/bnb.py) for the rest; 1 = CP-SAT only


def solve_instance(inst: Instance, time_limit: float = 10.0, workers: int = 1, seed: int = 0,
                   options: Options | None = None) -> Result:
    """Minimum makespan of one instance: a hint (the GA on large instances, list scheduling and the feasible-set
    bound otherwise), then the CP-SAT phases; on small instances that CP-SAT has not closed within a share of
    the limit, the branch-and-bound for the rest.

    Each phase minimises the makespan from the best schedule so far (as hint and
    as an upper bound); the lower bound is the best any phase proved.
    """
    opt = options or Options()
    t0 = time.perf_counter()
    problem = to_problem(inst)
    d = np.asarray(problem.duration)
    best, upper = None, None
    use_ga = opt.hint and opt.ga_until > 0 and inst.n > opt.ga_min_jobs
    weights = feasible_sets.set_weights(problem, opt.set_limit) if opt.set_weights and not use_ga else None
    if use_ga:
        late = core.late_starts(problem, problem.horizon)
        cpm = int(max(core.early_starts(problem) + d))
        best = ga.solve(inst.duration, inst.successors, inst.capacity, inst.demand, t0 + time_limit * opt.ga_until,
                        seed=seed, lower=cpm, population=opt.ga_population, late_start=late)
    elif opt.hint:
        best = best_schedule(problem, time_budget=time_limit * opt.heuristic_share, seed=seed)
    if best is not None:
        upper = int(max(best + d))
    model = core.CoreModel(problem, core.ModelOptions(
        energy_tails=opt.energy_tails, energy_heads=opt.energy_heads, pair_delays=opt.pair_delays,
        search=opt.search, upper_bound=upper))
    makespan = model.makespan()
    lower = int(model.makespan_lower_bound())
    if weights is not None and weights.lower_bound > lower:
        lower = weights.lower_bound
        model.model.add(makespan >= lower)  # so that CP-SAT stops at a schedule that reaches it
    if weights is not None and opt.set_resource:
        jobs = [j for j, w in enumerate(weights.weight) if w > 0]
        model.model.add_cumulative([model.interval[j] for j in jobs], [weights.weight[j] for j in jobs],
                                   feasible_sets.SCALE)
    use_bnb = not use_ga and opt.bnb_after < 1 and bnb.fits(inst.duration)
    cp_limit = time_limit * opt.bnb_after if use_bnb else time_limit
    phases = opt.phases if opt.phases is not None else [(1.0, DEFAULT_PARAMS if opt.params is None else opt.params)]
    if opt.params is not None and opt.phases is not None:
        phases = [(share, {**params, **opt.params}) for share, params in phases]
    for k, (share, params) in enumerate(phases):
        left = cp_limit - (time.perf_counter() - t0)
        if left <= 0.01 or (upper is not None and lower >= upper):
            break
        budget = left if k == len(phases) - 1 else left * share
        if upper is not None:
            model.model.add(makespan <= upper)
        result = core.solve_stages(model, [("makespan", makespan, "min")],
                                   core.SolverOptions(budget, workers, seed, dict(params)), hint=best)
        if result.status == SolveStatus.INFEASIBLE:  # no schedule at all: a job needs more than a resource's capacity
            break
        if result.start is None:
            continue
        stage = result.stages[0]
        value = int(max(result.start + d))
        if upper is None or value < upper:
            best, upper = result.start, value
        lower = max(lower, int(math.ceil(stage.bound - 1e-9)))
        if stage.optimal:
            lower = max(lower, value)
    if use_bnb and upper is not None and lower < upper:
        found = bnb.solve(inst.duration, inst.successors, inst.capacity, inst.demand, upper, lower,
                          t0 + time_limit, weights.weight if weights is not None else None)
        if found.start is not None:
            best, upper = np.asarray(found.start), found.makespan
        lower = max(lower, found.lower_bound)
    seconds = time.perf_counter() - t0
    if best is None:
        return Result(inst.name, None, lower, False, seconds)
    optimal = lower >= upper
    problems = check_schedule(inst, best)
    if problems:
        raise AssertionError(f"{inst.name}: the solver's schedule breaks the instance: {problems[:3]}")
    return Result(inst.name, upper, min(lower, upper), optimal, seconds, tuple(int(x) for x in best))


def check_schedule(inst: Instance, start) -> list[str]:
    """Independent check of a PSPLIB schedule: precedences and resource capacities per period."""
    from .checker import check_rcpsp

    return check_rcpsp(inst.duration, inst.successors, inst.capacity, inst.demand, start)


RESULT_COLUMNS = ("instance", "makespan", "lower_bound", "optimal", "seconds")


def result_row(r: Result) -> list[str]:
    return [r.instance, "" if r.makespan is None else str(r.makespan), str(r.lower_bound),
            "true" if r.optimal else "false", f"{r.seconds:.3f}"]


def solve_files(files: Iterable[str | Path], time_limit: float = 10.0, workers: int = 1,
                on_result: Callable[[Result], None] | None = None) -> tuple[str, list[Result]]:
    """Solve instance files in order (what ``portfolio psplib`` runs): the CSV of RESULT_COLUMNS and the results.

    Every file is read before any is solved, so a bad one stops the run at once (InputError, file:line:0);
    the numba kernels are compiled before the first instance, not inside its time limit.
    ``on_result`` sees each result as soon as it is done.
    """
    try:
        instances = [read_sm(f) for f in files]
    except FormatError as exc:
        raise InputError(InputProblem(exc.file, exc.line, 0, exc.message)) from exc
    limit = Options().ga_min_jobs
    if any(inst.n > limit for inst in instances):
        ga.compile_now()  # once per machine, then loaded from numba's cache
    if any(inst.n <= limit for inst in instances):
        bnb.compile_now()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    results = []
    for inst in instances:
        result = solve_instance(inst, time_limit, workers)
        results.append(result)
        writer.writerow(result_row(result))
        if on_result is not None:
            on_result(result)
    return buffer.getvalue(), results
