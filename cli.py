"""The ``portfolio`` command: a thin shell over the library.

Exit codes: 0 success, 1 a finding (drift, infeasible plan), 2 bad input or usage.
Errors print as one line each, without a traceback unless ``--debug`` is given.
"""
from __future__ import annotations

import contextlib
import functools
import sys
import traceback

import click

from portfolio.errors import InputError


class Finding(Exception):
    """A result the user must act on (exit 1), e.g. an infeasible plan or a regression."""


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def guarded(command):
    """Turn user errors into clear one-line messages and exit codes."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            if debug:
                traceback.print_exc()
            _fail("\n".join(str(p) for p in exc.problems), 2)
        except Finding as exc:
            if debug:
                traceback.print_exc()
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", 130)

    return wrapper


DASK_HELP = ("Run the Monte Carlo on Dask: tcp://HOST:PORT (a running scheduler) or local:N (a local cluster of N "
             "workers); same files as a local run (docs/cluster.md).")


@contextlib.contextmanager
def dask_executor(spec: str | None, workers: int | None):
    """The executor of ``--dask`` for the ``with`` block (None without the option); its problems exit 2."""
    if not spec:
        yield None
        return
    if workers:
        raise click.UsageError("--workers counts local processes; with --dask the cluster's workers do the work")
    from simulate.executors import ExecutorError, open_executor

    try:
        with open_executor(spec) as executor:
            yield executor
    except ExecutorError as exc:
        _fail(f"dask: {exc}", 2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def main(debug):
    """Schedule and simulate a portfolio of major infrastructure projects."""


@main.command()
@click.argument("target", type=click.Path())
@guarded
def validate(target):
    """Check a scenario's data (or a data folder); list every problem with file, line and column."""
    from scenarios.load import load_target
    from portfolio.summary import validation_summary

    portfolio, settings = load_target(target)
    click.echo(validation_summary(portfolio, settings))


@main.command("simulate")
@click.argument("scenario", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder to write (built aside, then renamed).")
@click.option("--iterations", type=click.IntRange(min=1), help="Monte Carlo iterations (default: the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the scenario's).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the scenario's); any number gives the same files.")
@click.option("--plan", "plan_dir", type=click.Path(), help="Run folder whose schedule.csv gives the planned starts (default: as soon as possible).")
@click.option("--engine", help="Simulation engine: fast or simpy, the same results (default: the scenario's, else fast).")
@click.option("--dask", metavar="ADDRESS|local:N", help=DASK_HELP)
@guarded
def simulate_command(scenario, out, iterations, seed, workers, plan_dir, engine, dask):
    """Monte Carlo of the plan against the deadlines: chance on time, P50/P80/P90 finish, what drives the risk."""
    import simulate as sim
    from report.runfolder import atomic_folder
    from scenarios.load import load_target

    portfolio, settings = load_target(scenario)
    plan = sim.read_plan_starts(plan_dir, portfolio) if plan_dir else None
    with dask_executor(dask, workers) as executor, atomic_folder(out) as folder:
        result = sim.run(portfolio, settings, plan_starts=plan, iterations=iterations, seed=seed,
                         workers=workers or settings.simulate.workers, progress=sys.stderr.isatty(), engine=engine,
                         executor=executor)
        sim.write_outputs(result, folder)
    click.echo(sim.summary_text(result))
    click.echo(f"wrote {out}")


@main.command("report")
@click.argument("run_dir", metavar="DIR", type=click.Path())
@guarded
def report_command(run_dir):
    """(Re)write DIR/report.md and a self-contained DIR/report.html (charts in DIR/charts/) from a run folder."""
    from report.fonts import MissingFontError
    from report.write import write_report

    try:
        written = write_report(run_dir)
    except MissingFontError as exc:
        _fail(str(exc), 2)
    click.echo(f"wrote {written['report.html']} and {written['report.md']} "
               f"({sum(1 for k in written if k.startswith('charts/'))} charts)")


@main.command("compare")
@click.argument("dir_a", metavar="DIR_A", type=click.Path())
@click.argument("dir_b", metavar="DIR_B", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Also write the Markdown to this file.")
@guarded
def compare_command(dir_a, dir_b, out_file):
    """What changed from run DIR_A to run DIR_B, as Markdown: plan, P(on time), P80, spending, inputs."""
    from pathlib import Path

    from report.compare import compare_runs

    text = compare_runs(dir_a, dir_b)
    click.echo(text, nl=False)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")


@main.command("check")
@click.argument("run_dir", metavar="DIR", type=click.Path())
@click.option("--expected", required=True, type=click.Path(), help="The run folder with the expected outputs.")
@guarded
def check_command(run_dir, expected):
    """Regression check of DIR against --expected DIR (tolerances in docs/regression.md); exit 1 on drift."""
    from report.check import check_runs

    result = check_runs(run_dir, expected)
    if not result.ok:
        raise Finding(result.report())
    click.echo(result.report())


DET_HELP = ("CP-SAT deterministic time for the plan, all stages together (default: the scenario's "
            "deterministic_time); the same value gives the same plan on any machine.")
SAFETY_HELP = "Wall-clock seconds after which CP-SAT stops anyway, marking the plan not reproducible (default: the scenario's time_limit_s)."


@main.command("schedule")
@click.argument("scenario", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder to write (built aside, then renamed).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), help=SAFETY_HELP)
@click.option("--deterministic-time", type=click.FloatRange(min=0.01), help=DET_HELP)
@click.option("--workers", type=click.IntRange(min=1), help="CP-SAT worker threads (default: the scenario's); any number is deterministic.")
@guarded
def schedule_command(scenario, out, time_limit, deterministic_time, workers):
    """CP-SAT plan under funding caps, resources and deadlines: schedule.csv, projects.csv, funding.csv.

    Prints status (optimal / feasible), objective, best bound, gap and solve time;
    exit 1 when no plan fits, with the reasons (short years and sources, impossible chains).
    """
    import optimize
    from optimize.output import summary_lines, write_plan
    from report.runfolder import atomic_folder
    from scenarios.load import load_target

    portfolio, settings = load_target(scenario)
    try:
        plan = optimize.solve(portfolio, settings, time_limit=time_limit, workers=workers,
                              deterministic_time=deterministic_time)
    except optimize.Infeasible as exc:
        raise Finding(str(exc)) from exc
    with atomic_folder(out) as folder:
        write_plan(portfolio, settings, plan, folder)
    click.echo(f"scenario: {settings.name} ({len(portfolio.activities)} activities, {len(portfolio.projects)} projects)")
    for line in summary_lines(portfolio, plan):
        click.echo(line)
    click.echo(f"wrote {out}")


@main.command("psplib")
@click.argument("files", metavar="FILE...", nargs=-1, required=True, type=click.Path())
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds per instance.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="CP-SAT worker threads.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="CSV to write (default: standard output).")
@guarded
def psplib_command(files, time_limit, workers, out_file):
    """Solve PSPLIB single-mode RCPSP instances (.sm) with the scheduler's model core (benchmark).

    Instances over 50 jobs get a genetic algorithm's schedule as hint; on smaller ones that CP-SAT has not
    closed within a fifth of the time limit, a branch-and-bound takes the rest. CSV columns: instance, makespan, lower_bound, optimal, seconds.
    """
    import csv
    import io
    from pathlib import Path

    from optimize import bnb, ga, psplib
    from portfolio.errors import InputError, Problem

    try:
        instances = [psplib.read_sm(f) for f in files]
    except psplib.FormatError as exc:
        raise InputError(Problem(exc.file, exc.line, 0, exc.message)) from exc
    if any(inst.n > psplib.Options().ga_min_jobs for inst in instances):
        ga.compile_now()  # once per machine, then loaded from numba's cache: not inside an instance's time limit
    if any(inst.n <= psplib.Options().ga_min_jobs for inst in instances):
        bnb.compile_now()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(psplib.RESULT_COLUMNS)
    proven = 0
    for inst in instances:
        result = psplib.solve_instance(inst, time_limit, workers)
        proven += result.optimal
        writer.writerow(psplib.result_row(result))
        if out_file:
            click.echo(",".join(psplib.result_row(result)))
    if out_file:
        Path(out_file).parent.mkdir(parents=True, exist_ok=True)
        Path(out_file).write_text(buffer.getvalue(), encoding="utf-8")
        click.echo(f"{proven} of {len(instances)} proven optimal; wrote {out_file}")
    else:
        click.echo(buffer.getvalue(), nl=False)


@main.command("backtest")
@click.argument("scenario", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write (built aside, then renamed).")
@click.option("--iterations", type=click.IntRange(min=1), help="Monte Carlo iterations (default: the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the scenario's).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: the scenario's); any number gives the same files.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), help=SAFETY_HELP)
@click.option("--as-of", "as_of", metavar="YYYY-MM", help="Date of the data's outcomes (default: the latest actual date in the data).")
@click.option("--asap", is_flag=True, help="Simulate without the optimizer's plan: every activity as soon as links and funds allow.")
@guarded
def backtest_command(scenario, out, iterations, seed, workers, time_limit, as_of, asap):
    """Forecast the scenario as of its status date with what was known then, and score it against the data.

    Writes backtest.csv, calibration.csv, scores.json, backtest.md, backtest.html and charts/ (docs/backtest.md);
    prints the Brier and log scores beside the naive forecasts "every project on time" and "base rate".
    """
    import optimize
    from portfolio.errors import InputError, Problem
    from portfolio.months import parse_month
    from report.backtest import run_backtest, summary_text, write_backtest
    from report.fonts import MissingFontError
    from report.runfolder import atomic_folder
    from scenarios.load import load_target

    month = None
    if as_of is not None:
        try:
            month = parse_month(as_of)
        except ValueError as exc:
            raise InputError(Problem("--as-of", 0, 0, str(exc))) from None
    portfolio, settings = load_target(scenario)
    try:
        result = run_backtest(portfolio, settings, as_of=month, iterations=iterations, seed=seed, workers=workers,
                              progress=sys.stderr.isatty(), time_limit=time_limit, use_plan=not asap)
    except optimize.Infeasible as exc:
        raise Finding(str(exc)) from exc
    try:
        with atomic_folder(out) as folder:
            write_backtest(result, folder, portfolio)
    except MissingFontError as exc:
        _fail(str(exc), 2)
    click.echo(summary_text(result))
    click.echo(f"wrote {out}")



@main.command("run")
@click.argument("scenario", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder to write (built aside, then renamed).")
@click.option("--iterations", type=click.IntRange(min=1), help="Monte Carlo iterations (default: the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the scenario's).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes for the simulation; any number gives the same files.")
@click.option("--engine", help="Simulation engine: fast or simpy, the same results (default: the scenario's, else fast).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), help=SAFETY_HELP)
@click.option("--deterministic-time", type=click.FloatRange(min=0.01), help=DET_HELP)
@click.option("--dask", metavar="ADDRESS|local:N", help=DASK_HELP)
@guarded
def run_command(scenario, out, iterations, seed, workers, engine, time_limit, deterministic_time, dask):
    """Schedule, simulate and report in one go: the whole run folder of DESIGN.md, written atomically."""
    import optimize
    import simulate as sim
    from optimize.output import summary_lines
    from report.fonts import MissingFontError
    from report.pipeline import run_scenario
    from scenarios.load import load_target

    portfolio, settings = load_target(scenario)
    try:
        with dask_executor(dask, workers) as executor:
            result = run_scenario(portfolio, settings, out, iterations=iterations, seed=seed, workers=workers,
                                  engine=engine, time_limit=time_limit, progress=sys.stderr.isatty(),
                                  executor=executor, deterministic_time=deterministic_time)
    except optimize.Infeasible as exc:
        raise Finding(str(exc)) from exc
    except MissingFontError as exc:
        _fail(str(exc), 2)
    click.echo(f"scenario: {settings.name} ({len(portfolio.activities)} activities, {len(portfolio.projects)} projects)")
    for line in summary_lines(portfolio, result.plan):
        click.echo(line)
    click.echo(sim.summary_text(result.simulation))
    click.echo(f"wrote {out} (report: {out}/report.html)")


@main.command("sweep")
@click.argument("scenarios", metavar="SCENARIO...", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the variants' run folders and the summary.")
@click.option("--iterations", type=click.IntRange(min=1), help="Monte Carlo iterations of every variant (default: each scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed of every variant (default: each scenario's).")
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: each scenario's); any number gives the same files.")
@click.option("--engine", help="Simulation engine (default: each scenario's).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), help="Wall-clock safety net for CP-SAT per variant (default: each scenario's time_limit_s).")
@click.option("--deterministic-time", type=click.FloatRange(min=0.01), help=DET_HELP)
@click.option("--dask", metavar="ADDRESS|local:N", help="Run the plans and the Monte Carlo on Dask: tcp://HOST:PORT or local:N (docs/cluster.md).")
@guarded
def sweep_command(scenarios, out, iterations, seed, workers, engine, time_limit, deterministic_time, dask):
    """Run many variants into DIR/<variant>/ and compare them in DIR/summary.md and DIR/summary.csv.

    The variants are the scenario files given, each over its [sweep] grid of funding scales (docs/scenarios.md);
    each is a full run (plan, simulation, report) written whole as soon as it is done. Exit 1 when a variant has
    no plan (the summary says why).
    """
    from report.fonts import MissingFontError
    from report.sweep import run_sweep, summary_text

    try:
        with dask_executor(dask, workers) as executor:
            result = run_sweep(scenarios, out, iterations=iterations, seed=seed, workers=workers, engine=engine,
                               time_limit=time_limit, executor=executor, echo=click.echo,
                               deterministic_time=deterministic_time)
    except MissingFontError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        _fail(f"interrupted; the variants listed above are complete in {out}, no summary was written", 130)
    click.echo(summary_text(result))
    if result.without_plan:
        raise Finding(f"{len(result.without_plan)} of {len(result.outcomes)} variants have no plan: "
                      + ", ".join(o.variant.name for o in result.without_plan))


if __name__ == "__main__":
    main()
