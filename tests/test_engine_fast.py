"""The fast engine against the SimPy reference engine: the same Outcomes, bit for bit, from the same draws.

Start, end, drivers and driving-path marks are compared with ``np.array_equal`` (no tolerance): on every bundled
scenario (as soon as possible and with a plan), on random portfolios (hypothesis) and on hand-made draws at the
edges of floating point, and the output files of ``simulate.run`` are compared byte for byte.
(tests/test_simulate_reference.py checks every registered engine against the written rule as well.)
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulate
import simulate.runner as runner
from portfolio.months import parse_month
from portfolio.runfolder import atomic_folder
from scenarios.load import load_target
from simulate import engine_fast, engine_simpy, fast_kernel
from simulate.model import DONE, FUTURE, build_model
from simulate.outcomes import driving_paths
from simulate.sampling import Draws, draws_for
from portfolio_builders import activity, make_portfolio, make_settings, project, risk

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
N = 500
FIELDS = ("start", "end", "start_driver", "end_driver", "on_path")


def assert_same(model, draws, where=""):
    ref = engine_simpy.run_block(model, draws)
    out = engine_fast.run_block(model, draws)
    for name in FIELDS:
        a, b = getattr(ref, name), getattr(out, name)
        if not np.array_equal(a, b):
            q, j = np.argwhere(a != b)[0]
            raise AssertionError(f"{where}: {name} differs first in iteration {draws.i0 + q}, activity "
                                 f"{model.activity_ids[j]}: simpy {a[q, j]!r}, fast {b[q, j]!r}")
    # the finish month of every activity in every iteration, as the statistics read it
    assert np.array_equal(np.ceil(ref.end) - 1, np.ceil(out.end) - 1)
    return ref


def jittered_plan(portfolio, settings, seed=0):
    """A plan of the kind the optimizer makes: the starts of one as-soon-as-possible iteration, some moved later."""
    model = build_model(portfolio, settings)
    out = engine_fast.run_block(model, draws_for(model, seed, 0, 1))
    rng = np.random.default_rng(seed)
    return {aid: settings.status_date + int(out.start[0, j]) + int(rng.integers(0, 4))
            for j, aid in enumerate(model.activity_ids)
            if model.state[j] == FUTURE and out.start[0, j] < model.horizon and rng.random() < 0.8}


# -- the bundled scenarios ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenario_as_soon_as_possible_and_planned(path):
    portfolio, settings_ = load_target(path)
    seed = settings_.simulate.seed
    for label, plan in (("asap", None), ("plan", jittered_plan(portfolio, settings_, seed))):
        model = build_model(portfolio, settings_, plan)
        assert_same(model, draws_for(model, seed, 0, N), f"{path.stem} ({label})")


@pytest.fixture(scope="module")
def baseline_plan():
    """The optimizer's plan of the baseline (a short time limit: any plan it returns will do)."""
    import optimize
    from runs.pipeline import planned_starts

    portfolio, settings_ = load_target(ROOT / "scenarios" / "baseline.toml")
    return portfolio, settings_, planned_starts(optimize.solve(portfolio, settings_, time_limit=5))


def test_baseline_with_the_optimizers_plan(baseline_plan):
    portfolio, settings_, plan = baseline_plan
    model = build_model(portfolio, settings_, plan)
    assert_same(model, draws_for(model, settings_.simulate.seed, 0, N), "baseline (optimizer's plan)")


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in runner.OUTPUT_FILES}


def test_identical_output_files_for_both_engines_any_chunks_and_workers(baseline_plan, tmp_path, monkeypatch):
    portfolio, settings_, plan = baseline_plan
    folders = []

    def write(name, **kwargs):
        res = simulate.run(portfolio, settings_, plan, iterations=1100, seed=3, **kwargs)
        with atomic_folder(tmp_path / name) as folder:
            simulate.write_outputs(res, folder)
        folders.append(tmp_path / name)
        return res

    ref = write("simpy", engine="simpy")
    write("fast", engine="fast")
    write("fast-2-workers", engine="fast", workers=2)
    monkeypatch.setattr(runner, "FAST_CHUNK", 1024)
    fast = write("fast-small-blocks", engine="fast")
    assert runner.chunk_size("fast", 1100) == 1024 and ref.info["engine"] == "simpy" and fast.info["engine"] == "fast"
    first = folder_bytes(folders[0])
    for folder in folders[1:]:
        assert folder_bytes(folder) == first, folder.name


def test_chunk_sizes():
    assert runner.chunk_size("simpy", 10**6) == runner.CHUNK
    assert runner.chunk_size("fast", 100) == 1024
    assert runner.chunk_size("fast", 10_000) == 3 * 1024
    assert runner.chunk_size("fast", 10**6) == runner.FAST_CHUNK
    assert runner.FAST_CHUNK % 1024 == 0
    # large portfolios get smaller chunks (whole blocks) so a chunk's draws fit in memory
    assert runner.chunk_size("fast", 10**6, activities=125) == runner.FAST_CHUNK
    assert runner.chunk_size("fast", 10**6, activities=2_000) == 4 * 1024
    assert runner.chunk_size("fast", 10**6, activities=20_000) == 1024
    for activities in (1, 500, 5_000, 50_000):
        size = runner.chunk_size("fast", 10**6, activities)
        assert size % 1024 == 0 and (size == 1024 or size * activities <= runner.FAST_CELLS)


# -- random portfolios --------------------------------------------------------------------------------

def random_case(rng):
    """A random small portfolio with every feature the rule has: link types and lags (negative too), links
    across projects, done and running activities, earliest starts, caps that bind, empty and unlimited years,
    carry-over or not, stoppages, risks, priorities, zero costs, a plan or none."""
    cats = ["water", "rail", "metro", "aviation"]
    n_proj = int(rng.integers(1, 5))
    projects = [project(f"P{p}", deadline=str(rng.choice(["2022-06", "2023-06", "2024-12"])),
                        priority=float(rng.integers(1, 4)), category=cats[p % 4]) for p in range(n_proj)]
    n = int(rng.integers(2, 16))
    acts = []
    for a in range(n):
        pid = f"P{int(rng.integers(0, n_proj))}"
        o = float(rng.integers(0, 6)) + float(rng.choice([0.0, 0.25, 0.5]))
        o = max(o, 0.25)
        m = o + float(rng.integers(0, 4))
        p = m + float(rng.integers(0, 5)) + float(rng.choice([0.0, 0.5]))
        preds = []
        if a and rng.random() < 0.85:
            for b in sorted(set(rng.integers(0, a, size=int(rng.integers(1, 4))).tolist())):
                kind = str(rng.choice(["", "", ":SS", ":FF", ":SF", ":FS"]))
                lag = int(rng.integers(-3, 5)) if kind else 0
                preds.append(f"A{b}{kind}{lag:+d}" if kind and lag else f"A{b}{kind}")
        kw = {}
        u = rng.random()
        if a < 4 and u < 0.2:
            kw = dict(actual_start="2020-05", actual_finish=str(rng.choice(["2020-11", "2021-01"])))
            preds = []
        elif a < 4 and u < 0.45:
            kw = dict(actual_start=str(rng.choice(["2020-03", "2020-09", "2017-01", "2020-12"])))
            preds = []
        elif rng.random() < 0.2:
            kw = dict(earliest=str(rng.choice(["2021-03", "2021-09", "2022-02"])))
        acts.append(activity(f"A{a}", pid, o, m, p, ";".join(preds), cost=float(rng.choice([0, 1.5, 2, 5, 9, 13])),
                             source=str(rng.choice(["s1", "s2", "s3"])), **kw))
    funding = [(y, "s1", float(rng.choice([3, 6, 7.5, 12]))) for y in range(2021, 2027) if rng.random() < 0.8]
    funding += [(y, "s2", float(rng.choice([0, 2.5, 4, 8]))) for y in range(2021, 2025) if rng.random() < 0.7]
    risks = [risk(f"R{r}", float(rng.random()), 0.5, 1.5, 4, affects=tuple(rng.choice([a.activity_id for a in acts],
                                                                                      size=2)))
             for r in range(int(rng.integers(0, 3)))]
    pf = make_portfolio(projects, acts, funding, risks)
    stoppages = [(str(rng.choice(["2021-02", "2021-04", "2022-01"])), int(rng.integers(1, 4)),
                  tuple(rng.choice(cats, size=int(rng.integers(0, 3)), replace=False)))
                 for _ in range(int(rng.integers(0, 3)))] if rng.random() < 0.4 else []
    settings_ = make_settings(status=str(rng.choice(["2021-01", "2021-05"])), stoppages=stoppages,
                              carry_over=bool(rng.random() < 0.7), distribution=str(rng.choice(["triangular", "pert"])),
                              correlation=float(rng.choice([0.0, 0.5])))
    plan = None
    if rng.random() < 0.5:
        plan = {a.activity_id: parse_month("2021-01") + int(rng.integers(0, 10)) for a in acts if rng.random() < 0.7}
    return pf, settings_, plan


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_portfolios(seed):
    rng = np.random.default_rng(seed)
    pf, settings_, plan = random_case(rng)
    model = build_model(pf, settings_, plan)
    assert_same(model, draws_for(model, seed % 1000, 0, N), f"random case {seed}")


# -- hand-made draws at the edges of floating point -------------------------------------------------------------

def hand_draws(model, work, rate):
    work = np.asarray(work, dtype=float)
    rate = np.asarray(rate, dtype=float)
    rows, n = work.shape
    z = np.zeros((rows, n))
    return Draws(0, rows, z + 0.5, z + 1.0, z, work, rate, np.zeros((rows, 0), bool), np.zeros((rows, 0)))


def test_a_last_piece_below_rounding_ends_after_the_payments_of_its_month():
    # A starts at 28 with W = the float after 100: its last piece (1.4e-14) is paid at k = 128, and 128 + 1.4e-14
    # rounds to 128.0. A ends at t = 128 after the payments of 128, so B (FS) starts at 129, C (SS on B) too;
    # D (FF) ends with A; E (FS-1) waits for A's traced work.
    pf = make_portfolio([project("P")], [activity("A", "P", 5, cost=10, source="s"),
                                         activity("B", "P", 5, preds="A", cost=1, source="s"),
                                         activity("C", "P", 5, preds="B:SS", source="s"),
                                         activity("D", "P", 2, preds="A:FF", source="s"),
                                         activity("E", "P", 3, preds="A:FS-1", source="s")],
                        funding=[(y, "s", 50.0) for y in range(2021, 2040)])
    model = build_model(pf, make_settings(), {"A": parse_month("2021-01") + 28})
    w = np.nextafter(100.0, np.inf)
    work = [[w, 3.0, 2.0, 0.5, 2.25], [w, 1.0, 0.0, 1e-300, 3.0], [1.0 + 2**-52, 2**-1074, 1.0, 4.0, 1.0]]
    rate = [[0.5, 0.1, 0.0, 0.2, 0.3], [0.5, 0.1, 0.0, 0.2, 0.3], [7.0, 3.0, 1.0, 0.1, 9.0]]
    ref = assert_same(model, hand_draws(model, work, rate), "tiny last piece")
    assert ref.end[0, 0] == 128.0 and ref.start[0, 1] == 129.0 and ref.start[0, 2] == 129.0


@pytest.mark.parametrize("cap", [6.0, 6.5, 2 / 3, 1e-9, 0.0, 12.000000000000002, 7.999999999999999])
def test_pools_that_run_short_by_rounding(cap):
    # Activities whose asks add up to the pool within rounding, paid part or nothing in the funding order.
    pf = make_portfolio([project("H", priority=3), project("L", priority=1)],
                        [activity("H.A", "H", 6, cost=6, source="s"), activity("H.B", "H", 3, preds="H.A:SS+1",
                                                                                  cost=0.1 + 0.2, source="s"),
                         activity("L.A", "L", 6, cost=6, source="s"), activity("L.B", "L", 2, preds="L.A:FF",
                                                                                  cost=1 / 3, source="s"),
                         activity("L.C", "L", 2, preds="L.A:FS-2", cost=2, source="s")],
                        funding=[(y, "s", cap) for y in range(2021, 2050)])
    model = build_model(pf, make_settings(carry_over=cap != 6.5))
    rows = 12
    rng = np.random.default_rng(int(cap * 1000) % 97)
    work = np.round(rng.uniform(0.1, 7.0, size=(rows, model.n)) * 4) / 4
    work[0] = [6.0, 3.0, 6.0, 2.0, 2.0]
    work[1] = [1.0 - 2**-53, 0.1 + 0.2, 1.0 + 2**-52, 1e-17, 2.5]
    rate = np.where(rng.random((rows, model.n)) < 0.3, 1 / 3, 1.0 + rng.random((rows, model.n)))
    rate[0] = [1.0, 0.1, 1.0, 1 / 3, 1.0]
    assert_same(model, hand_draws(model, work, rate), f"cap {cap}")


# -- pieces ---------------------------------------------------------------------------------------------

def test_compiled_driving_paths_are_the_reference_ones():
    portfolio, settings_ = load_target(ROOT / "scenarios" / "reforecast-2026-11.toml")
    model = build_model(portfolio, settings_)
    out = engine_simpy.run_block(model, draws_for(model, 9, 0, 200))
    rng = np.random.default_rng(0)
    end = out.end.copy()
    end[rng.random(end.shape) < 0.1] = model.horizon  # ties at the horizon: the first listed wins
    ref = driving_paths(model, end, out.start_driver, out.end_driver)
    fast = np.empty_like(ref)
    mem_ptr, members = engine_fast._members(model)
    for q in range(len(end)):
        fast_kernel._paths(end[q], out.start_driver[q], out.end_driver[q], fast[q], model.link_pred.astype(np.int64),
                           model.project_of.astype(np.int64), mem_ptr, members)
    assert np.array_equal(fast, ref)
    assert ref.any() and not ref[:, model.state == DONE].all()


def test_any_split_into_rows_gives_the_same_outcomes():
    portfolio, settings_ = load_target(ROOT / "scenarios" / "stoppage-2022.toml")
    model = build_model(portfolio, settings_)
    draws = draws_for(model, 4, 100, 400)
    whole = engine_fast.run_block(model, draws)
    parts = [engine_fast.run_block(model, draws.rows(a, min(a + 37, 300))) for a in range(0, 300, 37)]
    for name in FIELDS:
        assert np.array_equal(getattr(whole, name), np.concatenate([getattr(p, name) for p in parts])), name
    assert whole.i0 == 100 and math.isclose(whole.end.shape[0], 300)
