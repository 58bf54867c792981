"""The schema of a scenario file: every key, its type, range and allowed values, and what it refers to.

``SCHEMA`` describes the whole document declaratively (docs/scenarios.md lists the same keys); ``check`` walks a
parsed document against it and returns every problem as (path, message), so that the loader can name a line and
column for each. References to the data (projects, activities, risks, funding sources) are checked by
``check_references`` once the data folder is read. Adding a key is one line in its table below.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from portfolio.distributions import DISTRIBUTIONS
from portfolio.limits import MAX_DETERMINISTIC_TIME, MAX_ITERATIONS, MAX_SEED, MAX_SWEEP_VARIANTS, MAX_TIME_LIMIT_S, MAX_WORKERS
from portfolio.model import CATEGORIES
from portfolio.load import FIRST_YEAR, LAST_YEAR
from portfolio.months import parse_month, year_of

from .origins import scenario_origins
from .settings import ENGINES, OBJECTIVES

Path = tuple  # keys (str) and array items (int) from the document's root
Found = tuple[Path, str]  # (where, message)

LABEL = re.compile(r"[A-Za-z0-9_.+-]+")
BARE_KEY = re.compile(r"[A-Za-z0-9_.-]+")  # a key shown as it is in messages (others are quoted)
MAX_FACTOR = 1000.0  # most a funding cap or a risk's impact may be multiplied by
MAX_DURATION_FACTOR = 100.0  # most an activity's durations may be multiplied by
MAX_MONTHS = 1200  # longest stoppage or risk delay, in months (100 years)
MAX_PRIORITY = 1e6
YEARS = (1000, 9999)  # funding years as in funding.csv (four digits)


# -- the kinds of value --------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Spec:
    required: bool = False
    ref: str | None = None  # what a string value names in the data: project, activity, risk, source, affects
    expect: str | None = None  # replaces the generic "must be ..." wording of a wrong value


@dataclass(frozen=True, kw_only=True)
class Text(Spec):
    pattern: re.Pattern | None = None


@dataclass(frozen=True, kw_only=True)
class Flag(Spec):
    pass


@dataclass(frozen=True, kw_only=True)
class Choice(Spec):
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Month(Spec):
    pass


@dataclass(frozen=True, kw_only=True)
class Number(Spec):
    low: float | None = None
    high: float | None = None
    above: bool = False  # strictly greater than low
    whole: bool = False
    most: float | None = None  # the tool's own limit (portfolio/limits.py), beyond the key's natural range


@dataclass(frozen=True, kw_only=True)
class ListOf(Spec):
    item: Spec
    nonempty: bool = False
    distinct: bool = False


@dataclass(frozen=True, kw_only=True)
class Either(Spec):
    """A value of one of two forms, told apart by its TOML type: a list (``ListOf``) or a table (``Table``)."""

    list_form: ListOf
    table_form: Table


Rule = Callable[[dict, Path], Iterator[Found]]  # a check across the keys of one table, once each key is valid


@dataclass(frozen=True, kw_only=True)
class Table(Spec):
    keys: dict[str, Spec] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Tables(Spec):
    """An array of tables, ``[[name]]``; ``unique``: a key whose values must differ between the items."""

    table: Table
    unique: str | None = None


@dataclass(frozen=True, kw_only=True)
class MapOf(Spec):
    """A table whose keys are ids from the data (``key_ref``) and whose values all follow ``value``."""

    value: Spec
    key_ref: str


# -- rules across the keys of a table -----------------------------------------------------------------------

def one_of(*keys: str) -> Rule:
    def rule(table: dict, path: Path) -> Iterator[Found]:
        given = [k for k in keys if k in table]
        if len(given) != 1:
            choices = " or ".join(f"{k} = \"...\"" for k in keys)
            yield path + (given[-1],) if given else path, f"each {label(path)} needs {choices} (exactly one of them)"
    return rule


def not_both(a: str, b: str) -> Rule:
    def rule(table: dict, path: Path) -> Iterator[Found]:
        if a in table and b in table:
            yield path + (b,), f"{label(path)}: give {a} or {b}, not both"
    return rule


def first_not_after_last(table: dict, path: Path) -> Iterator[Found]:
    if "from" in table and "to" in table and table["from"] > table["to"]:
        yield path + ("from",), f"{label(path)}: from = {table['from']} is after to = {table['to']}"


def three_point_order(table: dict, path: Path) -> Iterator[Found]:
    o, m, p = (table.get(k) for k in ("optimistic", "most_likely", "pessimistic"))
    if None not in (o, m, p) and not o <= m <= p:
        yield path + ("optimistic",), (f"risk {table.get('risk_id')}: expected optimistic <= most_likely <= "
                                       f"pessimistic, got {show(o)}, {show(m)}, {show(p)}")


def axis_label(axis: dict) -> str:
    """The name of a sweep axis: its ``name``, else its sources joined by "+", else "funding"."""
    return axis.get("name", "+".join(axis.get("sources", [])) or "funding")


def distinct_axis_names(table: dict, path: Path) -> Iterator[Found]:
    seen: set[str] = set()
    for k, axis in enumerate(table.get("funding", [])):
        name = axis_label(axis)
        where = path + ("funding", k, "name")
        if not LABEL.fullmatch(name):
            yield where, f"name of a [[sweep.funding]] must be letters, digits, _ . + or -, got {show(name)}"
        elif name in seen:
            yield where, f"two [[sweep.funding]] axes are named {show(name)}; give each a different name = \"...\""
        seen.add(name)


def grid_size(table: dict, path: Path) -> Iterator[Found]:
    axes = table.get("funding", [])
    size = math.prod(len(axis["factors"]) for axis in axes)
    if size > MAX_SWEEP_VARIANTS:
        yield path + ("funding", len(axes) - 1), (f"the [[sweep.funding]] axes make {size} variants; at most "
                                                  f"{MAX_SWEEP_VARIANTS} (the limit of this tool)")


def origins_rule(table: dict, path: Path) -> Iterator[Found]:
    """``[backtest] origins`` by the same rule as ``--origins`` (scenarios/origins.py), e.g. at most so many."""
    if "origins" in table:
        try:
            scenario_origins(table["origins"])
        except ValueError as exc:
            yield path + ("origins",), f"{label(path)}: origins: {exc}"


# -- the schema ----------------------------------------------------------------------------------------------

YEAR = Number(low=YEARS[0], high=YEARS[1], whole=True)
SOURCES = ListOf(item=Text(ref="source"), expect='a list of funding sources, e.g. ["provincial"]')

SCHEMA = Table(keys={
    "name": Text(),
    "description": Text(),
    "data": Text(),
    "status_date": Month(),
    "deadline": Month(),
    "optimize": Table(keys={
        "time_limit_s": Number(low=0.1, most=MAX_TIME_LIMIT_S),
        "deterministic_time": Number(low=0.01, most=MAX_DETERMINISTIC_TIME),
        "workers": Number(low=1, whole=True, most=MAX_WORKERS),
        "objective": Choice(values=OBJECTIVES),
        "hard_deadlines": Flag(),
        "duration_percentile": Number(low=1, high=99),
        "funding": Flag(),
    }),
    "simulate": Table(keys={
        "iterations": Number(low=1, whole=True, most=MAX_ITERATIONS),
        "seed": Number(low=0, whole=True, most=MAX_SEED),
        "distribution": Choice(values=DISTRIBUTIONS),
        "correlation": Number(low=0, high=1),
        "carry_over": Flag(),
        "deadline_pressure": Flag(),
        "funding": Flag(),
        "engine": Choice(values=ENGINES),
        "workers": Number(low=1, whole=True, most=MAX_WORKERS),
    }),
    "funding": Table(keys={
        "scale": Tables(table=Table(keys={
            "sources": SOURCES,
            "source": Text(ref="source"),  # one source, the same as sources = ["..."]
            "from": YEAR,
            "to": YEAR,
            "factor": Number(low=0, most=MAX_FACTOR, required=True),
        }, rules=(not_both("sources", "source"), first_not_after_last))),
    }),
    "durations": Tables(table=Table(keys={
        "category": Choice(values=CATEGORIES),
        "project": Text(ref="project"),
        "factor": Number(low=0.01, most=MAX_DURATION_FACTOR, required=True),
    }, rules=(one_of("category", "project"),))),
    "priorities": MapOf(value=Number(low=0, above=True, most=MAX_PRIORITY), key_ref="project"),
    "forced_starts": Tables(table=Table(keys={
        "activity": Text(ref="activity", required=True),
        "start": Month(required=True),
    })),
    "risks": Tables(table=Table(keys={
        "risk_id": Text(required=True, pattern=re.compile(r"\S+"), expect="an id without spaces", ref="new_risk"),
        "name": Text(),
        "probability": Number(low=0, high=1, required=True),
        "optimistic": Number(low=0, most=MAX_MONTHS, required=True),
        "most_likely": Number(low=0, most=MAX_MONTHS, required=True),
        "pessimistic": Number(low=0, most=MAX_MONTHS, required=True),
        "affects": ListOf(item=Text(ref="affects")),
    }, rules=(three_point_order,)), unique="risk_id"),
    "risk_changes": MapOf(value=Table(keys={
        "probability": Number(low=0, high=1),
        "impact_factor": Number(low=0, most=MAX_FACTOR),
    }), key_ref="risk"),
    "stoppages": Tables(table=Table(keys={
        "start": Month(required=True),
        "months": Number(low=1, whole=True, most=MAX_MONTHS, required=True),
        "categories": ListOf(item=Choice(values=CATEGORIES)),
    })),
    "sweep": Table(keys={
        "funding": Tables(table=Table(keys={
            "name": Text(),  # letters, digits, _ . + or - (checked with the names the sources give)
            "sources": SOURCES,
            "from": YEAR,
            "to": YEAR,
            "factors": ListOf(item=Number(low=0, most=MAX_FACTOR), nonempty=True, distinct=True,
                              required=True, expect="a list of numbers >= 0, e.g. [1.0, 0.9, 0.8]"),
        }, rules=(first_not_after_last,))),
    }, rules=(distinct_axis_names, grid_size)),
    "backtest": Table(keys={
        "origins": Either(
            list_form=ListOf(item=Month(), nonempty=True, distinct=True),
            table_form=Table(keys={"from": Month(required=True), "to": Month(required=True),
                                   "every": Number(low=1, whole=True, most=1200, required=True)},
                             rules=(first_not_after_last,)),
            expect='a list of months such as ["2019-01", "2020-01"] or { from = "2019-01", to = "2023-01", every = 12 }'),
    }, rules=(origins_rule,)),
})


# -- checking ------------------------------------------------------------------------------------------------

def show(value) -> str:
    """A value as the user wrote it, short enough for one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def label(path: Path) -> str:
    """How the file names the table at ``path``: [a.b] or [[a.b]] (for an item of an array of tables)."""
    names = ".".join(str(k) for k in path if isinstance(k, str))
    if not names:
        return "the file"
    return f"[[{names}]]" if isinstance(path[-1], int) else f"[{names}]"


def name_of(path: Path) -> str:
    """The key a value stands at, with its item number inside a list: factors, or affects[2]."""
    last = max((i for i, k in enumerate(path) if isinstance(k, str)), default=None)
    if last is None:
        return "value"
    key = path[last] if BARE_KEY.fullmatch(path[last]) else show(path[last])
    return key + "".join(f"[{k}]" for k in path[last + 1:])


def describe(spec: Spec) -> str:
    """What a value of ``spec`` must be, e.g. "a whole number" or 'a month as "YYYY-MM"'."""
    if spec.expect:
        return spec.expect
    if isinstance(spec, Number):
        return "a whole number" if spec.whole else "a number"
    if isinstance(spec, Flag):
        return "true or false"
    if isinstance(spec, Choice):
        return f"one of {', '.join(spec.values)}"
    if isinstance(spec, Month):
        return 'a month as "YYYY-MM"'
    if isinstance(spec, ListOf):
        return f"a list, each item {describe(spec.item)}"
    if isinstance(spec, Tables):
        return "tables: [[...]]"
    if isinstance(spec, (Table, MapOf)):
        return "a table"
    return "a string"


def check(value, spec: Spec = SCHEMA, path: Path = ()) -> list[Found]:
    """Every problem of ``value`` against ``spec``: types, ranges, finite numbers, allowed keys at every level."""
    kind = {Text: _text, Flag: _flag, Choice: _choice, Month: _month, Number: _number, ListOf: _list,
            Table: _table, Tables: _tables, MapOf: _map, Either: _either}[type(spec)]
    return list(kind(value, spec, path))


def _wrong(value, spec: Spec, path: Path, what: str | None = None) -> Found:
    """A wrong value; of a required key, in the words of its "needs" message."""
    if spec.required and path and isinstance(path[-1], str) and (what is None or what == "a finite number"):
        return path, f"each {label(path[:-1])} needs {path[-1]} = {needed(spec)}, got {show(value)}"
    return path, f"{name_of(path)} must be {what or describe(spec)}, got {show(value)}"


def needed(spec: Spec) -> str:
    """What a value must be, with its range: "a number >= 0"."""
    if not isinstance(spec, Number) or spec.expect or spec.low is None:
        return describe(spec)
    if spec.high is not None:
        return f"{describe(spec)} from {number(spec.low)} to {number(spec.high)}"
    return f"{describe(spec)} {'>' if spec.above else '>='} {number(spec.low)}"


def number(x: float) -> str:
    """A bound as a person writes it: 1000000000, 0.1, 1e+20."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _text(value, spec: Text, path: Path) -> Iterator[Found]:
    if not isinstance(value, str) or (spec.pattern and not spec.pattern.fullmatch(value)):
        yield _wrong(value, spec, path)


def _flag(value, spec: Flag, path: Path) -> Iterator[Found]:
    if not isinstance(value, bool):
        yield _wrong(value, spec, path)


def _choice(value, spec: Choice, path: Path) -> Iterator[Found]:
    if not isinstance(value, str) or value not in spec.values:
        yield _wrong(value, spec, path)


def _month(value, spec: Month, path: Path) -> Iterator[Found]:
    if not isinstance(value, str):
        yield _wrong(value, spec, path)
        return
    try:
        month = parse_month(value)
    except ValueError as exc:
        yield path, f"{name_of(path)}: {exc}"
        return
    if not FIRST_YEAR <= year_of(month) <= LAST_YEAR:  # the data's months have the same bounds
        yield path, f"{name_of(path)}: expected a month from {FIRST_YEAR}-01 to {LAST_YEAR}-12, got {value!r}"


def _number(value, spec: Number, path: Path) -> Iterator[Found]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (spec.whole and not isinstance(value, int)):
        yield _wrong(value, spec, path)
    elif not math.isfinite(value):
        yield _wrong(value, spec, path, "a finite number")
    elif not _in_range(value, spec):
        yield _wrong(value, spec, path, None if spec.required else _range_text(spec))
    elif spec.most is not None and value > spec.most:
        yield _wrong(value, spec, path, f"at most {number(spec.most)} (the limit of this tool)")


def _in_range(value, spec: Number) -> bool:
    if spec.low is not None and (value <= spec.low if spec.above else value < spec.low):
        return False
    return spec.high is None or value <= spec.high


def _range_text(spec: Number) -> str:
    if spec.expect:
        return spec.expect
    if spec.high is not None:
        return f"between {number(spec.low)} and {number(spec.high)}"
    return f"{'greater than' if spec.above else 'at least'} {number(spec.low)}"


def _list(value, spec: ListOf, path: Path) -> Iterator[Found]:
    if not isinstance(value, list) or (spec.nonempty and not value):
        yield _wrong(value, spec, path)
        return
    problems = [found for k, item in enumerate(value) for found in check(item, spec.item, path + (k,))]
    if problems and spec.expect:  # one line for the list, in the words the documentation uses
        yield _wrong(value, spec, path)
        return
    yield from problems
    if not problems and spec.distinct and len(set(value)) != len(value):
        yield path, f"{name_of(path)} of a {label(path[:-1])} must differ from each other, got {show(value)}"


def _table(value, spec: Table, path: Path) -> Iterator[Found]:
    if not isinstance(value, dict):
        yield _wrong(value, spec, path)
        return
    problems: list[Found] = []
    for key, item in value.items():
        if key not in spec.keys:
            where = f" in {label(path)}" if path else ""
            problems.append((path + (key,), f"unknown key {show(key)}{where} (known: {', '.join(sorted(spec.keys))})"))
        else:
            problems += check(item, spec.keys[key], path + (key,))
    for key, child in spec.keys.items():
        if child.required and key not in value:
            problems.append((path, f"each {label(path)} needs {key} = {needed(child)}"))
    yield from problems
    if not problems:
        for rule in spec.rules:
            yield from rule(value, path)


def _tables(value, spec: Tables, path: Path) -> Iterator[Found]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        yield _wrong(value, spec, path, f"tables: [[{'.'.join(k for k in path if isinstance(k, str))}]]")
        return
    problems = [found for k, item in enumerate(value) for found in check(item, spec.table, path + (k,))]
    yield from problems
    if spec.unique and not problems:
        first: dict = {}
        for k, item in enumerate(value):
            key = item.get(spec.unique)
            if key in first:
                yield path + (k, spec.unique), f"two {label(path + (k,))} have {spec.unique} = {show(key)}"
            first.setdefault(key, k)


def _either(value, spec: Either, path: Path) -> Iterator[Found]:
    if isinstance(value, list):
        yield from check(value, spec.list_form, path)
    elif isinstance(value, dict):
        yield from check(value, spec.table_form, path)
    else:
        yield _wrong(value, spec, path)


def _map(value, spec: MapOf, path: Path) -> Iterator[Found]:
    if not isinstance(value, dict):
        yield _wrong(value, spec, path)
        return
    for key, item in value.items():
        yield from check(item, spec.value, path + (key,))


# -- references to the data ----------------------------------------------------------------------------------

def check_references(doc: dict, known: dict[str, set[str]], spec: Spec = SCHEMA, path: Path = ()) -> list[Found]:
    """Every id of a valid document (``check`` found nothing) that the data does not have.

    ``known``: kind -> ids, for the kinds of ``Spec.ref`` (project, activity, risk, source); "affects" is an
    activity or ``category:NAME``.
    """
    return list(_references(doc, spec, path, known))


def _references(value, spec: Spec, path: Path, known: dict[str, set[str]]) -> Iterator[Found]:
    if spec.ref:
        yield from _unknown(value, spec.ref, path, known)
    elif isinstance(spec, Table):
        for key, item in value.items():
            yield from _references(item, spec.keys[key], path + (key,), known)
    elif isinstance(spec, Tables):
        for k, item in enumerate(value):
            yield from _references(item, spec.table, path + (k,), known)
    elif isinstance(spec, ListOf):
        for k, item in enumerate(value):
            yield from _references(item, spec.item, path + (k,), known)
    elif isinstance(spec, MapOf):
        for key, item in value.items():
            yield from _unknown(key, spec.key_ref, path + (key,), known)
            yield from _references(item, spec.value, path + (key,), known)


def _unknown(value: str, kind: str, path: Path, known: dict[str, set[str]]) -> Iterator[Found]:
    """The problem of an id ``value`` of ``kind`` at ``path`` that the data does not have (or, for a new risk, has)."""
    table = path[:-2] if isinstance(path[-1], int) else path[:-1]  # the table the key (or its list) stands in
    where = f" in {label(table)}" if table else ""
    if kind == "affects":
        yield from _unknown_target(value, path, where, known)
    elif kind == "new_risk":
        if value in known["risk"]:
            yield path, f"risk_id {show(value)}{where} is already in risks.csv (change it with [risk_changes.{value}])"
    elif kind == "source":
        if value not in known["source"]:
            names = ", ".join(sorted(known["source"])) or "none"
            yield path, f"{label(table)}: no funding caps for source {show(value)} (sources with caps: {names})"
    elif value not in known[kind]:
        yield path, f"unknown {kind} {show(value)}{where}"


def _unknown_target(value: str, path: Path, where: str, known: dict[str, set[str]]) -> Iterator[Found]:
    """A risk's target: an activity_id or category:NAME."""
    if value.startswith("category:"):
        category = value.split(":", 1)[1]
        if category not in CATEGORIES:
            yield path, f"unknown category {show(category)}{where} (known: {', '.join(CATEGORIES)})"
    elif value not in known["activity"]:
        yield path, f"unknown activity {show(value)}{where} (expected an activity_id or category:NAME)"
