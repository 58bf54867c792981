"""Brier score, log score, calibration table and naive baselines on constructed cases with hand-computed values."""
from __future__ import annotations

import math

import pytest

from report.scoring import bin_index, brier_score, calibration_frame, calibration_table, log_score, scores


def test_brier_hand_computed():
    # (0.9-1)^2 + (0.2-0)^2 + (0.6-1)^2 + (0.7-0)^2 = 0.01 + 0.04 + 0.16 + 0.49 = 0.70; / 4 = 0.175
    assert brier_score([0.9, 0.2, 0.6, 0.7], [1, 0, 1, 0]) == pytest.approx(0.175)


def test_brier_extremes():
    assert brier_score([1, 0, 1], [True, False, True]) == 0.0
    assert brier_score([0, 1], [1, 0]) == 1.0
    assert brier_score([0.5] * 7, [1, 0, 1, 1, 0, 0, 1]) == pytest.approx(0.25)
    assert math.isnan(brier_score([], []))


def test_log_score_natural_log_and_clipping():
    # ln(0.8) + ln(1 - 0.25) = -0.22314 + -0.28768; mean = -0.25541
    assert log_score([0.8, 0.25], [1, 0]) == pytest.approx((math.log(0.8) + math.log(0.75)) / 2)
    # p = 1 for an event that did not happen costs ln(0.001), not minus infinity
    assert log_score([1.0], [0]) == pytest.approx(math.log(0.001))
    assert log_score([0.0], [0]) == pytest.approx(math.log(0.999))
    assert log_score([1.0, 1.0], [1, 0]) == pytest.approx((math.log(0.999) + math.log(0.001)) / 2)


def test_bins_edges():
    # left-closed bins of width 0.1; 1.0 belongs to the last bin
    assert list(bin_index([0.0, 0.0999, 0.1, 0.3, 0.7, 0.8999, 0.9, 1.0])) == [0, 0, 1, 3, 7, 8, 9, 9]


def test_calibration_table_hand_computed():
    forecasts = [0.05, 0.02, 0.15, 0.55, 0.58, 0.95, 0.92, 1.0, 0.91]
    outcomes = [0, 0, 1, 1, 0, 1, 1, 1, 0]
    rows = calibration_table(forecasts, outcomes)
    assert len(rows) == 10
    by_bin = {r.label: r for r in rows}
    b0, b1, b5, b9 = by_bin["[0.0, 0.1)"], by_bin["[0.1, 0.2)"], by_bin["[0.5, 0.6)"], by_bin["[0.9, 1.0]"]
    assert (b0.count, b0.mean_forecast, b0.observed_frequency) == (2, pytest.approx(0.035), 0.0)
    assert (b1.count, b1.mean_forecast, b1.observed_frequency) == (1, pytest.approx(0.15), 1.0)
    assert (b5.count, b5.mean_forecast, b5.observed_frequency) == (2, pytest.approx(0.565), 0.5)
    assert (b9.count, b9.mean_forecast, b9.observed_frequency) == (4, pytest.approx(0.945), 0.75)
    empty = by_bin["[0.3, 0.4)"]
    assert empty.count == 0 and math.isnan(empty.mean_forecast) and math.isnan(empty.observed_frequency)
    assert sum(r.count for r in rows) == len(forecasts)
    frame = calibration_frame(forecasts, outcomes)
    assert list(frame.columns) == ["bin", "lower", "upper", "count", "mean_forecast", "observed_frequency"]
    assert frame["count"].tolist() == [2, 1, 0, 0, 0, 2, 0, 0, 0, 4]


def test_scores_and_naive_baselines():
    # 3 on time out of 4: base rate 0.75
    result = scores([0.9, 0.8, 0.3, 0.6], [1, 1, 0, 1])
    assert result["n"] == 4 and result["events"] == 3 and result["base_rate"] == 0.75
    # model: 0.01 + 0.04 + 0.09 + 0.16 = 0.30 / 4
    assert result["brier"] == pytest.approx(0.075)
    # every project on time: one miss of 1 -> 1/4
    assert result["naive_all_on_time"]["brier"] == pytest.approx(0.25)
    assert result["naive_all_on_time"]["log_score"] == pytest.approx((3 * math.log(0.999) + math.log(0.001)) / 4)
    # base rate: p(1-p) = 0.1875
    assert result["naive_base_rate"]["brier"] == pytest.approx(0.1875)
    assert result["naive_base_rate"]["log_score"] == pytest.approx((3 * math.log(0.75) + math.log(0.25)) / 4)


def test_bad_input():
    with pytest.raises(ValueError):
        brier_score([0.5, 1.2], [0, 1])
    with pytest.raises(ValueError):
        brier_score([0.5], [2])
    with pytest.raises(ValueError):
        brier_score([0.5, 0.5], [1])
