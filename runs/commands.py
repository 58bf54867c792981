"""One library function per command that does more than call one stage: the CLI parses options, calls one of
these (or one of ``runs.pipeline``, ``runs.sweep``, ``report``), prints what it returns and maps errors to exit
codes. Each raises ``PortfolioError``s with the message the user sees; nothing here prints."""
from __future__ import annotations

import codecs
import tempfile
from dataclasses import dataclass
from pathlib import Path

import interop
import optimize
import simulate
from interop.datafolder import write_data_folder
from interop.schedule import check_reference_class
from optimize.output import summary_lines, write_plan
from portfolio.errors import InputError, InputProblem, PortfolioError
from portfolio.model import Portfolio
from portfolio.months import parse_month
from portfolio.quality import Check, assess, parse_thresholds, read_baseline, read_thresholds_file
from portfolio.runfolder import atomic_folder, write_bytes_atomic
from portfolio.workbook import is_workbook_file, workbook_bytes
from portfolio.summary import validation_summary
from scenarios.load import load_data_milestones, load_target
from scenarios.origins import parse_origins
from scenarios.settings import Settings

from .pipeline import RunResult, run_scenario


class BadOption(PortfolioError):
    """A command-line option the tool cannot use (exit 2); the message starts with the option's name."""


def option_problem(option: str, text: str) -> InputError:
    """Bad text in an option, reported as the data's problems are (``--option:0:0: message``)."""
    return InputError(InputProblem(option, 0, 0, text))


def scenario_line(portfolio: Portfolio, settings: Settings) -> str:
    return f"scenario: {settings.name} ({len(portfolio.activities)} activities, {len(portfolio.projects)} projects)"


# -- validate, schedule, simulate, run ---------------------------------------------------------------

def validate(target) -> str:
    """``portfolio validate``: the summary of a scenario's data, or an ``InputError`` listing every problem."""
    portfolio, settings = load_target(target)
    load_data_milestones(settings.data_dir, portfolio)  # the optional milestones are checked too (docs/data.md)
    return validation_summary(portfolio, settings)


@dataclass(frozen=True)
class Scheduled:
    portfolio: Portfolio
    settings: Settings
    plan: optimize.Plan

    def summary(self) -> str:
        """What ``portfolio schedule`` prints: the scenario, status, objective, bound, gap, late projects."""
        return "\n".join([scenario_line(self.portfolio, self.settings), *summary_lines(self.portfolio, self.plan)])


def schedule(scenario, out, *, time_limit=None, workers=None, deterministic_time=None) -> Scheduled:
    """``portfolio schedule``: plan the scenario and write the plan's run folder ``out`` (all or nothing)."""
    portfolio, settings = load_target(scenario)
    plan = optimize.solve(portfolio, settings, time_limit=time_limit, workers=workers,
                          deterministic_time=deterministic_time)
    with atomic_folder(out, tables_workbook=True) as folder:
        write_plan(portfolio, settings, plan, folder)
    return Scheduled(portfolio, settings, plan)


def simulate_plan(scenario, out, *, plan_dir=None, iterations=None, seed=None, workers=None, engine=None,
                  executor=None, progress=False) -> simulate.SimulationResult:
    """``portfolio simulate``: the Monte Carlo of a run folder's plan (else as soon as possible) into ``out``."""
    portfolio, settings = load_target(scenario)
    plan = simulate.read_plan_starts(plan_dir, portfolio) if plan_dir else None
    with atomic_folder(out, tables_workbook=True) as folder:
        result = simulate.run(portfolio, settings, plan_starts=plan, iterations=iterations, seed=seed,
                              workers=settings.simulate_workers(workers), progress=progress, engine=engine,
                              executor=executor)
        simulate.write_outputs(result, folder)
    return result


@dataclass(frozen=True)
class Ran:
    portfolio: Portfolio
    settings: Settings
    result: RunResult

    def summary(self) -> str:
        """What ``portfolio run`` prints: the plan's lines, then the simulation's table."""
        return "\n".join([scenario_line(self.portfolio, self.settings), *summary_lines(self.portfolio, self.result.plan),
                          simulate.summary_text(self.result.simulation)])


def run(scenario, out, **options) -> Ran:
    """``portfolio run``: plan, simulate and report the scenario into the run folder ``out`` (runs.pipeline)."""
    portfolio, settings = load_target(scenario)
    return Ran(portfolio, settings, run_scenario(portfolio, settings, out, **options))


# -- backtest ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Backtested:
    result: object  # runs.backtest's BacktestResult, or runs.multiorigin's result with several origins
    summary: str  # the scores as ``portfolio backtest`` prints them


def backtest(scenario, out, *, as_of: str | None = None, origins: str | None = None, asap: bool = False,
             log=None, **options) -> Backtested:
    """``portfolio backtest``: forecast as of the status date (or at each origin) with what was known then, score
    against the data, write the folder ``out`` (docs/backtest.md)."""
    from report.backtest import summary_text as single_summary
    from report.multiorigin import summary_text as multi_summary

    from .backtest import run_backtest, write_backtest
    from .multiorigin import run_multi_origin, write_multi_origin

    month = _month_option("--as-of", as_of) if as_of is not None else None
    portfolio, settings = load_target(scenario)
    origin_months = _origins_option(origins) if origins is not None else settings.backtest_origins
    if origin_months and asap:
        raise BadOption("--asap cannot be combined with several origins: the multi-origin backtest scores the "
                        "simulation without the plan as its outside view")
    if origin_months:
        result = run_multi_origin(portfolio, settings, origin_months, as_of=month, log=log, **options)
        write, summary = write_multi_origin, multi_summary
    else:
        result = run_backtest(portfolio, settings, as_of=month, use_plan=not asap, **options)
        write, summary = write_backtest, single_summary
    with atomic_folder(out, tables_workbook=True) as folder:
        write(result, folder, portfolio)
    return Backtested(result, summary(result))


def _month_option(option: str, text: str) -> int:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise option_problem(option, str(exc)) from None


def _origins_option(text: str) -> tuple[int, ...]:
    try:
        return parse_origins(text)
    except ValueError as exc:
        raise option_problem("--origins", str(exc)) from None


# -- planners' files: import, export, template, quality -----------------------------------------------

@dataclass(frozen=True)
class Imported:
    portfolio: Portfolio
    schedule: interop.ImportedSchedule | None  # None: from a workbook

    def summary(self, out) -> str:
        pf = self.portfolio
        if self.schedule is None:
            return f"workbook: {len(pf.projects)} projects, {len(pf.activities)} activities\nwrote {out}"
        links = sum(len(a.predecessors) for a in pf.activities)
        return (f"{self.schedule.format}: {len(pf.projects)} projects, {len(pf.activities)} activities, {links} links, "
                f"{len(pf.resources)} resources; data date {self.schedule.status_date}\n"
                f"wrote {out} (plan it with: portfolio schedule {out}/scenario.toml --out RUN)")


def import_file(file, out, *, fmt=None, projects_from="project", three_point: str | None = None,
                reference_class="logistics", encoding=None, resource_limits=False) -> Imported:
    """``portfolio import``: a P6 XER, MSPDI or .mpp schedule, or an .xlsx workbook, as a data folder ``out``."""
    fields = None
    if three_point:
        fields = tuple(x.strip() for x in three_point.split(","))
        if len(fields) != 2 or not all(fields):
            raise BadOption(f"--three-point: expected two field names separated by a comma, got {three_point!r}")
    if encoding:
        check_text_encoding(encoding)
    try:
        check_reference_class(reference_class)
    except interop.ImportProblem as exc:
        raise BadOption(f"--reference-class: {exc}") from None
    fmt = fmt or interop.detect_format(file, allow_xlsx=True)
    if fmt == "xlsx":
        from interop.xlsx import write_data_folder_from_workbook

        return Imported(write_data_folder_from_workbook(file, out), None)
    schedule = _read_schedule(file, fmt, projects_from, fields, encoding, resource_limits)
    return Imported(write_data_folder(schedule, out, reference_class), schedule)


def _read_schedule(file, fmt, *args) -> interop.ImportedSchedule:
    """The schedule in ``file``; a problem's message names the file if it does not already."""
    try:
        return interop.read_schedule(file, fmt, *args)
    except interop.ImportProblem as exc:
        if str(exc).startswith(Path(file).name):
            raise
        raise interop.ImportProblem(f"{file}: {exc}") from None


def export(run_dir, fmt: str, out, *, data_target=None, encoding: str = "utf-8") -> str:
    """``portfolio export``: a run's funded plan as P6 XER or MSPDI (with the data's links), or its tables as
    .xlsx; returns the line to print."""
    from interop.export import export_bytes, is_export_file, load_plan
    from interop.xlsx import run_workbook

    if fmt == "xlsx":
        write_bytes_atomic(out, workbook_bytes(run_workbook(run_dir)), "an .xlsx workbook", is_workbook_file)
        return f"wrote {out}"
    if not data_target:
        raise BadOption("--data: give the run's scenario file or data folder (a run folder does not record where "
                        "its data is)")
    check_text_encoding(encoding)
    portfolio, settings = load_target(data_target)
    plan = load_plan(run_dir, portfolio, settings.status_date)
    try:
        data = export_bytes(plan, fmt, encoding)
    except UnicodeError as exc:
        what = repr(exc.object[exc.start:exc.end]) if isinstance(exc, UnicodeEncodeError) else "this plan"
        raise BadOption(f"--encoding: {encoding} cannot write {what} (try utf-8 or gb18030); nothing was written") \
            from None
    kind = "a P6 XER file" if fmt == "xer" else "an MS Project XML file"
    write_bytes_atomic(out, data, kind, lambda head: is_export_file(fmt, head))
    return f"wrote {out} ({fmt}: {len(plan.activities)} activities, {len(portfolio.projects)} projects)"


def check_text_encoding(encoding: str) -> None:
    """``--encoding`` must name a text encoding that writes plain text as itself (not rot13 or hex)."""
    try:
        ok = codecs.lookup(encoding)._is_text_encoding and "ERMHDR\t1\n".encode(encoding) == b"ERMHDR\t1\n"
    except (LookupError, UnicodeError):
        ok = False
    if not ok:
        raise BadOption(f"--encoding: unknown encoding {encoding!r} (give a text encoding, e.g. utf-8 or gb18030)")


def template(out) -> str:
    """``portfolio template``: an empty workbook of the data's tables, each column explained in its header."""
    from interop.xlsx import template_workbook

    write_bytes_atomic(out, workbook_bytes(template_workbook()), "an .xlsx workbook", is_workbook_file)
    return f"wrote {out} (fill it in, then: portfolio import {out} --out DATA_DIR)"


def quality(target, *, thresholds=(), thresholds_file=None, baseline_run=None) -> list[Check]:
    """``portfolio quality``: the DCMA 14-point checks of a scenario, data folder, workbook, XER or MSPDI file."""
    limits: dict[str, float] = {}
    if thresholds_file:
        try:
            limits.update(read_thresholds_file(thresholds_file))
        except ValueError as exc:
            raise BadOption(f"{thresholds_file}: {exc}") from None
    try:
        limits.update(parse_thresholds(thresholds))
    except ValueError as exc:
        raise BadOption(f"--threshold: {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(target)
        if path.is_file() and path.suffix.lower() != ".toml":
            path = _imported_for_quality(path, Path(tmp) / "data")
        portfolio, settings = load_target(path)
        baseline = read_baseline(baseline_run) if baseline_run else None
        return assess(portfolio, settings.status_date, settings.deadline, settings.optimize.hard_deadlines, limits,
                      baseline)


def _imported_for_quality(path: Path, folder: Path) -> Path:
    """The data folder (.xlsx) or scenario (XER, MSPDI) that ``quality`` checks for a planner's file."""
    fmt = interop.detect_format(path, allow_xlsx=True)
    if fmt == "xlsx":
        from interop.xlsx import write_data_folder_from_workbook

        write_data_folder_from_workbook(path, folder)
        return folder
    write_data_folder(_read_schedule(path, fmt), folder, "logistics")
    return folder / "scenario.toml"


__all__ = ["BadOption", "backtest", "export", "import_file", "quality", "run", "schedule",
           "simulate_plan", "template", "validate"]
