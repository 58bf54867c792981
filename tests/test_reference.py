"""Reference classes: the written rule, the loader filling empty optimistic/pessimistic, and the bundled data."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from portfolio import reference
from portfolio.errors import InputError
from portfolio.load import check_portfolio, load_portfolio

ROOT = Path(__file__).resolve().parents[1]
ACT_HEADER = ("activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,"
              "earliest_start,actual_start,actual_finish,resources,source\n")


def test_every_class_has_sane_tails_and_risk():
    assert set(reference.CLASSES) == {"aviation", "water-tunnel", "dam", "hsr", "metro", "expressway", "hospital",
                                      "logistics"}
    for c in reference.CLASSES.values():
        for kind in reference.KINDS:
            t = c.tail(kind)
            assert 0 < t.a <= 1 < t.b, (c.name, kind)
        r = c.risk
        assert 0 < r.probability < 1 and 0 <= r.optimistic <= r.most_likely <= r.pessimistic
    for cat, name in reference.CATEGORY_DEFAULTS.items():
        assert cat in reference.CLASSES[name].categories


@pytest.mark.parametrize("name, kind, m, expected", [
    ("metro", "works", 10, (9, 10, 13)),          # 0.85*10 = 8.5 -> 9 (half up); 1.25*10 = 12.5 -> 13
    ("hsr", "preparation", 12, (10, 12, 19)),      # 10.2 -> 10; 1.6*12 = 19.2 -> 19
    ("dam", "works", 43, (37, 43, 62)),            # 36.55 -> 37; 1.44*43 = 61.92 -> 62
    ("hospital", "opening", 6, (5, 6, 24)),        # the hospital opening tail: 4.0
    ("expressway", "opening", 4, (3, 4, 6)),       # 3.4 -> 3; 1.5*4 = 6
    ("logistics", "preparation", 1, (1, 1, 2)),    # at least 1; at least m + 1
    ("aviation", "works", 2, (2, 2, 3)),           # 1.7 -> 2; 2.78 -> 3
])
def test_three_point_rule(name, kind, m, expected):
    assert reference.three_point(name, kind, m) == expected


@pytest.mark.parametrize("text, expected", [
    ("estimate; reference class: hsr (docs/reference_classes.md)", ("hsr", "works")),
    ("Reference Class: water-tunnel/Opening", ("water-tunnel", "opening")),
    ("x; optimistic/pessimistic: reference class: dam/preparation (docs)", ("dam", "preparation")),
    ("estimate", None),
    ("", None),
])
def test_parse_tag(text, expected):
    assert reference.parse_tag(text) == expected


def test_parse_tag_unknown_names():
    with pytest.raises(reference.ReferenceClassError, match="unknown reference class 'canal'"):
        reference.parse_tag("reference class: canal")
    with pytest.raises(reference.ReferenceClassError, match="unknown phase kind 'design'"):
        reference.parse_tag("reference class: metro/design")


def _with_activities(write_data, mini_files, rows: str):
    return write_data({"activities.csv": ACT_HEADER + rows})


def test_loader_fills_empty_optimistic_and_pessimistic(write_data, mini_files):
    rows = mini_files["activities.csv"].splitlines(keepends=True)[1:]
    rows[3] = "HJW.T1,HJW,隧洞掘进,,30,,,150,provincial,2021-06,,,TBM:1,estimate; reference class: water-tunnel\n"
    rows[4] = ("HJW.T2,HJW,输配水管线,,14,,HJW.T1:FF+2,50,local,,,,,"
               "\"estimate, reference class: water-tunnel/opening (docs/reference_classes.md)\"\n")
    portfolio = load_portfolio(_with_activities(write_data, mini_files, "".join(rows)))
    t1, t2 = portfolio.activity("HJW.T1"), portfolio.activity("HJW.T2")
    assert (t1.optimistic, t1.most_likely, t1.pessimistic) == (26, 30, 38)  # 25.5 -> 26; 37.5 -> 38
    assert (t2.optimistic, t2.most_likely, t2.pessimistic) == (12, 14, 21)  # 11.9 -> 12; 21
    assert portfolio.activity("XIY.T1").pessimistic == 12  # explicit values are kept


def test_loader_problems(write_data, mini_files):
    rows = mini_files["activities.csv"].splitlines(keepends=True)[1:]
    rows[3] = "HJW.T1,HJW,隧洞掘进,,30,,,150,provincial,2021-06,,,TBM:1,estimate\n"  # no class named
    rows[4] = "HJW.T2,HJW,输配水管线,,14,,HJW.T1:FF+2,50,local,,,,,reference class: canal\n"  # unknown class
    rows[2] = "XIY.T3,XIY,机电安装,10,12,,XIY.T2:SS+12;XIY.T1,100,bond,,,,CRANE,reference class: metro\n"  # one empty
    folder = _with_activities(write_data, mini_files, "".join(rows))
    portfolio, problems = check_portfolio(folder)
    assert portfolio is None
    got = [(Path(p.file).name, p.line, p.column, p.message) for p in problems]
    assert ("activities.csv", 4, 6, "pessimistic: expected a number > 0, got an empty field") in got
    assert any(line == 5 and col == 4 and msg.startswith("optimistic: expected a number > 0, got an empty field "
                                                         "(to take optimistic and pessimistic from a reference class")
               and 'e.g. "reference class: water-tunnel"' in msg for _f, line, col, msg in got)
    assert ("activities.csv", 6, 14, "source: unknown reference class 'canal' (expected one of aviation, "
            "water-tunnel, dam, hsr, metro, expressway, hospital, logistics)") in got
    with pytest.raises(InputError):
        load_portfolio(folder)


# -- the bundled data -------------------------------------------------------------------------------

def _rows(name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO((ROOT / "data" / name).read_text(encoding="utf-8"))))


def test_bundled_activities_use_the_reference_classes():
    """Every activity takes o and p from its reference class, and its source says so (no row has a better estimate)."""
    portfolio = load_portfolio(ROOT / "data")
    for row in _rows("activities.csv"):
        tag = reference.parse_tag(row["source"])
        assert tag is not None, row["activity_id"]
        assert f"reference class: {tag[0]}/{tag[1]} (docs/reference_classes.md)" in row["source"]
        assert row["optimistic"] == "" and row["pessimistic"] == "", row["activity_id"]
        a = portfolio.activity(row["activity_id"])
        assert (a.optimistic, a.most_likely, a.pessimistic) == reference.three_point(*tag, a.most_likely)


def test_bundled_default_risks_follow_the_rule():
    """risks.csv holds exactly the reference-class default risk rows the rule gives."""
    portfolio = load_portfolio(ROOT / "data")
    rows = _rows("risks.csv")
    sources = {r["risk_id"]: r["source"] for r in rows}
    expected = reference.default_risk_rows(portfolio, sources)
    actual = [r for r in rows if r["risk_id"].startswith(reference.RISK_PREFIX)]
    assert all(not r.pop("known_since", "") for r in actual)  # known at every date
    assert actual == expected
    assert {r["risk_id"] for r in actual} >= {"RC-XAM-L10", "RC-G5-PL"}


def test_uncovered_projects_ignore_external_events(mini_data):
    portfolio = load_portfolio(mini_data)
    # R1 names HJW.T1 (HJW's own delivery); R2 names HJW.T2 and the aviation category
    assert reference.uncovered_projects(portfolio) == []
    sources = {"R2": "estimate; external event"}
    assert reference.uncovered_projects(portfolio, sources) == ["XIY"]
    sources = {"R1": "external event", "R2": "external event"}
    assert reference.uncovered_projects(portfolio, sources) == ["XIY", "HJW"]


def test_reference_class_doc_lists_every_class():
    text = (ROOT / "docs" / "reference_classes.md").read_text(encoding="utf-8")
    for c in reference.CLASSES.values():
        assert f"`{c.name}`" in text
        assert f"{c.works.b:g}" in text
