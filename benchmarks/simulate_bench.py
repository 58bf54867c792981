"""Monte Carlo throughput of the simulation engine (see BENCHMARKS.md, section Simulation).

Measures iterations per second of ``simulate.run`` on the bundled baseline
scenario (or, when the bundled data cannot be loaded, on a synthetic portfolio of
about 100 activities), in one process and with worker processes, plus the time
the sampling layer and the statistics take per iteration, and writes the numbers
into the "Simulation" section of BENCHMARKS.md (other sections are left as they are).

    python benchmarks/simulate_bench.py                       # baseline, 4096 iterations, 1 and 2 workers
    python benchmarks/simulate_bench.py --iterations 10000 --workers 1,2
    python benchmarks/simulate_bench.py --synthetic --no-write
"""
from __future__ import annotations

import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import simpy  # noqa: E402

import simulate  # noqa: E402
from portfolio.errors import InputError  # noqa: E402
from simulate.engine_simpy import run_block  # noqa: E402
from simulate.model import build_model  # noqa: E402
from simulate.sampling import draws_for  # noqa: E402
from simulate.stats import accumulate  # noqa: E402
from tests.portfolio_builders import synthetic_portfolio  # noqa: E402
from benchmarks_md import add_output_options, argument_parser, command_lines, load_average, publish, table  # noqa: E402

SECTION = "## Simulation"


def load(args):
    if not args.synthetic:
        try:
            from scenarios.load import load_target

            portfolio, settings = load_target(args.scenario)
            plan = simulate.read_plan_starts(args.plan, portfolio) if args.plan else None
            path = Path(args.scenario).resolve()
            name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
            return f"bundled `{name}`", portfolio, settings, plan
        except (ImportError, InputError) as exc:
            print(f"cannot load {args.scenario} ({str(exc).splitlines()[0]}); using the synthetic portfolio",
                  file=sys.stderr)
    portfolio, settings = synthetic_portfolio(n_projects=10, per_project=10, seed=0)
    return "synthetic (10 projects x 10 activities, `tests/portfolio_builders.py`)", portfolio, settings, None


def measure(args):
    label, portfolio, settings, plan = load(args)
    model = build_model(portfolio, settings, plan)
    rows = []
    for workers in args.workers:
        simulate.run(portfolio, settings, plan, iterations=min(256, args.iterations), seed=args.seed, workers=workers,
                     engine="simpy")
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            simulate.run(portfolio, settings, plan, iterations=args.iterations, seed=args.seed, workers=workers,
                         engine="simpy")
            times.append(time.perf_counter() - t0)
        seconds = min(times)
        rows.append((workers, seconds, args.iterations / seconds))
        print(f"workers {workers}: {args.iterations} iterations in {seconds:.2f} s = "
              f"{args.iterations / seconds:,.0f} iterations/s", file=sys.stderr)
    # The layers one by one, in this process, on 1024 iterations (one sampling block).
    t0 = time.perf_counter()
    draws = draws_for(model, args.seed, 0, 1024)
    t_draw = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = run_block(model, draws)
    t_exec = time.perf_counter() - t0
    t0 = time.perf_counter()
    accumulate(model, draws, out)
    t_stats = time.perf_counter() - t0
    layers = (t_draw / 1024 * 1e6, t_exec / 1024 * 1e6, t_stats / 1024 * 1e6)
    size = (model.n, len(model.link_pred), model.n_projects, model.n_risks)
    return label, size, rows, layers


def section(args, label, size, rows, layers) -> str:
    n, links, projects, risks = size
    command = "python benchmarks/simulate_bench.py " + " ".join(args.argv)
    lines = [
        SECTION,
        "",
        f"SimPy reference engine (`simulate/engine_simpy.py`: one process per activity, a bank process paying",
        f"month by month), measured {date.today().isoformat()} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SimPy {simpy.__version__}.",
        "",
        f"Portfolio: {label}: {n} activities, {links} binding links, {projects} projects, {risks} risks;",
        f"{'planned starts from ' + args.plan if args.plan else 'no plan (ASAP)'}; seed {args.seed}, "
        f"{args.iterations} iterations; fastest of {args.repeat} runs; load average {args.load:.1f} at the start.",
        "",
        *table(["workers", "seconds", "iterations/s"], ([w, f"{sec:.2f}", f"{r:,.0f}"] for w, sec, r in rows)),
    ]
    lines += [
        "",
        "Per iteration, in one process (1024 iterations): sampling "
        f"{layers[0]:.1f} µs, SimPy execution {layers[1]:,.0f} µs, statistics {layers[2]:.1f} µs.",
        "The statistics are integer sums, so every worker count gives the same bytes; extra workers only",
        "add speed (chunks of 256 iterations, merged in order), as far as free cores allow.",
    ]
    if args.load >= 0.5:
        lines += [
            "",
            f"The machine was shared with other jobs during this measurement (load average {args.load:.1f} on "
            f"{os.cpu_count()} cores),",
            "which slows the runs with several workers most; re-run on an idle machine for clean numbers.",
        ]
    return "\n".join(lines + command_lines(command))




def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argument_parser(__doc__)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    ap.add_argument("--plan", help="run folder whose schedule.csv gives the planned starts")
    ap.add_argument("--synthetic", action="store_true", help="use the synthetic 100-activity portfolio")
    ap.add_argument("--iterations", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts to measure")
    ap.add_argument("--repeat", type=int, default=3, help="runs per worker count; the fastest is recorded")
    add_output_options(ap)
    args = ap.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",")]
    args.argv = [a for a in argv if a != "--no-write"]
    args.load = load_average()
    label, size, rows, layers = measure(args)
    publish(section(args, label, size, rows, layers), SECTION, args.out, args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
