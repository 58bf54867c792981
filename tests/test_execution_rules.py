"""Each execution rule of simulate.execution on hand-worked cases with exact answers."""
import numpy as np

from simulate.execution import (CRASH_LIMIT, CRASH_PREMIUM, HELD_SHARE, crash, crash_held, early_bound,
                                short_phase_optimistic)


def test_short_phase_keeps_its_spread():
    # 0.85 x 3 rounds back to 3 in the data (p 5): the rule restores 2.55; a real spread (8.5 -> 9 < 10) is kept;
    # a fixed duration (o = m = p = 4) stays fixed.
    o = short_phase_optimistic([3, 9, 0, 4], [3, 10, 0, 4], [5, 14, 1, 4])
    assert o.tolist() == [0.85 * 3, 9.0, 0.0, 4.0]
    assert o[0] == 2.55 and o[0] < 3


def test_planned_start_is_a_target_not_a_wall():
    # Planned 12, earliest 4: the bound is 4; earliest 15 stays 15.
    assert early_bound(np.array([12, 3]), np.array([4, 15])).tolist() == [4, 15]


def test_crash_is_bounded_and_costs_the_premium():
    work = np.array([[8.0, 8.0]])
    rate = np.array([[2.0, 2.0]])
    crash(work, rate, np.array([[True, False]]))
    assert work.tolist() == [[6.0, 8.0]]  # 8 x (1 - 0.25)
    assert CRASH_LIMIT == 0.25 and CRASH_PREMIUM == 1.43 and HELD_SHARE == 0.25
    assert work[0, 0] * rate[0, 0] == 16.0 * 1.43  # the remaining money, 8 x 2, times the premium
    assert rate[0, 1] == 2.0


def test_crash_of_held_projects_is_crash_of_their_open_activities_bit_for_bit():
    # crash_held (what the sampling layer runs) against crash on the mask it stands for: held project, not done.
    rng = np.random.default_rng(7)
    work, rate = rng.uniform(0, 30, (64, 9)), rng.uniform(0, 5, (64, 9))
    held = rng.uniform(size=(64, 3)) < 0.4
    project_of = np.array([0, 0, 1, 2, 2, 2, 1, 0, 2])
    done = np.array([False, True, False, False, True, False, False, False, False])
    free_w = work.copy()
    want_w, want_r = work.copy(), rate.copy()
    crash(want_w, want_r, held[:, project_of] & ~done)
    crash_held(work, rate, held, project_of, done)
    np.testing.assert_array_equal(work, want_w)
    np.testing.assert_array_equal(rate, want_r)
    assert (work != free_w).sum() > 64  # many entries crashed; the done activities never
    np.testing.assert_array_equal(work[:, done], free_w[:, done])


# -- the rules in the engines, on hand-worked cases ------------------------------------------------------------

def _run(pf, plan=None, pressure=False, rows=1, seed=1):
    from simulate import engine_fast
    from simulate.engine_simpy import run_block
    from simulate.model import build_model
    from simulate.sampling import draws_for
    from portfolio_builders import make_settings

    model = build_model(pf, make_settings(deadline_pressure=pressure), plan)
    draws = draws_for(model, seed, 0, rows)
    ref = run_block(model, draws)
    fast = engine_fast.run_block(model, draws)
    assert np.array_equal(ref.end, fast.end) and np.array_equal(ref.start, fast.start)  # the engines agree
    return ref


def _held_iterations(seed, project_id, rows):
    """Which iterations hold the project: its documented keyed uniform (kind "project", stream 0) below 0.25."""
    from simulate.keyed import keys, uniforms

    out = np.empty((rows, 1))
    uniforms(np.uint64(seed), keys("project", [project_id]), 0, 0, out)
    return out[:, 0] < HELD_SHARE


def test_early_start_when_funded_and_no_gain_when_not():
    from portfolio.months import parse_month
    from portfolio_builders import activity, make_portfolio, project

    plan = {"A": parse_month("2021-07")}  # planned k = 6
    acts = [activity("A", "P", 6, cost=6, source="s")]
    # Funded (12 a year): A starts at 0, ahead of its plan, and ends at 6 instead of 12.
    out = _run(make_portfolio([project("P")], acts, funding=[(y, "s", 12.0) for y in range(2021, 2030)]), plan)
    assert out.start[0, 0] == 0.0 and out.end[0, 0] == 6.0
    # No money in 2021: A may start at 0 but does no work until 2022-01 (k = 12): it ends at 18, as it would have
    # from its planned start.
    unfunded = [(2021, "s", 0.0)] + [(y, "s", 12.0) for y in range(2022, 2030)]
    out = _run(make_portfolio([project("P")], acts, funding=unfunded), plan)
    assert out.start[0, 0] == 0.0 and out.end[0, 0] == 18.0


def test_held_project_is_crashed_within_the_limit_and_pays_the_premium():
    from portfolio_builders import activity, make_portfolio, project

    rows, seed = 64, 5
    held = _held_iterations(seed, "P", rows)
    assert held.any() and not held.all()
    acts = [activity("A", "P", 8, cost=16, source="s")]  # rate 2 a month
    # Unlimited money: a held project's 8 months of work take 8 x (1 - 0.25) = 6; the others take 8.
    out = _run(make_portfolio([project("P")], acts), pressure=True, rows=rows, seed=seed)
    np.testing.assert_array_equal(out.end[:, 0], np.where(held, 6.0, 8.0))
    # 2021 pays exactly 16, the uncrashed cost. Crashed, the work costs 16 x 1.43 = 22.88 at 22.88 / 6 a month:
    # 2021 pays 16 / (22.88 / 6) months of work, the rest waits for 2022-01 (k = 12, unlimited).
    funding = [(2021, "s", 16.0)]
    out = _run(make_portfolio([project("P")], acts, funding=funding), pressure=True, rows=rows, seed=seed)
    rate = 2.0 * CRASH_PREMIUM / (1 - CRASH_LIMIT)
    crashed_end = 12.0 + (6.0 - 16.0 / rate)
    np.testing.assert_allclose(out.end[held, 0], crashed_end, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out.end[~held, 0], 8.0)
    assert crashed_end > 8.0  # the premium the pool cannot pay costs more time than the crash saves
