"""The written execution rule (docs/simulation.md) on small deterministic cases worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from portfolio.months import parse_month
from simulate import run
from simulate.engine_simpy import run_block
from simulate.model import build_model
from simulate.sampling import draws_for
from portfolio_builders import activity, make_portfolio, project, risk
from portfolio_builders import make_settings as synthetic_settings


def make_settings(**kw):
    """Settings without the deadline-pressure draw (tests/test_execution_rules.py checks that rule):
    the hand-worked cases below follow the links, the money and the clock alone."""
    return synthetic_settings(deadline_pressure=False, **kw)


def one(portfolio, settings=None, plan=None):
    """Start and end (t, months from the status date) of every activity in one iteration of a deterministic case."""
    model = build_model(portfolio, settings or make_settings(), plan)
    out = run_block(model, draws_for(model, 1, 0, 1))
    return dict(zip(model.activity_ids, out.start[0])), dict(zip(model.activity_ids, out.end[0])), out


def caps(source, cap, years=range(2021, 2031)):
    return [(y, source, cap) for y in years]


# -- money (docs/simulation.md, "Money") ---------------------------------------------------------

def test_cap_of_half_the_yearly_spend_stretches_the_activity():
    # 12 months of work, cost 12 (1 per month = 12 a year), cap 6 a year from 2021-01:
    # 2021: months 0-5 paid in full (6 months of work), pool empty for months 6-11;
    # 2022-01 (k = 12): the pool gets 6 again; months 12-17 do the last 6 months: the work ends at t = 18,
    # finish month 2022-06, instead of t = 12 (2021-12) without the cap.
    pf = make_portfolio([project("P", deadline="2021-12")], [activity("A", "P", 12, cost=12, source="provincial")],
                        funding=caps("provincial", 6.0))
    _, end, _ = one(pf)
    assert end["A"] == 18.0
    res = run(pf, make_settings(), iterations=10, seed=1)
    row = res.simulation.iloc[0]
    assert row.finish_p50 == row.finish_p90 == "2022-06" and row.p_on_time == 0.0 and row.mean_delay_months == 6.0
    free = make_portfolio([project("P")], [activity("A", "P", 12, cost=12, source="provincial")])
    assert one(free)[1]["A"] == 12.0


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_simulate_funding_false_leaves_every_pool_unlimited(engine):
    # The case above with [simulate] funding = false: the cap of 6 a year pays for nothing, so the 12 months of
    # work end at t = 12 (2021-12, on time), as without any cap; the manifest's simulation section says so.
    pf = make_portfolio([project("P", deadline="2021-12")], [activity("A", "P", 12, cost=12, source="provincial")],
                        funding=caps("provincial", 6.0))
    unfunded = make_settings(funding=False, engine=engine)
    model = build_model(pf, unfunded)
    assert np.isinf(model.pool0).all() and all(np.isinf(cap).all() for _, cap in model.refills)
    assert one(pf, unfunded)[1]["A"] == 12.0
    res = run(pf, unfunded, iterations=10, seed=1)
    row = res.simulation.iloc[0]
    assert row.finish_p90 == "2021-12" and row.p_on_time == 1.0 and res.info["funding"] is False
    assert "funding" not in run(pf, make_settings(engine=engine), iterations=10, seed=1).info


def test_partial_payment_works_part_of_the_month():
    # Cap 6.5: months 0-5 full (pool 0.5 left); month 6 asks 1, is paid 0.5: works 0.5 month and pauses
    # (5.5 left); 2022: months 12-16 full (0.5 left, pool 1.5), month 17 asks 0.5: ends at 17.5.
    pf = make_portfolio([project("P")], [activity("A", "P", 12, cost=12, source="provincial")],
                        funding=caps("provincial", 6.5))
    assert one(pf)[1]["A"] == 17.5


@pytest.mark.parametrize("carry, end", [(True, 21.0), (False, 27.0)])
def test_carry_over(carry, end):
    # Earliest start 2021-10 (k = 9), cap 6 a year, 1 per month: 2021 pays months 9-11 (9 left, 3 unspent).
    # With carry-over 2022 holds 9: months 12-20, end 21. Without: 6 in 2022 (months 12-17, 3 left), 6 in 2023:
    # months 24-26, end 27.
    pf = make_portfolio([project("P")], [activity("A", "P", 12, cost=12, source="bond", earliest="2021-10")],
                        funding=caps("bond", 6.0))
    start, ends, _ = one(pf, make_settings(carry_over=carry))
    assert start["A"] == 9.0 and ends["A"] == end


def test_status_year_cap_is_prorated():
    # Status 2021-07: the 2021 pool holds 12 * 6/12 = 6; rate 2 a month: months 0-2 (3 months of work),
    # 2022-01 (k = 6): 12 -> months 6-11 (6 more), 2023-01 (k = 18): months 18-20, end 21.
    pf = make_portfolio([project("P")], [activity("A", "P", 12, cost=24, source="local")], funding=caps("local", 12.0))
    assert one(pf, make_settings(status="2021-07"))[1]["A"] == 21.0


@pytest.mark.parametrize("priority_h, end_h, end_l", [(5.0, 14.0, 15.0), (1.0, 15.0, 14.0)])
def test_funding_order_priority_then_activity_id(priority_h, end_h, end_l):
    # Two 6-month activities at 1 a month on one source capped at 7 a year. Months 0-2 pay both (pool 1 left);
    # month 3 pays only the first in the funding order. 2022: the first needs 2 more months (ends 14), the
    # other 3 (ends 15). L's activity A has the smaller id, so it goes first when priorities are equal, although
    # H's activity B is listed first.
    pf = make_portfolio([project("L", priority=1.0), project("H", priority=priority_h)],
                        [activity("B", "H", 6, cost=6, source="central"),
                         activity("A", "L", 6, cost=6, source="central")],
                        funding=caps("central", 7.0))
    end = one(pf)[1]
    assert (end["B"], end["A"]) == (end_h, end_l)


def test_year_without_cap_is_unlimited_and_no_cost_is_always_paid():
    # Cap 0 in 2021 only: A (cost 12) waits the whole year, then runs unlimited; B costs nothing: never waits.
    pf = make_portfolio([project("P")], [activity("A", "P", 5, cost=12, source="s"),
                                         activity("B", "P", 5, cost=0, source="s")],
                        funding=[(2021, "s", 0.0)])
    end = one(pf)[1]
    assert end["A"] == 17.0 and end["B"] == 5.0


def test_stoppage_halts_work_of_its_categories():
    # Three months of stoppage from 2021-03 (k = 2, 3, 4): 12 months of work end at 15.
    pf = make_portfolio([project("P", category="water"), project("Q", category="rail")],
                        [activity("A", "P", 12), activity("B", "Q", 12, cost=10, source="x")])
    end = one(pf, make_settings(stoppages=[("2021-03", 3, ("water",))]))[1]
    assert end["A"] == 15.0 and end["B"] == 12.0
    end = one(pf, make_settings(stoppages=[("2021-03", 3, ())]))[1]
    assert end["A"] == 15.0 and end["B"] == 15.0


def test_stoppage_keeps_the_money():
    # Cap 6, 1 a month: a stoppage in months 0-2 asks nothing, so 2021 still pays 6 months (3-8): end 18 as
    # without the stoppage, as the 2021 money was the binding limit.
    pf = make_portfolio([project("P")], [activity("A", "P", 12, cost=12, source="s")], funding=caps("s", 6.0))
    assert one(pf, make_settings(stoppages=[("2021-01", 3, ())]))[1]["A"] == 18.0


def test_horizon_cuts_an_iteration_off():
    # No money ever: the activity starts but never ends; it ends at the horizon (600 months), finish 2070-12.
    pf = make_portfolio([project("P")], [activity("A", "P", 3, cost=1, source="s"), activity("B", "P", 1, preds="A")],
                        funding=caps("s", 0.0, range(2021, 2080)))
    start, end, _ = one(pf)
    assert start["A"] == 0.0 and end["A"] == 600.0 and start["B"] == 600.0 and end["B"] == 600.0
    res = run(pf, make_settings(), iterations=3)
    assert res.simulation.finish_p50[0] == "2070-12"


# -- links (docs/simulation.md, "Starting" and "Ending") ------------------------------------------

def test_fs_lag_starts_at_the_month_boundary():
    start, end, _ = one(make_portfolio([project("P")], [activity("A", "P", 3.5), activity("B", "P", 1, preds="A:FS+2"),
                                                        activity("C", "P", 1, preds="A")]))
    assert start["B"] == 6.0 and start["C"] == 4.0 and end["B"] == 7.0


def test_fs_negative_lag_starts_when_little_work_is_left():
    # A has 4.5 months of work: at k = 3 it has 1.5 left (<= 2), at k = 2 still 2.5.
    start, _, out = one(make_portfolio([project("P")], [activity("A", "P", 4.5), activity("B", "P", 3, preds="A:FS-2")]))
    assert start["B"] == 3.0
    assert out.on_path[0].tolist() == [True, True]  # B ends last (6); its start driver is the FS-2 link


def test_fs_negative_lag_follows_the_work_not_the_clock():
    # A: 5 months at 1 a month, 2 a year of money: 3 months left from k = 2 until 2022; 2 left from k = 13
    # (B starts then), 1 left from k = 14 until 2023: A ends at 25.
    pf = make_portfolio([project("P")], [activity("A", "P", 5, cost=5, source="s"), activity("B", "P", 1, preds="A:FS-2")],
                        funding=caps("s", 2.0))
    start, end, _ = one(pf)
    assert start["B"] == 13.0 and end["A"] == 25.0


SS_FF_SF = [
    activity("A", "P", 5),
    activity("B", "P", 2, preds="A:SS+3"),  # starts 3
    activity("C", "P", 2, preds="A:FF+1"),  # starts 0, work done 2, ends max(2, 5 + 1) = 6
    activity("D", "P", 1, preds="A:SF+6"),  # starts 0, work done 1, ends max(1, 0 + 6) = 6
    activity("E", "P", 2, preds="A:FF-3"),  # negative FF lag taken as 0: ends max(2, 5) = 5
]


def test_ss_ff_sf_links():
    start, end, out = one(make_portfolio([project("P")], SS_FF_SF))
    assert start["B"] == 3.0 and end["B"] == 5.0
    assert start["C"] == 0.0 and end["C"] == 6.0
    assert start["D"] == 0.0 and end["D"] == 6.0
    assert end["E"] == 5.0
    # C ends last (6, tied with D, whose id comes after C's): its end driver is the FF link, so A and C are on
    # the path.
    assert out.on_path[0].tolist() == [True, False, True, False, False]


def test_last_ending_tie_goes_to_the_smallest_id_whatever_the_file_order():
    _, _, out = one(make_portfolio([project("P")], SS_FF_SF[::-1]))  # E, D, C, B, A: D listed before C
    assert out.on_path[0].tolist() == [False, False, True, False, True]  # C and A, as listed above


def test_earliest_and_planned_starts():
    pf = make_portfolio([project("P")], [activity("A", "P", 2, earliest="2021-05"), activity("B", "P", 2),
                                         activity("C", "P", 1, preds="B")])
    start, end, out = one(pf, plan={"B": parse_month("2021-08"), "A": parse_month("2021-02")})
    # A's start is held by its earliest start (2021-05, k = 4), not brought forward by its plan (2021-02). B's
    # planned 2021-08 is a target, not a wall (simulate.execution): nothing holds it, so it starts at 0 and C
    # follows its link at 2. A ends last (6): the path of P is A alone.
    assert start["A"] == 4.0 and start["B"] == 0.0 and start["C"] == 2.0
    assert end["A"] == 6.0 and end["C"] == 3.0
    assert out.on_path[0].tolist() == [True, False, False]
    # Without a plan a forced start of the scenario is the planned start: a target too.
    start, _, _ = one(pf, make_settings(forced_starts=[("B", "2021-03")]))
    assert start["B"] == 0.0
    start, _, _ = one(make_portfolio([project("P")], [activity("B", "P", 2, earliest="2021-03")]))
    assert start["B"] == 2.0  # an earliest start is a wall


def test_cross_project_link_marks_only_own_project():
    # Q.B waits for P.A; P.A is on Q's driving path but is counted only on its own project's path.
    pf = make_portfolio([project("P"), project("Q")], [activity("P.A", "P", 6), activity("P.X", "P", 8),
                                                       activity("Q.B", "Q", 2, preds="P.A")])
    _, _, out = one(pf)
    assert out.on_path[0].tolist() == [False, True, True]


def test_risk_delay_adds_work_and_keeps_the_total_cost():
    # Cost 12 over 12 months plus a 6-month delay: rate 12 / 18 per month of work; cap 8 a year pays 12 months
    # of work in 2021, the last 6 in 2022 (k = 12 .. 17): end 18.
    pf = make_portfolio([project("P")], [activity("A", "P", 12, cost=12, source="s")], funding=caps("s", 8.0),
                        risks=[risk("R", 1.0, 6.0, affects=("A",))])
    assert one(pf)[1]["A"] == 18.0


def test_same_time_order_starts_before_payments():
    # A ends exactly at k = 3 (3 months); B (FS) starts at 3 and C (SS+0 on B) at 3 too, and both are paid in
    # month 3 before D, which has a lower priority: the bank pays only after every start at time 3.
    pf = make_portfolio([project("P", priority=5), project("Q", priority=1)],
                        [activity("A", "P", 3), activity("B", "P", 2, cost=1, source="s", preds="A"),
                         activity("C", "P", 2, cost=1, source="s", preds="B:SS"),
                         activity("D", "Q", 12, cost=12, source="s")],
                        funding=[(2021, "s", 4.5)])
    start, end, _ = one(pf)
    # Months 0-2 pay D 1 each (pool 1.5 left). Month 3: B and C (priority 5) start and are paid 0.5 each first,
    # D gets the last 0.5 and pauses (8.5 months left); the pool is empty for the rest of 2021, and 2022 has no
    # cap: B and C end at 13, D at 12 + 8.5. Had the bank paid before B and C started, D would end at 20.
    assert start["B"] == 3.0 and start["C"] == 3.0
    assert end["B"] == 13.0 and end["C"] == 13.0
    assert end["D"] == 20.5


def test_outcomes_do_not_depend_on_how_iterations_are_split():
    pf = make_portfolio([project("P")], [activity("A", "P", 2, 4, 9, cost=5, source="s"),
                                         activity("B", "P", 1, 3, 6, cost=5, source="s", preds="A")],
                        funding=caps("s", 4.0), risks=[risk("R", 0.4, 1, 2, 4, affects=("B",))])
    model = build_model(pf, make_settings())
    whole = run_block(model, draws_for(model, 9, 1000, 1100))
    part = run_block(model, draws_for(model, 9, 1050, 1060))
    np.testing.assert_array_equal(whole.end[50:60], part.end)
    np.testing.assert_array_equal(whole.on_path[50:60], part.on_path)
