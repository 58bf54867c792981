"""The ``portfolio`` command: a thin shell over the library.

Exit codes: 0 success, 1 a finding (drift, infeasible plan), 2 bad input or usage, 130 / 143 stopped by Ctrl-C /
SIGTERM (docs/safety.md).
Errors print as one line each, without a traceback unless ``--debug`` is given.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import sys
import traceback

import click

from portfolio import interrupts
from portfolio.errors import PortfolioError
from portfolio.limits import MAX_DETERMINISTIC_TIME, MAX_ITERATIONS, MAX_SEED, MAX_TIME_LIMIT_S, MAX_WORKERS
from portfolio.interrupts import Terminated


class Finding(PortfolioError):
    """A result the user must act on (exit 1), e.g. an infeasible plan or a regression."""

    exit_code = 1


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


STOPPED = {signal.SIGINT: "interrupted; nothing was written", signal.SIGTERM: "terminated; nothing was written"}


def guarded(command):
    """Turn user errors into clear one-line messages and exit codes: the one place errors meet exit codes."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            _fail(STOPPED[signal.SIGINT], 130)
        except Terminated:
            _fail(STOPPED[signal.SIGTERM], 143)
        except Exception as exc:
            stopping_for = interrupts.received()
            if stopping_for:  # the signal broke off a call that reports it as another error
                if debug:
                    traceback.print_exc()
                _fail(STOPPED[stopping_for], interrupts.EXIT_STATUS[stopping_for])
            if not isinstance(exc, PortfolioError) or exc.exit_code is None:
                raise  # a bug, not the user's error: the traceback is the report
            if debug:
                traceback.print_exc()
            _fail(str(exc), exc.exit_code)

    return wrapper


class FiniteFloat(click.FloatRange):
    """A number option within its range that is never nan or inf (click's FloatRange lets nan through)."""

    name = "finite float"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


ITERATIONS = click.IntRange(1, MAX_ITERATIONS)
SEED = click.IntRange(0, MAX_SEED)
WORKERS = click.IntRange(1, MAX_WORKERS)
TIME_LIMIT = FiniteFloat(0.1, MAX_TIME_LIMIT_S)
DET_TIME = FiniteFloat(0.01, MAX_DETERMINISTIC_TIME)

DET_HELP = ("CP-SAT deterministic time for the plan, all stages together (default: the scenario's "
            "deterministic_time); the same value gives the same plan on any machine.")
SAFETY_HELP = "Wall-clock seconds after which CP-SAT stops anyway, marking the plan not reproducible (default: the scenario's time_limit_s)."
PROGRESS_HELP = "No progress on the terminal (the solver's and the simulation's)."


def _option(*names, help: str, **fixed):
    """An option declared once for every command that takes it; a command may reword its help or change
    ``type``, ``default`` or ``required`` where the option means something narrower there."""

    def declare(help_text: str = help, **changes):
        return click.option(*names, help=help_text, **{**fixed, **changes})

    return declare


out_option = _option("--out", type=click.Path(), required=True, help="Run folder to write (built aside, then renamed).")
iterations_option = _option("--iterations", type=ITERATIONS, help="Monte Carlo iterations (default: the scenario's).")
seed_option = _option("--seed", type=SEED, help="Random seed (default: the scenario's).")
workers_option = _option("--workers", type=WORKERS,
                         help="Worker processes (default: the scenario's); any number gives the same files.")
engine_option = _option("--engine",
                        help="Simulation engine: fast or simpy, the same results (default: the scenario's, else fast).")
time_limit_option = _option("--time-limit", type=TIME_LIMIT, help=SAFETY_HELP)
deterministic_time_option = _option("--deterministic-time", type=DET_TIME, help=DET_HELP)
quiet_option = _option("--quiet", is_flag=True, help=PROGRESS_HELP)
scenario_argument = click.argument("scenario", type=click.Path())


def monte_carlo_options(workers_help: str | None = None):
    """--iterations, --seed and --workers of a command that simulates one scenario."""
    workers = workers_option(workers_help) if workers_help else workers_option()

    def decorate(command):
        for option in (workers, seed_option(), iterations_option()):  # innermost first: listed in this order
            command = option(command)
        return command

    return decorate


def claims_out(kind: str = "run", param: str = "out"):
    """Check ``--out`` and lock it for the whole command, before any work (docs/safety.md): a place the tool may
    not write, or one another run is writing, exits 2 at once."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            from portfolio.runfolder import claimed

            with claimed(kwargs[param], kind=kind):
                return command(*args, **kwargs)

        return wrapper

    return decorate


DASK_HELP = ("Run the Monte Carlo on Dask: tls://HOST:PORT (a running scheduler, with --tls-*), tcp://HOST:PORT (trusted "
             "networks only: no authentication) or local:N (a local cluster of N <= 64 workers on loopback); same files as a "
             "local run (docs/cluster.md).")
TLS_FILES = (("--tls-ca-file", "tls_ca_file", "CA certificate (PEM) of a tls:// Dask cluster."),
             ("--tls-cert", "tls_cert", "This client's certificate (PEM), signed by that CA."),
             ("--tls-key", "tls_key", "The private key of --tls-cert (unless appended to that file)."))


def dask_options(help_text: str = DASK_HELP):
    """--dask and its TLS files; the command gets them as one ``dask`` argument, (address, {option: file})."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, dask, **kwargs):
            tls = {name: kwargs.pop(name) for _, name, _ in TLS_FILES}
            return command(*args, dask=(dask, {k: v for k, v in tls.items() if v}), **kwargs)

        for flag, name, text in reversed(TLS_FILES):
            wrapper = click.option(flag, name, type=click.Path(exists=True, dir_okay=False), help=text)(wrapper)
        return click.option("--dask", metavar="ADDRESS|local:N", help=help_text)(wrapper)

    return decorate


@contextlib.contextmanager
def dask_executor(dask: tuple[str | None, dict], workers: int | None):
    """The executor of ``--dask`` for the ``with`` block (None without the option); its problems exit 2."""
    spec, tls = dask
    if not spec:
        if tls:
            raise click.UsageError("--tls-ca-file, --tls-cert and --tls-key need --dask tls://HOST:PORT")
        yield None
        return
    if workers:
        raise click.UsageError("--workers counts local processes; with --dask the cluster's workers do the work")
    from simulate.executors import ExecutorError, client_security, open_executor

    try:
        with open_executor(spec, security=client_security(**tls) if tls else None,
                           warn=lambda message: click.echo(message, err=True)) as executor:
            yield executor
    except ExecutorError as exc:
        _fail(f"dask: {exc}", 2)


def _no_bom(ctx, param, value):
    if value:
        from portfolio.runfolder import BOM_SWITCH

        os.environ[BOM_SWITCH] = "0"


no_bom_option = click.option(
    "--no-bom", is_flag=True, expose_value=False, is_eager=True, callback=_no_bom,
    help="Write CSV files without the UTF-8 byte-order mark (default: with it, so that Excel reads Chinese text; "
         "also PORTFOLIO_CSV_BOM=0).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def main(debug):
    """Schedule and simulate a portfolio of major infrastructure projects."""
    click.get_current_context().call_on_close(interrupts.install())  # Ctrl-C, SIGTERM: exit 130, 143


@main.command()
@click.argument("target", type=click.Path())
@guarded
def validate(target):
    """Check a scenario's data (or a data folder); list every problem with file, line and column."""
    from runs.commands import validate as validate_target

    click.echo(validate_target(target))


@main.command("simulate")
@no_bom_option
@scenario_argument
@out_option()
@monte_carlo_options()
@click.option("--plan", "plan_dir", type=click.Path(), help="Run folder whose schedule.csv gives the planned starts (default: as soon as possible).")
@engine_option()
@dask_options()
@guarded
@claims_out()
def simulate_command(scenario, out, iterations, seed, workers, plan_dir, engine, dask):
    """Monte Carlo of the plan against the deadlines: chance on time, P50/P80/P90 finish, what drives the risk."""
    import simulate as sim
    from runs.commands import simulate_plan

    with dask_executor(dask, workers) as executor:
        result = simulate_plan(scenario, out, plan_dir=plan_dir, iterations=iterations, seed=seed, workers=workers,
                               engine=engine, executor=executor, progress=sys.stderr.isatty())
    click.echo(sim.summary_text(result))
    click.echo(f"wrote {out}")


@main.command("report")
@click.argument("run_dir", metavar="DIR", type=click.Path())
@click.option("--gantt-window", metavar="FROM:TO", help="Months of the Gantt's time axis, e.g. 2021-01:2027-12 "
              "(default: from the status date's year to the last deadline, at most 10 years).")
@guarded
@claims_out(kind="existing", param="run_dir")
def report_command(run_dir, gantt_window):
    """(Re)write DIR/report.md and a self-contained DIR/report.html (charts in DIR/charts/) from a run folder."""
    from report.write import parse_window, write_report

    written = write_report(run_dir, parse_window(gantt_window) if gantt_window else None)
    click.echo(f"wrote {written['report.html']} and {written['report.md']} "
               f"({sum(1 for k in written if k.startswith('charts/'))} charts)")


@main.command("compare")
@click.argument("dir_a", metavar="DIR_A", type=click.Path())
@click.argument("dir_b", metavar="DIR_B", type=click.Path())
@click.option("--out", "out_file", type=click.Path(),
              help="Also write the comparison to this file (.html: as HTML unless --format says otherwise).")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default=None,
              help="Markdown (default) or a self-contained HTML page; default: by the --out extension.")
@guarded
def compare_command(dir_a, dir_b, out_file, fmt):
    """What changed from run DIR_A to run DIR_B: inputs, plan, P(on time), P80 (tested), spending, warnings."""
    from pathlib import Path

    from report.compare import compare_runs
    from portfolio.runfolder import write_file_atomic

    if fmt is None:
        fmt = "html" if out_file and Path(out_file).suffix.lower() in (".html", ".htm") else "md"
    text = compare_runs(dir_a, dir_b, fmt)
    if out_file:
        write_file_atomic(out_file, text)
    if out_file and fmt == "html":
        click.echo(f"wrote {out_file}")  # a page of charts is for the browser, not the terminal
    else:
        click.echo(text, nl=False)


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


@main.command("schedule")
@no_bom_option
@scenario_argument
@out_option()
@time_limit_option()
@deterministic_time_option()
@workers_option("CP-SAT worker threads (default: the scenario's); any number is deterministic.")
@quiet_option()
@guarded
@claims_out()
def schedule_command(scenario, out, time_limit, deterministic_time, workers, quiet):
    """CP-SAT plan under funding caps, resources and deadlines: schedule.csv, projects.csv, funding.csv.

    Prints status (optimal / feasible), objective, best bound, gap and solve time;
    exit 1 when no plan fits, with the reasons (short years and sources, impossible chains).
    """
    from optimize.progress import terminal_progress
    from runs.commands import schedule

    with terminal_progress(sys.stderr.isatty() and not quiet):
        done = schedule(scenario, out, time_limit=time_limit, workers=workers, deterministic_time=deterministic_time)
    click.echo(done.summary())
    click.echo(f"wrote {out}")


@main.command("psplib")
@click.argument("files", metavar="FILE...", nargs=-1, required=True, type=click.Path())
@time_limit_option("Seconds per instance.", default=10.0, show_default=True)
@workers_option("CP-SAT worker threads.", default=1, show_default=True)
@click.option("--out", "out_file", type=click.Path(), help="CSV to write (default: standard output).")
@guarded
def psplib_command(files, time_limit, workers, out_file):
    """Solve PSPLIB single-mode RCPSP instances (.sm) with the scheduler's model core (benchmark).

    Instances over 50 jobs get a genetic algorithm's schedule as hint; on smaller ones that CP-SAT has not
    closed within a fifth of the time limit, a branch-and-bound takes the rest. CSV columns: instance, makespan, lower_bound, optimal, seconds.
    """
    from optimize import psplib
    from portfolio.runfolder import write_file_atomic

    echo_row = (lambda result: click.echo(",".join(psplib.result_row(result)))) if out_file else None
    table, results = psplib.solve_files(files, time_limit, workers, on_result=echo_row)
    if out_file:
        write_file_atomic(out_file, table)
        click.echo(f"{sum(r.optimal for r in results)} of {len(results)} proven optimal; wrote {out_file}")
    else:
        click.echo(table, nl=False)


@main.command("backtest")
@no_bom_option
@scenario_argument
@out_option("Folder to write (built aside, then renamed).")
@monte_carlo_options()
@time_limit_option()
@click.option("--as-of", "as_of", metavar="YYYY-MM", help="Date of the data's outcomes (default: the latest actual date in the data).")
@click.option("--asap", is_flag=True, help="Simulate without the optimizer's plan: every activity as soon as links and funds allow.")
@click.option("--origins", metavar="FROM:TO:EVERY|YYYY-MM,...", help="Backtest at several status dates, e.g. 2019-01:2023-01:12; at most 50, from 1900-01 to 2199-12 (default: the scenario's [backtest] origins; without them, its status date).")
@quiet_option()
@guarded
@claims_out()
def backtest_command(scenario, out, iterations, seed, workers, time_limit, as_of, asap, origins, quiet):
    """Forecast the scenario as of its status date with what was known then, and score it against the data.

    Writes backtest.csv, calibration.csv, scores.json, backtest.md, backtest.html and charts/ (docs/backtest.md);
    prints the Brier and log scores beside the naive forecasts "every project on time" and "base rate".
    With origins (--origins, or the scenario's [backtest] origins) it forecasts at each and writes the
    multi-origin evaluation instead: events.csv, scores.csv, differences.csv, pit.csv and the report.
    """
    from optimize.progress import terminal_progress
    from runs.commands import backtest

    show = sys.stderr.isatty() and not quiet
    log = (lambda text: click.echo(text, err=True)) if show else None
    with terminal_progress(show):
        done = backtest(scenario, out, as_of=as_of, origins=origins, asap=asap, log=log, iterations=iterations,
                        seed=seed, workers=workers, time_limit=time_limit, progress=show)
    click.echo(done.summary)
    click.echo(f"wrote {out}")


@main.command("run")
@no_bom_option
@scenario_argument
@out_option()
@monte_carlo_options("Worker processes for the simulation; any number gives the same files.")
@engine_option()
@time_limit_option()
@deterministic_time_option()
@dask_options()
@quiet_option()
@guarded
@claims_out()
def run_command(scenario, out, iterations, seed, workers, engine, time_limit, deterministic_time, dask, quiet):
    """Schedule, simulate and report in one go: the whole run folder of docs/design.md ("The run folder"), written atomically."""
    from optimize.progress import terminal_progress
    from runs.commands import run

    show = sys.stderr.isatty() and not quiet
    with dask_executor(dask, workers) as executor, terminal_progress(show):
        done = run(scenario, out, iterations=iterations, seed=seed, workers=workers, engine=engine,
                   time_limit=time_limit, progress=show, executor=executor, deterministic_time=deterministic_time)
    click.echo(done.summary())
    click.echo(f"wrote {out} (report: {out}/report.html)")


@main.command("sweep")
@no_bom_option
@click.argument("scenarios", metavar="SCENARIO...", nargs=-1, required=True, type=click.Path())
@out_option("Folder for the variants' run folders and the summary.")
@iterations_option("Monte Carlo iterations of every variant (default: each scenario's).")
@seed_option("Random seed of every variant (default: each scenario's).")
@workers_option("Local worker processes (default: each scenario's); any number gives the same files.")
@engine_option("Simulation engine (default: each scenario's).")
@time_limit_option("Wall-clock safety net for CP-SAT per variant (default: each scenario's time_limit_s).")
@deterministic_time_option()
@dask_options("Run the plans and the Monte Carlo on Dask: tls://HOST:PORT (with --tls-*), tcp://HOST:PORT (trusted networks only) or local:N (docs/cluster.md).")
@quiet_option("No solver progress on the terminal (one line per variant still).")
@guarded
@claims_out(kind="sweep")
def sweep_command(scenarios, out, iterations, seed, workers, engine, time_limit, deterministic_time, dask, quiet):
    """Run many variants into DIR/<variant>/ and compare them in DIR/summary.md and DIR/summary.csv.

    The variants are the scenario files given, each over its [sweep] grid of funding scales (docs/scenarios.md);
    each is a full run (plan, simulation, report) written whole as soon as it is done. Exit 1 when a variant has
    no plan (the summary says why).
    """
    from report.sweep import summary_text
    from runs.sweep import run_sweep

    from optimize.progress import terminal_progress

    try:
        with dask_executor(dask, workers) as executor, terminal_progress(sys.stderr.isatty() and not quiet):
            result = run_sweep(scenarios, out, iterations=iterations, seed=seed, workers=workers, engine=engine,
                               time_limit=time_limit, executor=executor, echo=click.echo,
                               deterministic_time=deterministic_time)
    except KeyboardInterrupt:
        _fail(f"interrupted; the variants listed above are complete in {out}, no summary was written", 130)
    except Terminated:
        _fail(f"terminated; the variants listed above are complete in {out}, no summary was written", 143)
    click.echo(summary_text(result))
    if result.without_plan:
        raise Finding(f"{len(result.without_plan)} of {len(result.outcomes)} variants have no plan: "
                      + ", ".join(o.variant.name for o in result.without_plan))


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@out_option("Data folder to write (built aside, then renamed).", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["xer", "mspdi", "mpp", "xlsx"]), help="The file's format (default: detected from its content; mpp needs the extra [mpp]).")
@click.option("--projects-from", type=click.Choice(["project", "wbs"]), default="project", show_default=True,
              help="XER: a project per P6 project, or per top WBS node.")
@click.option("--three-point", metavar="OPTIMISTIC,PESSIMISTIC",
              help="Names of two activity user fields (XER UDF labels, MSPDI field names or aliases) with the optimistic "
                   "and pessimistic durations in working days; otherwise the reference class gives them.")
@click.option("--reference-class", default="logistics", show_default=True, metavar="CLASS[/KIND]",
              help="Reference class of activities without a three-point duration (docs/reference_classes.md).")
@click.option("--encoding", help="XER text encoding (default: UTF-8 if valid, else cp1251 or cp1252 by a guess).")
@click.option("--resource-limits", is_flag=True, help="Keep the file's maximum units as resource capacities "
              "(default: resources are recorded but never bind).")
@guarded
def import_command(file, out, fmt, projects_from, three_point, reference_class, encoding, resource_limits):
    """Import a P6 XER or MS Project XML (MSPDI) schedule as a data folder with a scenario.toml, or an .xlsx
    workbook (one sheet per table) as a data folder (docs/interop.md)."""
    from runs.commands import import_file

    done = import_file(file, out, fmt=fmt, projects_from=projects_from, three_point=three_point,
                       reference_class=reference_class, encoding=encoding, resource_limits=resource_limits)
    click.echo(done.summary(out))


@main.command("quality")
@click.argument("target", type=click.Path(exists=True))
@click.option("--threshold", "thresholds", multiple=True, metavar="NAME=VALUE",
              help="Change a threshold, e.g. high_float=10 or high_duration_months=36 (repeatable; docs/interop.md).")
@click.option("--thresholds-file", type=click.Path(exists=True, dir_okay=False),
              help="A TOML file of NAME = VALUE thresholds (top level or under [quality]); --threshold wins.")
@click.option("--baseline", "baseline_run", type=click.Path(exists=True, file_okay=False),
              help="An earlier run folder whose schedule.csv finish months are the baseline of missed tasks and BEI.")
@guarded
def quality_command(target, thresholds, thresholds_file, baseline_run):
    """DCMA 14-point schedule-quality checks of a scenario, data folder, or P6 XER / MSPDI file; exit 1 when one fails."""
    from portfolio.quality import table
    from runs.commands import quality

    checks = quality(target, thresholds=thresholds, thresholds_file=thresholds_file, baseline_run=baseline_run)
    click.echo(table(checks))
    failed = [c.name for c in checks if c.passed is False]
    if failed:
        raise Finding(f"quality gate failed: {', '.join(failed)}")


@main.command("export")
@click.argument("run_dir", metavar="RUN_FOLDER", type=click.Path(exists=True, file_okay=False))
@click.option("--data", "data_target", type=click.Path(exists=True),
              help="xer and mspdi: the run's scenario file or data folder (for the links; a run folder records only its "
                   "inputs' hashes).")
@click.option("--format", "fmt", required=True, type=click.Choice(["xer", "mspdi", "xlsx"]),
              help="P6 XER, MS Project XML, or an .xlsx workbook of the run's tables.")
@out_option("File to write (written aside, then renamed).", type=click.Path(dir_okay=False))
@click.option("--encoding", default="utf-8", show_default=True,
              help="XER text encoding, e.g. gb18030 for P6 on Chinese Windows (MSPDI is always UTF-8).")
@guarded
def export_command(run_dir, data_target, fmt, out, encoding):
    """Write a run's funded plan (schedule.csv with the data's links) as P6 XER or MSPDI, or its tables as .xlsx
    (docs/interop.md)."""
    from runs.commands import export

    click.echo(export(run_dir, fmt, out, data_target=data_target, encoding=encoding))


@main.command("template")
@out_option("The .xlsx workbook to write.", type=click.Path(dir_okay=False))
@guarded
def template_command(out):
    """Write an empty .xlsx workbook with the data folder's tables, each column explained in its header's comment."""
    from runs.commands import template

    click.echo(template(out))


if __name__ == "__main__":
    main()
