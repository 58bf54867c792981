"""A sweep: many variants, each a full run (plan, Monte Carlo, report), and a summary that compares them.

The variants are the scenario files given, each expanded over its ``[sweep]`` grid of funding scales
(docs/scenarios.md, "Sweeps"; a file without one is one variant). Every variant is written to
``OUT/<variant>/`` exactly as ``portfolio run`` writes a run folder, plus a ``sweep`` section in its manifest
naming the scenario and the factors; then ``OUT/summary.csv``, ``OUT/summary.md`` and ``OUT/summary.html`` (charts:
a heatmap and a dumbbell of P(on time), the P80 shifts; rendered by ``report.sweep`` and ``report.sweep_html``)
compare P(on time), the P80 finish and the plan status across the variants, and ``OUT/manifest.json`` lists them.

Atomicity is **per variant**: each variant folder is built beside its target and renamed into place when that
variant is complete, so an interrupted sweep keeps the variants it finished and never a half-written one; the
summary files are written last, each replaced whole. A variant for which no plan fits gets no folder; the summary
says why, and the sweep reports it as a finding.

Where the work runs: with a local executor (no ``--dask``), the plans are solved one after the other (or in
``workers`` processes) and each Monte Carlo runs in ``workers`` processes. With a Dask executor every plan is a
task on the cluster, and the Monte Carlo blocks of several variants are in flight at once, so that a cluster
larger than one variant's blocks is kept busy. Either way the files are the same bytes (plans that CP-SAT proves
optimal are the same wherever they are solved; a plan cut short by the time limit depends on the machine's speed,
as with ``portfolio run``).
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import optimize
import simulate
from optimize.output import write_plan
from portfolio.errors import InputError, InputProblem
from portfolio.limits import usable_processes
from portfolio.model import Portfolio
from portfolio.runfolder import MARKER, atomic_folder, check_out, package_versions, sha256_of, write_csv, write_manifest
from report.sweep import PORTFOLIO, summary_frame, summary_markdown
from report.sweep_html import summary_html
from report.write import write_report
from scenarios.load import Variant, load_target, sweep_variants
from scenarios.rules import scenario_rules
from scenarios.settings import Settings
from simulate.executors import DaskExecutor, local_executor
from simulate.model import BLOCK

from .pipeline import planned_starts


@dataclass
class VariantOutcome:
    variant: Variant
    scenario: str  # the scenario's own name (before the grid's factors)
    folder: str  # folder name under OUT ("" when the variant has no plan)
    plan_status: str  # optimal / feasible / infeasible / no plan
    message: str = ""  # why there is no plan
    simulation: object = field(default=None, repr=False)  # simulate.SimulationResult
    plan: object = field(default=None, repr=False)


@dataclass
class SweepResult:
    out: Path
    outcomes: list[VariantOutcome]
    # "plans", "runs" (Monte Carlo and folders), "writing" (the folders and reports, part of "runs"), "summary"
    seconds: dict = field(default_factory=dict)

    @property
    def without_plan(self) -> list[VariantOutcome]:
        return [o for o in self.outcomes if o.simulation is None]


def folder_name(name: str) -> str:
    """A variant's name as a folder name: letters (any script), digits, ``_ . + -``; others become ``_``."""
    text = re.sub(r"[^\w.+-]", "_", name).strip(".") or "variant"
    return text


def load_variants(targets) -> list[tuple[str, Variant]]:
    """(scenario name, variant) for every variant of every scenario file (or data folder), in order."""
    if not targets:
        raise InputError(InputProblem("sweep", 0, 0, "no scenario given"))
    out: list[tuple[str, Variant]] = []
    problems: list[InputProblem] = []
    seen: dict[str, str] = {}
    for target in targets:
        portfolio, settings = load_target(target)
        for variant in sweep_variants(portfolio, settings):
            key = folder_name(variant.name).lower()  # folders must differ on case-insensitive file systems too
            if key in seen:
                problems.append(InputProblem(str(target), 0, 0, f"two variants would write the folder "
                                                           f"{folder_name(variant.name)!r} (the other from "
                                                           f"{seen[key]}); give the scenarios different names "
                                                           "(name = \"...\")"))
            seen.setdefault(key, str(target))
            out.append((settings.name, variant))
    if problems:
        raise InputError(problems)
    return out


def _plan_task(portfolio: Portfolio, settings: Settings, time_limit, deterministic_time=None):
    """One variant's plan, as a pure task: ("ok", Plan) or (status, why) — never raises for a planner's finding."""
    try:
        return "ok", optimize.solve(portfolio, settings, time_limit=time_limit, deterministic_time=deterministic_time)
    except optimize.NoPlanFound as exc:
        return "no plan", str(exc)
    except optimize.Infeasible as exc:
        return "infeasible", str(exc)


def run_sweep(targets, out, *, iterations=None, seed=None, workers=None, engine=None, time_limit=None,
              executor=None, echo=None, report: bool = True, deterministic_time=None) -> SweepResult:
    """Run every variant of ``targets`` into ``out``/<variant>/ and write the summary; see the module docstring.

    ``executor``: a ``simulate.executors`` executor (a Dask one from ``open_executor``); None = local processes
    (``workers``, default each scenario's). ``echo``: called with one line per finished variant. ``report``:
    False leaves out each variant's report.md/report.html and charts (the data files are the same).
    """
    variants = load_variants(targets)
    out = Path(out)
    check_out(out, kind="sweep")  # and every variant's folder, before hours of work, not when it is written
    for _scenario, v in variants:
        check_out(out / folder_name(v.name))
    echo = echo or (lambda _line: None)
    dask = isinstance(executor, DaskExecutor)
    # Plans first, all of them, spread over the workers (one CP-SAT solve each); then the Monte Carlo.
    plans_on = executor if executor is not None else local_executor(
        usable_processes(workers or max(v.settings.simulate.workers for _s, v in variants), len(variants)))
    calls = [(v.portfolio, v.settings, time_limit, deterministic_time) for _s, v in variants]
    t0 = time.perf_counter()
    plans = list(plans_on.map(_plan_task, calls))
    t_plans = time.perf_counter()

    def simulate_one(k: int):
        (_, v), (status, plan) = variants[k], plans[k]
        if status != "ok":
            return None
        return simulate.run(v.portfolio, v.settings, plan_starts=planned_starts(plan), iterations=iterations,
                            seed=seed, workers=workers or v.settings.simulate.workers, engine=engine,
                            executor=executor)

    out.mkdir(parents=True, exist_ok=True)
    outcomes: list[VariantOutcome] = []

    writing = [0.0]

    def finish(k: int, result) -> None:
        t_write = time.perf_counter()
        (scenario, v), (status, plan) = variants[k], plans[k]
        if result is None:
            outcome = VariantOutcome(v, scenario, "", status, message=plan)
            echo(f"[{k + 1}/{len(variants)}] {v.name}: {status}, no folder written")
        else:
            name = folder_name(v.name)
            with atomic_folder(out / name, tables_workbook=True) as folder:
                write_plan(v.portfolio, v.settings, plan, folder)
                simulate.write_outputs(result, folder)
                write_manifest(folder, v.settings, v.portfolio, scenario_rules(v.settings),
                               sweep=_sweep_section(scenario, v))
                if report:
                    write_report(folder)
            outcome = VariantOutcome(v, scenario, name, plan.status, simulation=result, plan=plan)
            sim = result.simulation
            due = sim[sim.project_id != PORTFOLIO]
            first = due[due.deadline == due.deadline.min()]
            echo(f"[{k + 1}/{len(variants)}] {v.name}: plan {plan.status}, due {first.deadline.min()}: expected "
                 f"misses {float((1 - first.p_on_time).sum()):.1f} of {len(first)}, portfolio P80 "
                 f"{sim.iloc[-1].finish_p80}; wrote {out / name}")
        outcomes.append(outcome)
        writing[0] += time.perf_counter() - t_write

    if dask and len(variants) > 1:
        # Several variants' blocks in flight at once, enough to keep every worker thread busy; the folders are
        # written here, in variant order, as the Monte Carlo results come in.
        per_variant = max(1, math.ceil((iterations or max(v.settings.simulate.iterations for _s, v in variants))
                                       / (executor.block_iterations or BLOCK)))
        threads = min(len(variants), max(2, math.ceil(executor.threads() / per_variant) + 1))
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sweep")
        futures = [pool.submit(simulate_one, k) for k in range(len(variants))]
        try:
            for k, future in enumerate(futures):
                finish(k, future.result())
        except BaseException:  # Ctrl-C or a failure: stop the other variants' runs now, not when they are done
            pool.shutdown(wait=False, cancel_futures=True)
            executor.cancel()
            raise
        pool.shutdown(wait=True)
    else:
        for k in range(len(variants)):
            finish(k, simulate_one(k))
    t_runs = time.perf_counter()
    result = SweepResult(out, outcomes)
    write_summary(result, targets)
    result.seconds = {"plans": t_plans - t0, "runs": t_runs - t_plans, "writing": writing[0],
                      "summary": time.perf_counter() - t_runs}
    return result


def _sweep_section(scenario: str, v: Variant) -> dict:
    """What manifest.json records under ``sweep``: the scenario, the variant and the funding caps it scaled."""
    return {"scenario": scenario, "variant": v.name,
            "funding_scales": [{"name": a.label, "sources": list(a.sources), "from": a.first, "to": a.last,
                                "factor": f} for a, (_label, f) in zip(v.axes, v.factors)]}


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_summary(result: SweepResult, targets=()) -> dict[str, Path]:
    """OUT/summary.csv, OUT/summary.md, OUT/summary.html and OUT/manifest.json (the only file with a timestamp)."""
    out = result.out
    frame = summary_frame(result)
    paths = {name: out / name for name in ("summary.csv", "summary.md", "summary.html", "manifest.json")}
    tmp_csv = out / f".summary.csv.tmp-{os.getpid()}"
    try:
        write_csv(frame, tmp_csv)
        os.replace(tmp_csv, paths["summary.csv"])
    finally:
        tmp_csv.unlink(missing_ok=True)
    _write_atomic(paths["summary.md"], summary_markdown(result, frame).encode("utf-8"))
    _write_atomic(paths["summary.html"], summary_html(result.outcomes, frame).encode("utf-8"))
    manifest = {
        **MARKER,
        "sweep": [{"variant": o.variant.name, "scenario": o.scenario, "folder": o.folder,
                   "plan_status": o.plan_status, **_sweep_section(o.scenario, o.variant)}
                  for o in result.outcomes],
        "scenario_files": {Path(t).name: sha256_of(t) for t in targets if Path(t).is_file()},
        "versions": package_versions(),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _write_atomic(paths["manifest.json"],
                  (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
    return paths
