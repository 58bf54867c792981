"""Read a scenario TOML file and apply its overrides to the portfolio it names.

See docs/scenarios.md for every key; scenarios/schema.py checks them all (types, ranges, allowed keys, what they
refer to) before anything is applied. Problems are reported like data problems: ``file:line:column: message``,
all of them at once.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path

from portfolio.errors import InputError, InputProblem
from portfolio.load import load_portfolio
from portfolio.model import FundingCap, Portfolio, Risk
from portfolio.months import parse_month

from .origins import scenario_origins
from .rules import describe_rules, sweep_rules
from .schema import axis_label, check, check_references
from .settings import OptimizeSettings, Settings, SimulateSettings, Stoppage, SweepAxis
from .toml_positions import Positions

DEFAULT_STATUS = "2021-01"
DEFAULT_DEADLINE = "2025-12"


def load_target(target: str | os.PathLike) -> tuple[Portfolio, Settings]:
    """A scenario file, or a data folder read with the default settings."""
    path = Path(target)
    if path.is_dir() or _is_workbook(path):
        settings = Settings(
            name=path.name or "data",
            status_date=parse_month(DEFAULT_STATUS),
            deadline=parse_month(DEFAULT_DEADLINE),
            data_dir=str(path),
        )
        return _load_data(path), settings
    if not path.is_file():
        raise InputError(InputProblem(str(target), 0, 0, "no such scenario file or data folder"))
    return load_scenario(path)


def _is_workbook(path: Path) -> bool:
    try:
        return path.suffix.lower() == ".xlsx" and path.is_file()
    except (OSError, ValueError):  # e.g. a name with a NUL character
        return False


def _load_data(path: Path) -> Portfolio:
    """A data folder, or an .xlsx workbook with one sheet per table (docs/interop.md)."""
    if _is_workbook(path):
        from interop.xlsx import load_workbook_portfolio

        return load_workbook_portfolio(path)
    return load_portfolio(str(path))


def load_data_milestones(data, portfolio: Portfolio) -> tuple:
    """The milestones of a data folder's milestones.csv or a workbook's ``milestones`` sheet; () without them."""
    if data is None:
        return ()
    path = Path(data)
    if _is_workbook(path):
        from interop.xlsx import load_workbook_milestones

        return load_workbook_milestones(path, portfolio)
    from portfolio.milestones import load_milestones

    return load_milestones(path, portfolio)


def load_scenario(path: str | os.PathLike) -> tuple[Portfolio, Settings]:
    """The portfolio and settings of a scenario file; every problem (scenarios/schema.py) as an InputError."""
    path = Path(path)
    text, doc = _parse(path)
    positions = Positions(text)

    def fail_on(found: list[tuple[tuple, str]]) -> None:
        if found:
            problems = [InputProblem(str(path), *positions.where(where), message) for where, message in found]
            raise InputError(sorted(problems, key=lambda p: (p.line, p.column)))

    fail_on(check(doc))
    data_dir = path.parent / doc.get("data", "../data")
    if not _is_dir(data_dir) and not _is_workbook(data_dir):
        fail_on([(("data",), f"data folder {doc.get('data', '../data')!r} not found")])
    portfolio = _load_data(data_dir)
    fail_on(check_references(doc, known_ids(portfolio)))
    settings = _settings(doc, path, data_dir)
    portfolio, forced = apply_overrides(portfolio, doc)
    return portfolio, dataclasses.replace(settings, forced_starts=forced, rules=describe_rules(doc))


def _parse(path: Path) -> tuple[str, dict]:
    """The text and the parsed TOML of a scenario file; unreadable or invalid TOML as an InputError."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(InputProblem(str(path), 0, 0, "cannot read: a scenario file must be UTF-8 text")) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(where.group(1)), int(where.group(2))) if where else (0, 0)
        message = str(exc).split(" (at ")[0]
        raise InputError(InputProblem(str(path), line, column, f"not valid TOML: {message}")) from None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # e.g. a name with a NUL character
        return False


def known_ids(portfolio: Portfolio) -> dict[str, set[str]]:
    """The ids a scenario may refer to, by kind (``Spec.ref`` in scenarios/schema.py)."""
    return {
        "project": {p.project_id for p in portfolio.projects},
        "activity": {a.activity_id for a in portfolio.activities},
        "risk": {k.risk_id for k in portfolio.risks},
        "source": {f.source for f in portfolio.funding},
    }


def _settings(doc: dict, path: Path, data_dir: Path) -> Settings:
    """The settings of a document that passed ``check`` (every value has its type and range)."""
    return Settings(
        name=str(doc.get("name", path.stem)),
        status_date=parse_month(doc.get("status_date", DEFAULT_STATUS)),
        deadline=parse_month(doc.get("deadline", DEFAULT_DEADLINE)),
        optimize=dataclasses.replace(OptimizeSettings(), **doc.get("optimize", {})),
        simulate=dataclasses.replace(SimulateSettings(), **doc.get("simulate", {})),
        stoppages=tuple(Stoppage(start=parse_month(item["start"]), months=item["months"],
                                 categories=tuple(item.get("categories", ()))) for item in doc.get("stoppages", [])),
        sweep=tuple(SweepAxis(label=axis_label(item), factors=tuple(float(f) for f in item["factors"]),
                              sources=tuple(item.get("sources", [])), first=item.get("from"), last=item.get("to"))
                    for item in doc.get("sweep", {}).get("funding", [])),
        backtest_origins=scenario_origins(doc.get("backtest", {}).get("origins", ())),
        scenario_file=str(path),
        data_dir=str(data_dir),
    )


def scale_funding(funding: tuple[FundingCap, ...], factor: float, sources=(), first: int | None = None,
                  last: int | None = None) -> tuple[FundingCap, ...]:
    """The caps of ``sources`` (all when empty) in the years ``first`` .. ``last`` (None: no bound) times ``factor``;
    the one rule of ``[[funding.scale]]`` and of a ``[[sweep.funding]]`` axis."""
    sources = set(sources)
    first = -10**6 if first is None else first
    last = 10**6 if last is None else last
    return tuple(dataclasses.replace(f, cap=f.cap * factor)
                 if (not sources or f.source in sources) and first <= f.year <= last else f
                 for f in funding)


def apply_overrides(portfolio: Portfolio, doc: dict) -> tuple[Portfolio, tuple[tuple[str, int], ...]]:
    """Funding scales, duration multipliers, priorities, risks and forced starts, in that order.

    ``doc`` has passed ``check`` and ``check_references``: every value has its type and names what exists.
    """
    projects = {p.project_id: p for p in portfolio.projects}

    funding = portfolio.funding
    for rule in doc.get("funding", {}).get("scale", []):
        sources = rule.get("sources", [rule["source"]] if "source" in rule else [])
        funding = scale_funding(funding, rule["factor"], sources, rule.get("from"), rule.get("to"))

    category_of = {p.project_id: p.category for p in portfolio.projects}
    factors = {}
    for rule in doc.get("durations", []):
        target = rule.get("category") or rule.get("project")
        factors[target] = factors.get(target, 1.0) * rule["factor"]
    activities = []
    for a in portfolio.activities:
        f = factors.get(category_of[a.project_id], 1.0) * factors.get(a.project_id, 1.0)
        if f != 1.0:
            a = dataclasses.replace(a, optimistic=a.optimistic * f, most_likely=a.most_likely * f, pessimistic=a.pessimistic * f)
        activities.append(a)

    for pid, value in doc.get("priorities", {}).items():
        projects[pid] = dataclasses.replace(projects[pid], priority=float(value))

    risks = list(portfolio.risks)
    changes = doc.get("risk_changes", {})
    for k, risk in enumerate(risks):
        change = changes.get(risk.risk_id)
        if change:
            p = change.get("probability", risk.probability)
            s = change.get("impact_factor", 1.0)
            risks[k] = dataclasses.replace(
                risk, probability=p, optimistic=risk.optimistic * s, most_likely=risk.most_likely * s,
                pessimistic=risk.pessimistic * s,
            )
    risks += [_extra_risk(item, portfolio) for item in doc.get("risks", [])]

    forced = tuple((item["activity"], parse_month(item["start"])) for item in doc.get("forced_starts", []))

    new = Portfolio(
        projects=tuple(projects[p.project_id] for p in portfolio.projects),
        activities=tuple(activities),
        funding=tuple(funding),
        risks=tuple(risks),
        resources=portfolio.resources,
        inputs=portfolio.inputs,
        deadlines=portfolio.deadlines,
        earlier_risks=portfolio.earlier_risks,
    )
    return new, forced


def _extra_risk(item: dict, portfolio: Portfolio) -> Risk:
    """A ``[[risks]]`` table as a Risk; ``category:NAME`` in ``affects`` stands for every activity of that category."""
    affects = []
    for target in item.get("affects", []):
        if target.startswith("category:"):
            ids = {p.project_id for p in portfolio.projects if p.category == target.split(":", 1)[1]}
            affects += [a.activity_id for a in portfolio.activities if a.project_id in ids]
        else:
            affects.append(target)
    rid = item["risk_id"]
    return Risk(rid, str(item.get("name", rid)), item["probability"], item["optimistic"], item["most_likely"],
                item["pessimistic"], tuple(dict.fromkeys(affects)))


# -- [sweep]: a grid of funding scales, one variant per combination ------------------------------------------

@dataclasses.dataclass(frozen=True)
class Variant:
    """One variant of a sweep: the scenario with one factor of every axis applied to the funding caps."""

    name: str  # the scenario's name, then "-" + label + factor per axis, e.g. "funding-cut-provincial0.8"
    portfolio: Portfolio
    settings: Settings
    factors: tuple[tuple[str, float], ...]  # (axis label, factor) per axis
    axes: tuple[SweepAxis, ...] = ()  # the scenario's grid axes, in the order of ``factors``


def sweep_variants(portfolio: Portfolio, settings: Settings) -> list[Variant]:
    """Every combination of the ``[sweep]`` axes' factors, first axis slowest; the scenario itself without one."""
    if not settings.sweep:
        return [Variant(settings.name, portfolio, settings, ())]
    combos: list[tuple[float, ...]] = [()]
    for axis in settings.sweep:
        combos = [c + (f,) for c in combos for f in axis.factors]
    out = []
    for combo in combos:
        funding = portfolio.funding
        for axis, factor in zip(settings.sweep, combo):
            funding = scale_funding(funding, factor, axis.sources, axis.first, axis.last)
        name = settings.name + "".join(f"-{axis.label}{factor:g}" for axis, factor in zip(settings.sweep, combo))
        out.append(Variant(name, dataclasses.replace(portfolio, funding=tuple(funding)),
                           dataclasses.replace(settings, name=name, sweep=(),
                                               rules=settings.rules + sweep_rules(settings.sweep, combo)),
                           tuple((axis.label, factor) for axis, factor in zip(settings.sweep, combo)),
                           settings.sweep))
    return out
