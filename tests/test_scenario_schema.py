"""The scenario schema (scenarios/schema.py): every wrong type, range, key or reference is one clear line
``file:line:col: message`` with exit 2, never a traceback; valid scenarios load as before."""
from __future__ import annotations

import datetime
import json
import math
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
from portfolio.errors import InputError
from scenarios.load import load_scenario
from scenarios.schema import SCHEMA, MapOf, Table, Tables, check
from scenarios.toml_positions import Positions

REPO = Path(cli.__file__).parent
DATA = REPO / "data"
PROBLEM_LINE = re.compile(r"^.+:\d+:\d+: \S.*$")
BUNDLED = sorted((REPO / "scenarios").glob("*.toml"))


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def write(folder: Path, body: str, name: str = "s.toml") -> Path:
    """A scenario on the real data folder with ``body`` after its data line."""
    path = folder / name
    path.write_text(f"data = {json.dumps(str(DATA))}\n{body}\n", encoding="utf-8")
    return path


def validate(path: Path):
    result = invoke("validate", path)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def problem_lines(result) -> list[str]:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines and all(PROBLEM_LINE.match(line) for line in lines), lines
    return lines


# -- defect 3: nan ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("[simulate]\ncorrelation = nan", "s.toml:3:1: correlation must be a finite number, got nan"),
    ("[optimize]\ntime_limit_s = inf", "s.toml:3:1: time_limit_s must be a finite number, got inf"),
    ("[[funding.scale]]\nfactor = nan", "s.toml:3:1: each [[funding.scale]] needs factor = a number >= 0, got nan"),
    ("[priorities]\n\"XIY-P3\" = -inf", "s.toml:3:1: XIY-P3 must be a finite number, got -inf"),
])
def test_nan_and_inf_in_a_scenario_exit_2(tmp_path, body, expected):
    lines = problem_lines(validate(write(tmp_path, body)))
    assert any(line.endswith(expected) for line in lines), lines


def test_simulate_with_nan_correlation_writes_nothing(tmp_path):
    path = write(tmp_path, "[simulate]\ncorrelation = nan\niterations = 100")
    result = invoke("simulate", path, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "correlation must be a finite number" in result.output
    assert not (tmp_path / "out").exists()


# -- defect 4: wrong types, unknown keys, references --------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("optimize = 5", "s.toml:2:1: optimize must be a table, got 5"),
    ("simulate = [1]", "s.toml:2:1: simulate must be a table, got [1]"),
    ("funding = 3", "s.toml:2:1: funding must be a table, got 3"),
    ("[funding]\nscale = \"x\"", "s.toml:3:1: scale must be tables: [[funding.scale]], got 'x'"),
    ("durations = [1]", "s.toml:2:1: durations must be tables: [[durations]], got [1]"),
    ("stoppages = \"x\"", "s.toml:2:1: stoppages must be tables: [[stoppages]], got 'x'"),
    ("[risk_changes]\nR03 = 5", "s.toml:3:1: R03 must be a table, got 5"),
    ('[[risks]]\nrisk_id = "X"\nprobability = 0.5\noptimistic = 1\nmost_likely = 2\npessimistic = 3\naffects = [1]',
     "s.toml:8:12: affects[0] must be a string, got 1"),
    ('[[funding.scale]]\nfrom = "2022"\nfactor = 0.8', "s.toml:3:1: from must be a whole number, got '2022'"),
    ("[simulate]\niteratons = 5", "s.toml:3:1: unknown key 'iteratons' in [simulate] (known: carry_over, "),
    ("[optimize]\ntimelimit = 5", "s.toml:3:1: unknown key 'timelimit' in [optimize] (known: "),
    ("[[funding.scale]]\nfator = 0.8", "s.toml:3:1: unknown key 'fator' in [[funding.scale]] (known: "),
    ('[[stoppages]]\nstart = "2022-03"\nmonths = 3\ncategorys = ["rail"]',
     "s.toml:5:1: unknown key 'categorys' in [[stoppages]] (known: categories, months, start)"),
    ('[[funding.scale]]\nsources = "provincial"\nfactor = 0.8',
     's.toml:3:1: sources must be a list of funding sources, e.g. ["provincial"], got \'provincial\''),
    ('[[funding.scale]]\nsources = ["provincal"]\nfactor = 0.8',
     "s.toml:3:12: [[funding.scale]]: no funding caps for source 'provincal' (sources with caps: bond, central, "),
    ('[[funding.scale]]\nsource = "provincal"\nfactor = 0.8', "s.toml:3:1: [[funding.scale]]: no funding caps for "
                                                             "source 'provincal'"),
    ("[simulate]\niterations = 1000000000000",
     "s.toml:3:1: iterations must be at most 1000000000 (the limit of this tool), got 1000000000000"),
    ('[[durations]]\nproject = "NOPE"\nfactor = 1.1', "s.toml:3:1: unknown project 'NOPE' in [[durations]]"),
    ('[[durations]]\ncategory = "rail"\nproject = "XIY-P3"\nfactor = 1.1',
     's.toml:4:1: each [[durations]] needs category = "..." or project = "..." (exactly one of them)'),
    ('[[forced_starts]]\nactivity = "XIY-P3.T99"\nstart = "2024-01"',
     "s.toml:3:1: unknown activity 'XIY-P3.T99' in [[forced_starts]]"),
    ('[[forced_starts]]\nactivity = "XIY-P3.T4"', 's.toml:2:1: each [[forced_starts]] needs start = a month as "YYYY-MM"'),
    ('[[stoppages]]\nstart = 2022\nmonths = 3', 's.toml:3:1: each [[stoppages]] needs start = a month as "YYYY-MM", got 2022'),
    ('[[stoppages]]\nstart = "2022-03"\nmonths = 3\ncategories = ["rails"]',
     "s.toml:5:15: categories[0] must be one of aviation, water, rail, metro, road, logistics, health, other, "
     "got 'rails'"),
    ("[risk_changes.R99]\nprobability = 0.5", "s.toml:2:1: unknown risk 'R99' in [risk_changes]"),
    ('[[risks]]\nrisk_id = "R03"\nprobability = 0.5\noptimistic = 1\nmost_likely = 2\npessimistic = 3',
     "s.toml:3:1: risk_id 'R03' in [[risks]] is already in risks.csv"),
    ('[[risks]]\nrisk_id = "X"\nprobability = 0.5\noptimistic = 1\nmost_likely = 2\npessimistic = 3\n'
     'affects = ["category:rails"]', "s.toml:8:12: unknown category 'rails' in [[risks]]"),
    ("[[sweep.funding]]\nfactors = [1.0, 1e400]", "s.toml:3:1: each [[sweep.funding]] needs factors = a list of "
                                                "numbers >= 0, e.g. [1.0, 0.9, 0.8], got [1.0, inf]"),
    ("status_date = 2021-01-01", 's.toml:2:1: status_date must be a month as "YYYY-MM", got datetime.date(2021, 1, 1)'),
    ("[optimize.extra]\nx = 1", "s.toml:2:1: unknown key 'extra' in [optimize] (known: "),
    (f"[[sweep.funding]]\nname = \"a\"\nfactors = {list(range(40))}\n[[sweep.funding]]\nname = \"b\"\n"
     f"factors = {list(range(40))}", "s.toml:5:1: the [[sweep.funding]] axes make 1600 variants; at most 1000"),
    ('[backtest]\norigins = { from = "1900-01", to = "2199-12", every = 1 }',
     "s.toml:3:1: [backtest]: origins: 3600 origins; at most 50 (the limit of this tool)"),
    (f"[backtest]\norigins = {[f'{y}-01' for y in range(1950, 2010)]}",
     "s.toml:3:1: [backtest]: origins: 60 origins; at most 50 (the limit of this tool)"),
    ('[backtest]\norigins = ["0001-01"]', "s.toml:3:12: origins[0]: expected a month from 1900-01 to 2199-12"),
])
def test_wrong_values_keys_and_references_exit_2_naming_the_line(tmp_path, body, expected):
    lines = problem_lines(validate(write(tmp_path, body)))
    assert any(expected in line for line in lines), lines


def test_every_problem_is_listed_in_file_order(tmp_path):
    path = write(tmp_path, '[optimize]\nworkers = 0\nobjective = 1\n[simulate]\nseed = -1\nbogus = true\n'
                           '[[stoppages]]\nmonths = 1.5')
    lines = problem_lines(validate(path))
    assert [line.split(": ", 1)[0].rsplit(":", 2)[1:] for line in lines] == [
        ["3", "1"], ["4", "1"], ["6", "1"], ["7", "1"], ["8", "1"], ["9", "1"]]
    assert lines[-1].endswith("each [[stoppages]] needs months = a whole number >= 1, got 1.5")


def test_problems_in_the_second_item_of_an_array_name_its_own_line(tmp_path):
    path = write(tmp_path, '[[stoppages]]\nstart = "2022-03"\nmonths = 3\n\n[[stoppages]]\n  start = "2022-3"\n'
                           "  months = 2")
    [line] = problem_lines(validate(path))
    assert line.endswith("s.toml:7:3: start: expected a month as YYYY-MM, got '2022-3'")


def test_the_loader_raises_input_errors_only(tmp_path):
    with pytest.raises(InputError) as info:
        load_scenario(write(tmp_path, "simulate = [1]\n[[durations]]\nfactor = \"x\""))
    assert [p.line for p in info.value.problems] == [2, 4]


# -- valid scenarios -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_scenarios_are_valid(path):
    assert check(tomllib.loads(path.read_text(encoding="utf-8"))) == []
    result = validate(path)
    assert result.exit_code == 0 and result.output.startswith("OK: ")


def documented_example() -> str:
    text = (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8")
    return re.search(r"```toml\n(.*?)```", text, re.S).group(1)


def test_the_documented_example_is_valid_and_uses_every_key(tmp_path):
    example = documented_example()
    path = tmp_path / "example.toml"
    path.write_text(example.replace('data = "../data"', f"data = {json.dumps(str(DATA))}"), encoding="utf-8")
    portfolio, settings = load_scenario(path)
    assert settings.simulate.correlation == 0.3 and portfolio.project("XIY-P3").priority == 10
    docs = (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8")
    missing = [".".join(path) for path in schema_keys(SCHEMA) if not re.search(rf"\b{re.escape(path[-1])}\b", docs)]
    assert missing == []


def schema_keys(spec, path=()) -> list[tuple[str, ...]]:
    keys = []
    if isinstance(spec, Tables):
        spec = spec.table
    if isinstance(spec, MapOf):
        spec = spec.value
    if isinstance(spec, Table):
        for key, child in spec.keys.items():
            keys += [path + (key,)] + schema_keys(child, path + (key,))
    return keys


# -- positions -------------------------------------------------------------------------------------------------

def test_positions_follow_headers_arrays_inline_tables_and_strings():
    text = ('name = "x"  # a comment\n'
            '[[funding.scale]]\n'
            'sources = ["a",\n'
            '  # ] [fake]\n'
            '  "b"]\n'
            'note = """\n'
            'factor = 1\n'
            '[fake]\n'
            '"""\n'
            '[[funding.scale]]\n'
            '  factor = 2\n'
            '[risk_changes."R 03"]\n'
            'x = {a = [1, {b = 2}]}\n')
    found = Positions(text)
    assert found.where(("name",)) == (1, 1)
    assert found.where(("funding", "scale", 0)) == (2, 1)
    assert found.where(("funding", "scale", 0, "sources", 1)) == (5, 3)
    assert found.where(("funding", "scale", 0, "factor")) == (2, 1)  # not there: falls back to its table
    assert found.where(("funding", "scale", 1, "factor")) == (11, 3)
    assert found.where(("risk_changes", "R 03")) == (12, 1)
    assert found.where(("risk_changes", "R 03", "x", "a", 1, "b")) == (13, 15)
    assert found.where(("fake",)) == (0, 0)


# -- fuzzing ---------------------------------------------------------------------------------------------------

BASES = [tomllib.loads(p.read_text(encoding="utf-8")) for p in BUNDLED] + [tomllib.loads(documented_example())]


def toml_value(value) -> str:
    """``value`` as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def is_tables(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(doc: dict, prefix: tuple = ()) -> str:
    """A document as TOML text with [table] and [[array of tables]] headers (so the positions are exercised)."""
    head = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict) and not is_tables(v)]
    out = "\n".join(head) + "\n"
    for key, value in doc.items():
        name = ".".join(toml_key(k) for k in prefix + (key,))
        if isinstance(value, dict):
            out += f"\n[{name}]\n" + to_toml(value, prefix + (key,))
        elif is_tables(value):
            for item in value:
                out += f"\n[[{name}]]\n" + to_toml(item, prefix + (key,))
    return out


SCALARS = st.one_of(
    st.integers(min_value=-2**63, max_value=2**63 - 1), st.sampled_from([0, 1, -1, 10**9 + 1, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=12),
    st.sampled_from([0.0, 0.01, 1e-300, 0.5, 99.0, 1000.0, 1e6, 1200, 10**9, 1e300]),
    st.sampled_from(["2021-13", "2022-03", "0000-00", "9999-12", "category:rail", "category:x", "provincial",
                     "XIY-P3", "XIY-P3.T4", "R03", "rail", "pert", "fast", "on_time", "../data", "", " "]),
    st.dates())
VALUES = st.one_of(SCALARS, SCALARS, SCALARS, st.recursive(  # mostly scalars: more of them pass, and go further
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner,
                                                                                    max_size=3)), max_leaves=6))
SCHEMA_PATHS = schema_keys(SCHEMA)
KNOWN_KEYS = sorted({path[-1] for path in SCHEMA_PATHS})


def containers(value, path=()) -> list[tuple]:
    """Paths of every table and array in ``value`` (where a key or item can be changed)."""
    out = [path] if isinstance(value, (dict, list)) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out += containers(child, path + (key,))
    return out


def set_key(doc: dict, path: tuple, value, map_key: str) -> None:
    """Set the schema key at ``path`` (table keys only) to ``value``, making the tables on the way (the first item
    of an array of tables; ``map_key`` in a table of ids) where they are missing or of another type."""
    spec, target = SCHEMA, doc
    for key in path[:-1]:
        spec = spec.keys[key]
        if isinstance(spec, Tables):
            if not is_tables(target.get(key)):
                target[key] = [{}]
            target, spec = target[key][0], spec.table
        elif isinstance(spec, MapOf):
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key].setdefault(map_key, {})
            if not isinstance(target, dict):
                target = target[key][map_key] = {}
            spec = spec.value
        else:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
    target[path[-1]] = value


@st.composite
def mutated_scenarios(draw) -> dict:
    doc = json.loads(json.dumps(draw(st.sampled_from(BASES)), default=str))  # a deep copy (no dates in the bases)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):  # any value at any key of the schema
            set_key(doc, draw(st.sampled_from(SCHEMA_PATHS)), draw(VALUES), draw(st.sampled_from(["XIY-P3", "R03", "Q"])))
            continue
        where = draw(st.sampled_from(containers(doc)))
        target = doc
        for key in where:
            target = target[key]
        if isinstance(target, list):
            if target:
                target[draw(st.integers(0, len(target) - 1))] = draw(VALUES)
            else:
                target.append(draw(VALUES))
        elif target and draw(st.booleans()):
            target[draw(st.sampled_from(sorted(target)))] = draw(VALUES)  # a known key, any value
        else:
            target[draw(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8)))] = draw(VALUES)
    doc.setdefault("data", str(DATA))
    if doc["data"] == "../data":
        doc["data"] = str(DATA)
    return doc


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(doc=mutated_scenarios())
def test_fuzzed_scenarios_never_end_in_a_traceback(tmp_path, doc):
    path = tmp_path / "fuzz.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    result = validate(path)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.output.splitlines()
        assert lines and all(PROBLEM_LINE.match(line) for line in lines), lines
        in_file = [line for line in lines if line.startswith(f"{path}:")]
        assert all(int(line[len(str(path)) + 1:].split(":")[0]) >= 1 for line in in_file), lines
