"""The SimPy engine against cases with exact answers, each within 4 standard errors of the estimate."""
from __future__ import annotations

import math

import numpy as np
import pytest

from portfolio.distributions import triangular_cdf
from simulate import run
from simulate.engine_simpy import run_block
from simulate.model import build_model
from simulate.sampling import draws_for
from portfolio_builders import activity, make_portfolio, make_settings, project, risk

N = 10000


def execute(portfolio, settings, n=N, seed=11):
    model = build_model(portfolio, settings)
    draws = draws_for(model, seed, 0, n)
    return model, draws, run_block(model, draws)


def assert_cdf(sample: np.ndarray, exact, points) -> None:
    """Empirical P(sample <= x) within 4 standard errors of exact(x) at every point."""
    n = len(sample)
    for x in points:
        p = float(exact(x))
        est = float(np.mean(sample <= x))
        se = math.sqrt(max(p * (1 - p), 1e-12) / n)
        assert abs(est - p) <= 4 * se + 1e-12, f"P(X <= {x}): estimate {est:.4f}, exact {p:.4f}, 4 SE {4 * se:.4f}"


def ceil_pmf(o, m, p):
    """pmf of ceil(D) for D triangular(o, m, p): {k: P(ceil(D) = k)}."""
    return {k: float(triangular_cdf(k, o, m, p) - triangular_cdf(k - 1, o, m, p))
            for k in range(int(math.floor(o)), int(math.ceil(p)) + 1)}


def test_chain_of_three_triangular_fs():
    # With starts on month boundaries the chain ends at ceil(D1) + ceil(D2) + D3.
    t1, t2, t3 = (2.0, 3.0, 5.5), (1.5, 2.0, 4.0), (3.0, 4.0, 7.0)
    pf = make_portfolio([project("P")], [activity("A", "P", *t1), activity("B", "P", *t2, preds="A"),
                                         activity("C", "P", *t3, preds="B")])
    model, draws, out = execute(pf, make_settings())
    p1, p2 = ceil_pmf(*t1), ceil_pmf(*t2)

    def exact(x):
        return sum(q1 * q2 * triangular_cdf(x - a - b, *t3) for a, q1 in p1.items() for b, q2 in p2.items())

    end = out.end[:, 2]
    assert_cdf(end, exact, np.arange(9.0, 17.0, 0.5))
    # The engine itself follows the rule exactly, iteration by iteration.
    d = draws.duration
    np.testing.assert_allclose(end, np.ceil(d[:, 0]) + np.ceil(d[:, 1]) + d[:, 2], rtol=0, atol=1e-9)
    assert out.on_path.all()


def test_chain_p_on_time_and_quantiles_match_exact_month_cdf():
    t1, t2, t3 = (2.0, 3.0, 5.5), (1.5, 2.0, 4.0), (3.0, 4.0, 7.0)
    p1, p2 = ceil_pmf(*t1), ceil_pmf(*t2)

    def exact(x):
        return sum(q1 * q2 * triangular_cdf(x - a - b, *t3) for a, q1 in p1.items() for b, q2 in p2.items())

    # deadline 2021-12 = relative month 11: on time when the end is <= 12
    pf = make_portfolio([project("P", deadline="2021-12")],
                        [activity("A", "P", *t1), activity("B", "P", *t2, preds="A"),
                         activity("C", "P", *t3, preds="B")])
    res = run(pf, make_settings(), iterations=N, seed=5)
    p = exact(12.0)
    se = math.sqrt(p * (1 - p) / N)
    assert abs(res.simulation.p_on_time[0] - p) <= 4 * se
    # distribution.csv: P(finish month <= m) = P(end <= m + 1) for m = 2021-09 .. 2022-03
    dist = res.distribution.set_index("month")["p_finished"]
    for rel in range(8, 15):
        month = f"{2021 + rel // 12}-{rel % 12 + 1:02d}"
        q = exact(rel + 1.0)
        got = float(dist[dist.index <= month].iloc[-1]) if (dist.index <= month).any() else 0.0
        assert abs(got - q) <= 4 * math.sqrt(q * (1 - q) / N) + 1e-12


def test_single_activity_exact_cdf_triangular_and_pert():
    for dist in ("triangular", "pert"):
        from portfolio.distributions import cdf

        pf = make_portfolio([project("P")], [activity("A", "P", 4.0, 7.0, 13.0)])
        _, _, out = execute(pf, make_settings(distribution=dist), n=3000)
        assert_cdf(out.end[:, 0], lambda x: cdf(dist, x, 4.0, 7.0, 13.0), np.arange(4.5, 13.0, 0.75))


def test_ss_lag_chain_exact_cdf():
    # B starts 2 months after A's start (SS+2) and runs on its own: the project ends at max(D_A, 2 + D_B).
    ta, tb = (4.0, 6.0, 10.0), (2.0, 5.0, 9.0)
    pf = make_portfolio([project("P")], [activity("A", "P", *ta), activity("B", "P", *tb, preds="A:SS+2")])
    _, _, out = execute(pf, make_settings())
    assert np.all(out.start[:, 1] == 2.0)
    ends = out.end.max(axis=1)
    assert_cdf(ends, lambda x: triangular_cdf(x, *ta) * triangular_cdf(x - 2, *tb), np.arange(5.0, 11.0, 0.5))


def test_parallel_merge_is_product_of_cdfs():
    ts = [(3.0, 5.0, 9.0), (4.0, 5.0, 7.0), (2.0, 6.0, 8.0)]
    pf = make_portfolio([project("P")], [activity(f"A{k}", "P", *t) for k, t in enumerate(ts)])
    _, _, out = execute(pf, make_settings())
    ends = out.end.max(axis=1)
    assert_cdf(ends, lambda x: np.prod([triangular_cdf(x, *t) for t in ts]), np.arange(4.5, 9.0, 0.5))


def test_merge_criticality_is_share_of_larger_ceiling():
    # C waits for A and B (FS): its start driver is the predecessor with the later month bound, A on ties.
    ta, tb = (3.0, 5.0, 9.0), (2.0, 6.0, 8.0)
    pf = make_portfolio([project("P")], [activity("A", "P", *ta), activity("B", "P", *tb),
                                         activity("C", "P", 2.0, preds="A;B")])
    _, _, out = execute(pf, make_settings())
    pa, pb = ceil_pmf(*ta), ceil_pmf(*tb)
    p_a = sum(qa * qb for a, qa in pa.items() for b, qb in pb.items() if a >= b)
    n = out.on_path.shape[0]
    se = math.sqrt(p_a * (1 - p_a) / n)
    assert abs(out.on_path[:, 0].mean() - p_a) <= 4 * se
    assert np.array_equal(out.on_path[:, 0], ~out.on_path[:, 1])
    assert out.on_path[:, 2].all()


def test_single_risk_probability_p_gives_on_time_one_minus_p():
    # 12 fixed months from 2021-01 finish 2021-12 (the deadline); the risk adds 6 months when it occurs.
    p = 0.3
    pf = make_portfolio([project("P", deadline="2021-12")], [activity("A", "P", 12.0)],
                        risks=[risk("R1", p, 6.0, affects=("A",))])
    res = run(pf, make_settings(), iterations=N, seed=3)
    se = math.sqrt(p * (1 - p) / N)
    assert abs(res.simulation.p_on_time[0] - (1 - p)) <= 4 * se
    r = res.risks.iloc[0]
    assert abs(r.occurred - p) <= 4 * se
    assert r.mean_delay_if_occurs == 6.0 and r.mean_delay_if_not == 0.0 and r.contribution_months == 6.0
    assert set(res.distribution.month) == {"2021-12", "2022-06"}


def test_running_activity_samples_only_its_remaining_work():
    # Started 2020-07 (6 months before the status date), triangular(4, 10, 16):
    # the remaining work R = D - 6 given D > 6, so P(R <= x) = (F(6 + x) - F(6)) / (1 - F(6)).
    t = (4.0, 10.0, 16.0)
    pf = make_portfolio([project("P")], [activity("A", "P", *t, actual_start="2020-07"),
                                         activity("B", "P", 1.0, preds="A")])
    _, draws, out = execute(pf, make_settings())
    assert np.all(out.start[:, 0] == -6.0)
    f6 = triangular_cdf(6.0, *t)
    assert_cdf(out.end[:, 0], lambda x: (triangular_cdf(6.0 + x, *t) - f6) / (1 - f6), np.arange(0.5, 10.0, 0.5))
    assert np.all(draws.duration[:, 0] >= 6.0)


def test_done_activities_are_fixed():
    # A finished 2020-10: fixed at t = -10 .. -2; B's FS bound ceil(-2) = -2 is below its plan bound 0,
    # so nothing drives B's start and A is never on the path. C's predecessor finished 2020-12 (end 0 = the
    # plan bound), so that link drives C's start and D is on C's project's path in every iteration.
    pf = make_portfolio([project("P"), project("Q")],
                        [activity("A", "P", 4.0, 6.0, 9.0, actual_start="2020-03", actual_finish="2020-10"),
                         activity("B", "P", 3.0, 4.0, 6.0, preds="A"),
                         activity("D", "Q", 4.0, 6.0, 9.0, actual_start="2020-05", actual_finish="2020-12"),
                         activity("C", "Q", 3.0, 4.0, 6.0, preds="D")])
    res = run(pf, make_settings(), iterations=300, seed=1)
    _, _, out = execute(pf, make_settings(), n=50)
    assert np.all(out.start[:, 0] == -10) and np.all(out.end[:, 0] == -2)
    assert np.all(out.start[:, 1] == 0) and np.all(out.start[:, 3] == 0)
    crit = res.criticality.set_index("activity_id")
    assert math.isnan(crit.sensitivity["A"]) and math.isnan(crit.sensitivity["D"])
    assert crit.criticality["A"] == 0.0 and crit.criticality["D"] == 1.0
    assert crit.criticality["B"] == 1.0 and crit.criticality["C"] == 1.0
    assert crit.sensitivity["B"] > 0.9


@pytest.mark.parametrize("distribution", ["triangular", "pert"])
def test_sensitivity_matches_direct_spearman(distribution):
    # The integer accumulator's Spearman (population rank u vs mid-rank of the finish month) equals a direct computation.
    from simulate.stats import accumulate, tables

    ts = [(3.0, 5.0, 12.0), (4.0, 5.0, 6.0), (2.0, 6.0, 8.0)]
    pf = make_portfolio([project("P")], [activity("A0", "P", *ts[0]), activity("A1", "P", *ts[1], preds="A0"),
                                         activity("A2", "P", *ts[2])])
    model, draws, out = execute(pf, make_settings(distribution=distribution), n=1500)
    got = tables(accumulate(model, draws, out), model)["criticality.csv"].sensitivity.to_numpy()
    finish = np.ceil(out.end.max(axis=1)) - 1
    from scipy.stats import rankdata

    r = rankdata(finish)  # mid-ranks
    for j in range(3):
        expect = np.corrcoef(np.rint(draws.u[:, j] * 2**32), r)[0, 1]
        assert abs(got[j] - expect) < 1e-9
    assert got[0] > 0.5 and abs(got[2]) < got[0]
