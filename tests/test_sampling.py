"""The sampling layer: draws keyed by (seed, id, iteration) as documented, independent of chunking."""
from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtr, ndtri

from portfolio.distributions import pert_ppf, triangular_cdf, triangular_ppf
from simulate.model import BLOCK, build_model
from simulate.sampling import draw_block, draws_for, raw_block
from portfolio_builders import activity, make_portfolio, make_settings, project, risk


def small(**simulate):
    pf = make_portfolio(
        [project("P", category="water"), project("Q", category="aviation")],
        [activity("P.A", "P", 2, 4, 9, cost=8), activity("P.B", "P", 3, 5, 6, preds="P.A", cost=4),
         activity("Q.A", "Q", 4, 10, 16, actual_start="2020-07", cost=10),
         activity("Q.B", "Q", 1, 2, 3, actual_start="2020-01", actual_finish="2020-06")],
        risks=[risk("R1", 0.3, 1, 2, 5, affects=("P.B", "Q.A", "Q.B")), risk("R2", 0.8, 2, affects=("P.A",))])
    return build_model(pf, make_settings(**simulate))


def documented_uniform(seed: int, kind: str, ident: str, stream: int, i: int) -> float:
    """The uniform of docs/simulation.md ("Draws"), written out with numpy's own Philox4x64-10 (which steps its
    counter once before making a block)."""
    key = int.from_bytes(hashlib.sha256(f"{kind}:{ident}".encode("utf-8")).digest()[:8], "little")
    counter = ((i // 4) | (stream << 64)) - 1
    words = np.random.Philox(counter=counter % 2**256, key=key | (seed << 64)).random_raw(4)
    return ((int(words[i % 4]) >> 12) + 0.5) / 2**52


def test_block_is_drawn_in_the_documented_order():
    model = small()
    v, g, occurs, impact = raw_block(model, 2021, 3)
    assert v.shape == (BLOCK, 4) and g.shape == (BLOCK, 2) and occurs.shape == impact.shape == (BLOCK, 2)
    for q in (0, 1, 2, 3, 6, 1023):
        i = 3 * BLOCK + q
        assert list(v[q]) == [documented_uniform(2021, "activity", a, 0, i) for a in model.activity_ids]
        assert list(g[q]) == [documented_uniform(2021, "category", c, 0, i) for c in ("aviation", "water")]
        assert list(occurs[q]) == [documented_uniform(2021, "risk", r, 0, i) for r in ("R1", "R2")]
        assert list(impact[q]) == [documented_uniform(2021, "risk", r, 1, i) for r in ("R1", "R2")]
    d = draw_block(model, 2021, 3)
    assert (d.i0, d.i1) == (3 * BLOCK, 4 * BLOCK)
    np.testing.assert_array_equal(d.u, v)  # rho = 0: the uniforms themselves
    np.testing.assert_array_equal(d.duration[:, 0], triangular_ppf(v[:, 0], 2, 4, 9))
    np.testing.assert_array_equal(d.occurred, occurs < [0.3, 0.8])
    np.testing.assert_array_equal(d.delay[:, 0], np.where(occurs[:, 0] < 0.3, triangular_ppf(impact[:, 0], 1, 2, 5), 0))
    assert model.categories == ("aviation", "water")


def test_correlated_percentile_is_the_documented_gaussian_copula():
    model = small(correlation=0.3)
    v, g, _, _ = raw_block(model, 5, 0)
    d = draw_block(model, 5, 0)
    cat = [1, 1, 0, 0]  # P: water, Q: aviation
    z = np.sqrt(0.3) * ndtri(g[:, cat]) + np.sqrt(0.7) * ndtri(v)
    np.testing.assert_array_equal(d.u, ndtr(z))


def test_ranges_are_slices_of_blocks_whatever_the_chunking():
    model = small()
    whole = draws_for(model, 7, 0, 3 * BLOCK)
    for i0, i1 in [(0, 1), (5, 300), (1000, 1100), (1023, 2049), (2047, 3072)]:
        part = draws_for(model, 7, i0, i1)
        for name in ("u", "duration", "extra", "work", "rate", "occurred", "delay"):
            np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[i0:i1])
    other = draws_for(model, 8, 0, 10)
    assert not np.array_equal(other.u, whole.u[:10])


def test_work_rate_and_risk_delays():
    model = small()
    d = draws_for(model, 1, 0, BLOCK)
    # Risk delays go to the affected activities that are not done; work = remaining base work + delays.
    np.testing.assert_array_equal(d.extra[:, 0], d.delay[:, 1])
    np.testing.assert_array_equal(d.extra[:, 1], d.delay[:, 0])
    np.testing.assert_array_equal(d.extra[:, 3], 0.0)
    np.testing.assert_allclose(d.work[:, :2], d.duration[:, :2] + d.extra[:, :2])
    np.testing.assert_allclose(d.rate[:, 0] * (d.duration[:, 0] + d.extra[:, 0]), 8.0)
    assert np.all(d.work[:, 3] == 0) and np.all(d.rate[:, 3] == 0)
    np.testing.assert_array_equal(d.duration[:, 3], 6.0)  # done: its actual duration 2020-01 .. 2020-06


def test_running_activity_is_conditioned_on_its_elapsed_months():
    model = small()
    d = draws_for(model, 1, 0, BLOCK)
    f6 = triangular_cdf(6.0, 4, 10, 16)
    np.testing.assert_allclose(d.duration[:, 2], triangular_ppf(f6 + d.u[:, 2] * (1 - f6), 4, 10, 16))
    assert np.all(d.duration[:, 2] >= 6.0)
    np.testing.assert_allclose(d.work[:, 2], d.duration[:, 2] - 6.0 + d.extra[:, 2])
    # An exhausted estimate (elapsed beyond the pessimistic duration) leaves one month of work.
    pf = make_portfolio([project("P")], [activity("A", "P", 2, 3, 4, actual_start="2020-01")])
    d = draws_for(build_model(pf, make_settings()), 1, 0, 5)
    np.testing.assert_array_equal(d.work[:, 0], 1.0)
    np.testing.assert_array_equal(d.duration[:, 0], 13.0)


def test_pert_distribution():
    model = small(distribution="pert")
    d = draws_for(model, 1, 0, 100)
    np.testing.assert_allclose(d.duration[:, 0], pert_ppf(d.u[:, 0], 2, 4, 9))


def test_category_factor_correlates_activities_of_a_category():
    pf = make_portfolio([project("P", category="rail"), project("Q", category="rail"), project("R", category="road")],
                        [activity("P.A", "P", 1, 2, 3), activity("Q.A", "Q", 1, 2, 3), activity("R.A", "R", 1, 2, 3)])
    model = build_model(pf, make_settings(correlation=0.6))
    d = draws_for(model, 3, 0, 4 * BLOCK)
    z = ndtri(d.u)
    c = np.corrcoef(z.T)
    se = (1 - 0.6**2) / np.sqrt(len(z))
    assert abs(c[0, 1] - 0.6) < 4 * se
    assert abs(c[0, 2]) < 4 / np.sqrt(len(z))
    assert abs(z[:, 0].std() - 1) < 0.05
