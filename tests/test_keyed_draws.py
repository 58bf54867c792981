"""Random numbers tied to identities: an activity's, risk's or category's draws depend on the seed, its id and the
iteration only, so other rows of the input can come, go or move without changing its results (issue 17).

The acceptance tests run the simulation on copies of the bundled data under the baseline scenario's settings and
compare the output rows of the projects and activities that the change leaves alone, byte for byte.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings as hsettings, strategies as st

import simulate
from portfolio.errors import InputError
from scenarios.load import load_target
from simulate import keyed
from simulate.model import BLOCK, build_model
from simulate.sampling import draw_block, raw_block
from portfolio_builders import activity, make_portfolio, make_settings, project, risk

ROOT = Path(__file__).resolve().parent.parent
ITERATIONS = 2000
PLAN = ROOT / "tests" / "expected" / "baseline"  # a schedule of the bundled data: the same plan starts every run


# -- copies of the bundled data ------------------------------------------------------------------

def bundle(folder: Path) -> Path:
    """A copy of the bundled data and the baseline scenario in ``folder``; the scenario's path."""
    shutil.copytree(ROOT / "data", folder / "data")
    (folder / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "baseline.toml", folder / "scenarios" / "baseline.toml")
    return folder / "scenarios" / "baseline.toml"


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return rows[0], rows[1:]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")


def edit(path: Path, change) -> None:
    """Rewrite the CSV file ``path`` with ``change(header, rows) -> rows``."""
    header, rows = read_rows(path)
    write_rows(path, header, change(header, rows))


def add_project(data: Path, pid: str = "NEW-PORT", category: str = "water") -> None:
    """An unrelated project: no links in or out, no risks, its own funding source with its own caps."""
    def projects(header, rows):
        new = dict.fromkeys(header, "")
        new.update(project_id=pid, name_zh="新港口", name_en="New port", category=category,
                   lead_agency="省交通运输厅", priority="5", budget="30", source="test")
        return rows + [[new[c] for c in header]]

    def activities(header, rows):
        new = []
        for k, (pred, cost) in enumerate([("", "0"), (f"{pid}.T1", "20"), (f"{pid}.T2", "10")], start=1):
            row = dict.fromkeys(header, "")
            row.update(activity_id=f"{pid}.T{k}", project_id=pid, name=f"工程{k}", optimistic="6", most_likely="10",
                       pessimistic="20", predecessors=pred, cost=cost, funding_source="port-fund", source="test")
            new.append([row[c] for c in header])
        return rows[:40] + new[:1] + rows[40:80] + new[1:] + rows[80:]  # among the others, not at the end

    def funding(header, rows):
        return rows + [[str(year), "port-fund", "4", "test"] for year in range(2018, 2036)]

    edit(data / "projects.csv", projects)
    edit(data / "activities.csv", activities)
    edit(data / "funding.csv", funding)


def isolate_project(data: Path, pid: str) -> None:
    """Fund every activity of ``pid`` from a source of its own (so removing it takes no money from the others)."""
    def activities(header, rows):
        src, proj = header.index("funding_source"), header.index("project_id")
        return [r[:src] + [f"{pid}-fund"] + r[src + 1:] if r[proj] == pid else r for r in rows]

    edit(data / "activities.csv", activities)
    edit(data / "funding.csv", lambda header, rows: rows + [[str(y), f"{pid}-fund", "3", "test"]
                                                           for y in range(2018, 2036)])


def remove_project(data: Path, pid: str) -> None:
    """``pid``, its activities, its funding source and its activities in the risks' lists (risks left with
    nothing to affect are removed)."""
    edit(data / "projects.csv", lambda header, rows: [r for r in rows if r[0] != pid])
    edit(data / "activities.csv", lambda header, rows: [r for r in rows if r[header.index("project_id")] != pid])
    edit(data / "funding.csv", lambda header, rows: [r for r in rows if r[1] != f"{pid}-fund"])
    if (data / "deadlines.csv").exists():
        edit(data / "deadlines.csv", lambda header, rows: [r for r in rows if r[header.index("project_id")] != pid])

    def risks(header, rows):
        col, kept = header.index("affects"), []
        for r in rows:
            affects = [a for a in r[col].split(";") if not a.startswith(pid + ".")]
            if affects:
                kept.append(r[:col] + [";".join(affects)] + r[col + 1:])
        return kept

    edit(data / "risks.csv", risks)


def shuffle_rows(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    edit(path, lambda header, rows: [rows[k] for k in rng.permutation(len(rows))])


# -- running and comparing -------------------------------------------------------------------------

KEY_FIELDS = {"simulation.csv": 1, "criticality.csv": 1, "risks.csv": 1, "distribution.csv": 2}


def simulated(scenario: Path, out: Path, plan: bool, correlation: float | None = None) -> dict[str, dict[str, str]]:
    """The lines of each output file of a run of ``scenario``, by key (project, activity, risk, project and
    month)."""
    portfolio, settings = load_target(scenario)
    if correlation is not None:
        settings = dataclasses.replace(settings, simulate=dataclasses.replace(settings.simulate,
                                                                             correlation=correlation))
    starts = simulate.read_plan_starts(PLAN) if plan else None
    result = simulate.run(portfolio, settings, starts, iterations=ITERATIONS)
    out.mkdir()
    simulate.write_outputs(result, out)
    lines = {}
    for name, fields in KEY_FIELDS.items():
        text = (out / name).read_text(encoding="utf-8").splitlines()
        lines[name] = {",".join(line.split(",", fields)[:fields]): line for line in text[1:]}
    return lines


def assert_same_rows(base: dict, changed: dict, left_alone, files=("simulation.csv", "criticality.csv")) -> None:
    """Every row of ``left_alone(key)`` keys in ``base`` is in ``changed``, the same bytes."""
    for name in files:
        keys = [k for k in base[name] if left_alone(k)]
        assert keys, name
        differ = [(base[name][k], changed[name].get(k)) for k in keys if changed[name].get(k) != base[name][k]]
        assert not differ, f"{name}: {len(differ)} of {len(keys)} rows differ, e.g. {differ[:3]}"


def outside(pid: str):
    return lambda key: key != "PORTFOLIO" and key != pid and not key.startswith(pid + ".")


@pytest.fixture(params=[False, True], ids=["asap", "plan"])
def plan(request):
    return request.param


def test_adding_an_unrelated_project_leaves_the_others_rows_unchanged(tmp_path, plan):
    base = bundle(tmp_path / "base")
    changed = bundle(tmp_path / "added")
    add_project(changed.parent.parent / "data")
    before = simulated(base, tmp_path / "out-base", plan)
    after = simulated(changed, tmp_path / "out-added", plan)
    assert "NEW-PORT" in after["simulation.csv"] and "NEW-PORT.T2" in after["criticality.csv"]
    assert_same_rows(before, after, outside("NEW-PORT"))


def test_adding_a_project_of_a_new_category_leaves_correlated_draws_unchanged(tmp_path):
    """With a common factor per category (keyed by the category's name), a new category shifts the others'
    category indices but not their draws."""
    base = bundle(tmp_path / "base")
    changed = bundle(tmp_path / "added")
    add_project(changed.parent.parent / "data", category="other")  # sorted before rail, road and water
    before = simulated(base, tmp_path / "out-base", True, correlation=0.4)
    after = simulated(changed, tmp_path / "out-added", True, correlation=0.4)
    assert_same_rows(before, after, outside("NEW-PORT"))


def test_removing_a_project_leaves_the_others_rows_unchanged(tmp_path, plan):
    # BAOJI-APT has no links to other projects and, on a funding source of its own, takes no money from them;
    # risks R06 and R14 affect some of its activities and some of the others'.
    base = bundle(tmp_path / "base")
    isolate_project(base.parent.parent / "data", "BAOJI-APT")
    changed = bundle(tmp_path / "removed")
    isolate_project(changed.parent.parent / "data", "BAOJI-APT")
    remove_project(changed.parent.parent / "data", "BAOJI-APT")
    before = simulated(base, tmp_path / "out-base", plan)
    after = simulated(changed, tmp_path / "out-removed", plan)
    assert "BAOJI-APT" in before["simulation.csv"] and "BAOJI-APT" not in after["simulation.csv"]
    assert_same_rows(before, after, outside("BAOJI-APT"))


def test_shuffling_activities_and_risks_leaves_every_row_unchanged(tmp_path, plan):
    base = bundle(tmp_path / "base")
    changed = bundle(tmp_path / "shuffled")
    shuffle_rows(changed.parent.parent / "data" / "activities.csv", 1)
    shuffle_rows(changed.parent.parent / "data" / "risks.csv", 2)
    before = simulated(base, tmp_path / "out-base", plan)
    after = simulated(changed, tmp_path / "out-shuffled", plan)
    for name in KEY_FIELDS:
        assert len(after[name]) == len(before[name]), name
    assert_same_rows(before, after, lambda key: True, tuple(KEY_FIELDS))


# -- the draws themselves -------------------------------------------------------------------------------

def small_model(activities, seed_risks=("R1",)):
    pf = make_portfolio([project("P", category="water"), project("Q", category="rail")], activities,
                        risks=[risk(r, 0.5, 1, 2, 4, affects=(activities[0].activity_id,)) for r in seed_risks])
    return build_model(pf, make_settings())


def column(model, block: int, seed: int, kind: str, ident: str, which: int = 0) -> np.ndarray:
    v, g, occurs, impact = raw_block(model, seed, block)
    if kind == "activity":
        return v[:, model.activity_ids.index(ident)]
    if kind == "category":
        return g[:, model.categories.index(ident)]
    return (occurs, impact)[which][:, model.risk_ids.index(ident)]


def test_an_activitys_draws_depend_on_seed_id_and_block_only():
    a = activity("P.A", "P", 2, 4, 9)
    others = [activity("P.B", "P", 1, 2, 3), activity("Q.A", "Q", 5, 6, 9), activity("Q.B", "Q", 1, 5, 6)]
    one = small_model([a, *others], ("R1", "R2"))
    two = small_model([others[2], a, others[0]], ("R0", "R2", "R1"))  # other rows, another order
    for block in (0, 3):
        for kind, ident in (("activity", "P.A"), ("category", "rail")):
            np.testing.assert_array_equal(column(one, block, 7, kind, ident), column(two, block, 7, kind, ident))
        for which in (0, 1):
            np.testing.assert_array_equal(column(one, block, 7, "risk", "R1", which),
                                          column(two, block, 7, "risk", "R1", which))
    p_a = column(one, 0, 7, "activity", "P.A")
    assert not np.array_equal(p_a, column(one, 1, 7, "activity", "P.A"))  # another block
    assert not np.array_equal(p_a, column(one, 0, 8, "activity", "P.A"))  # another seed
    assert not np.array_equal(p_a, column(one, 0, 7, "activity", "P.B"))  # another id
    assert not np.array_equal(column(one, 0, 7, "risk", "R1", 0), column(one, 0, 7, "risk", "R1", 1))


def test_stable_hash_is_the_documented_sha256_prefix():
    assert keyed.stable_hash("activity", "XIY-P3.T1") == int.from_bytes(
        hashlib.sha256("activity:XIY-P3.T1".encode()).digest()[:8], "little")
    assert keyed.stable_hash("activity", "A") != keyed.stable_hash("risk", "A")
    with pytest.raises(ValueError):
        keyed.stable_hash("project", "A")


@hsettings(max_examples=40, deadline=None)
@example(seed=2**64 - 1, key=2**64 - 1, i0=2**62, rows=9, stream=1)
@given(seed=st.integers(0, 2**64 - 1), key=st.integers(0, 2**64 - 1), i0=st.integers(0, 2**62),
       rows=st.integers(1, 9), stream=st.integers(0, 1))
def test_compiled_philox_is_numpys(seed, key, i0, rows, stream):
    out = np.empty((rows, 1))
    keyed.uniforms(np.uint64(seed), np.array([key], dtype=np.uint64), stream, i0, out)
    for q in range(rows):
        i = i0 + q
        assert out[q, 0] == keyed.uniform_of(keyed.philox_block(seed, key, i // 4, stream)[i % 4])
        assert 0.0 < out[q, 0] < 1.0


def test_uniform_is_strictly_inside_the_unit_interval():
    assert keyed.uniform_of(0) == 2.0 ** -53
    assert keyed.uniform_of(2**64 - 1) == 1.0 - 2.0 ** -53
    assert BLOCK % 4 == 0  # a block starts on a Philox block


def test_risk_delays_are_summed_in_the_order_of_risk_ids():
    """Three risks on one activity: 0.0 + d(R1) + d(R2) + d(R3) whatever the register's order, although another
    order of the additions rounds differently in some iterations."""
    def model(order):
        risks = {"R1": risk("R1", 1.0, 1, 2, 9, affects=("P.A",)),
                 "R2": risk("R2", 1.0, 0.1, 0.7, 3, affects=("P.A",)),
                 "R3": risk("R3", 1.0, 2, 5, 30, affects=("P.A",))}
        pf = make_portfolio([project("P")], [activity("P.A", "P", 2, 4, 9)], risks=[risks[r] for r in order])
        return build_model(pf, make_settings())

    by_register = model(("R3", "R1", "R2"))
    by_id = model(("R1", "R2", "R3"))
    one, two = draw_block(by_register, 11, 0), draw_block(by_id, 11, 0)
    d = dict(zip(by_id.risk_ids, two.delay.T))
    np.testing.assert_array_equal(one.extra[:, 0], ((0.0 + d["R1"]) + d["R2"]) + d["R3"])
    np.testing.assert_array_equal(two.extra[:, 0], one.extra[:, 0])
    assert np.any(((0.0 + d["R3"]) + d["R1"]) + d["R2"] != one.extra[:, 0])  # the order matters for the bits


def test_seed_is_one_64_bit_word():
    pf = make_portfolio([project("P")], [activity("P.A", "P", 2, 4, 9)])
    top = simulate.run(pf, make_settings(), iterations=8, seed=2**64 - 1)
    assert top.info["seed"] == 2**64 - 1
    with pytest.raises(InputError, match="seed must be a whole number from 0 to 2\\*\\*64 - 1"):
        simulate.run(pf, make_settings(), iterations=8, seed=2**64)


def test_cli_refuses_a_seed_beyond_64_bits():
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["simulate", str(ROOT / "scenarios" / "baseline.toml"), "--seed", str(2**64)])
    assert result.exit_code == 2 and "--seed" in result.output and "Traceback" not in result.output
