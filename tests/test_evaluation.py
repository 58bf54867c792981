"""The multi-origin evaluation: scores on hand-worked cases, the baselines, the project bootstrap, and a run end to end."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from portfolio.errors import InputError
from portfolio.months import parse_month
from report import evaluation as ev
from report import multiorigin as mo
from scenarios.load import load_scenario
from scenarios.origins import parse_origins

M = parse_month


# -- scores of one event -----------------------------------------------------------------------------------

def test_brier_and_log_terms_hand_computed():
    assert ev.brier_terms([0.9, 0.2, 1.0], [1, 0, 0]).tolist() == pytest.approx([0.01, 0.04, 1.0])
    terms = ev.log_terms([0.9, 0.2, 1.0, 0.0], [1, 0, 0, 0])
    # 1.0 for a late event is clipped to 0.999: ln(0.001); 0.0 for a late event: ln(0.999)
    assert terms.tolist() == pytest.approx([math.log(0.9), math.log(0.8), math.log(0.001), math.log(0.999)])


def test_crps_of_a_point_mass_is_the_distance_in_months():
    cdf = ev.point_mass(M("2024-06"))
    as_of = M("2026-03")
    assert ev.crps_months(cdf, M("2024-06"), as_of) == 0.0
    assert ev.crps_months(cdf, M("2024-01"), as_of) == 5.0  # months 2024-01 .. 2024-05 wrongly "not yet"
    assert ev.crps_months(cdf, M("2025-01"), as_of) == 7.0  # months 2024-06 .. 2024-12 wrongly "finished"


def test_crps_of_a_two_month_distribution_hand_computed():
    # F = 0.25 in 2024-01, 1 from 2024-03; finish in 2024-02:
    # 2024-01: (0.25 - 0)^2 = 0.0625; 2024-02: (0.25 - 1)^2 = 0.5625; 2024-03 on: (1 - 1)^2 = 0
    cdf = ev.Cdf((M("2024-01"), M("2024-03")), (0.25, 1.0))
    assert ev.crps_months(cdf, M("2024-02"), M("2026-03")) == pytest.approx(0.625)


def test_crps_of_a_finish_charges_every_month_of_a_late_forecast_even_after_the_as_of_month():
    # forecast certainly 2027-11, opened 2025-12, outcomes as of 2026-03: 23 months wrongly "not yet"
    assert ev.crps_months(ev.point_mass(M("2027-11")), M("2025-12"), M("2026-03")) == 23.0
    # half in 2025-12, half in 2026-12: 12 months at (0.5 - 1)^2
    cdf = ev.Cdf((M("2025-12"), M("2026-12")), (0.5, 1.0))
    assert ev.crps_months(cdf, M("2025-12"), M("2026-03")) == pytest.approx(3.0)


def test_crps_of_a_censored_finish_counts_the_months_up_to_the_as_of_month():
    # open at the as-of month 2024-04: the indicator is 0 up to 2024-04, later months are not counted
    cdf = ev.Cdf((M("2024-01"), M("2024-03"), M("2024-06")), (0.25, 0.5, 1.0))
    # 2024-01: 0.0625, 2024-02: 0.0625, 2024-03: 0.25, 2024-04: 0.25 -> 0.625
    assert ev.crps_months(cdf, None, M("2024-04")) == pytest.approx(0.625)
    # a forecast that puts every finish after the as-of month is not charged at all for a censored finish
    assert ev.crps_months(ev.point_mass(M("2027-01")), None, M("2026-03")) == 0.0


def test_pit_interval_of_a_finish_and_of_a_censored_finish():
    cdf = ev.Cdf((M("2024-01"), M("2024-03"), M("2024-06")), (0.25, 0.5, 1.0))
    assert ev.pit_interval(cdf, M("2024-03"), M("2026-03")) == (0.25, 0.5)
    assert ev.pit_interval(cdf, M("2024-02"), M("2026-03")) == (0.25, 0.25)  # no mass in the month
    assert ev.pit_interval(cdf, M("2023-12"), M("2026-03")) == (0.0, 0.0)
    assert ev.pit_interval(cdf, None, M("2024-04")) == (0.5, 1.0)


def test_pit_histogram_spreads_each_event_over_its_interval():
    hist = ev.pit_histogram([(0.0, 0.2), (0.45, 0.45), (1.0, 1.0), (0.5, 1.0)])
    expected = [0.5, 0.5, 0, 0, 1.0, 0.2, 0.2, 0.2, 0.2, 1.2]
    assert hist.tolist() == pytest.approx(expected)
    assert hist.sum() == pytest.approx(4)
    with pytest.raises(ValueError):
        ev.pit_histogram([(0.5, 0.4)])


def test_a_calibrated_forecast_gives_a_flat_pit_histogram():
    # events whose finishes fall at every quantile of a uniform 10-month forecast
    months = tuple(range(M("2024-01"), M("2024-11")))
    cdf = ev.Cdf(months, tuple((k + 1) / 10 for k in range(10)))
    hist = ev.pit_histogram([ev.pit_interval(cdf, m, M("2026-03")) for m in months])
    assert hist.tolist() == pytest.approx([1.0] * 10)


def test_cdf_rejects_what_is_not_a_cdf():
    with pytest.raises(ValueError):
        ev.Cdf((1, 2), (0.5, 0.4))
    with pytest.raises(ValueError):
        ev.Cdf((2, 1), (0.5, 1.0))


# -- baselines -------------------------------------------------------------------------------------------

# Five events of four projects: A twice (two origins), B, C, D.
GROUPS = ["A", "A", "B", "C", "D"]
OUTCOMES = [1, 1, 0, 1, 0]
VERDICTS = [True, True, False, True, True]


def test_leave_one_out_base_rate_leaves_out_the_whole_project():
    rate = ev.leave_one_out_rate(OUTCOMES, GROUPS)
    # A: others B, C, D -> 1/3; B: A, A, C, D -> 3/4; C: A, A, B, D -> 2/4; D: A, A, B, C -> 3/4
    assert rate.tolist() == pytest.approx([1 / 3, 1 / 3, 3 / 4, 1 / 2, 3 / 4])


def test_plan_baseline_is_the_leave_one_out_rate_of_the_same_verdict():
    rate = ev.plan_rate(OUTCOMES, GROUPS, VERDICTS)
    # A (on time): C, D -> 1/2; B (late): no other late event -> the leave-one-out rate 3/4;
    # C (on time): A, A, D -> 2/3; D (on time): A, A, C -> 1
    assert rate.tolist() == pytest.approx([1 / 2, 1 / 2, 3 / 4, 2 / 3, 1.0])


# -- bootstrap -------------------------------------------------------------------------------------------

def test_bootstrap_moves_a_projects_events_together():
    groups = ["P", "Q", "P", "R", "S", "Q", "P"]
    w = ev.bootstrap_weights(groups, resamples=500, seed=3)
    assert w.shape == (500, 7)
    assert np.array_equal(w[:, 0], w[:, 2]) and np.array_equal(w[:, 0], w[:, 6])
    assert np.array_equal(w[:, 1], w[:, 5])
    # each resample draws four projects: P's three events count three times per draw of P
    assert (w[:, [0, 1, 3, 4]].sum(axis=1) == 4).all()
    assert not np.array_equal(w[:, 0], w[:, 3])  # different projects vary independently
    assert np.array_equal(w, ev.bootstrap_weights(groups, resamples=500, seed=3))  # fixed seed, same draws


def test_bootstrap_interval_of_a_difference():
    # two projects: the model beats the baseline by 0.1 on every event of X and loses by 0.3 on Y's single event
    groups = ["X", "X", "Y"]
    w = ev.bootstrap_weights(groups, resamples=2000, seed=1)
    d = ev.difference("brier", "base_rate", [0.1, 0.1, 0.5], [0.2, 0.2, 0.2], w, higher_is_better=False)
    assert d.difference == pytest.approx((-0.1 - 0.1 + 0.3) / 3)
    # a resample holds X only (-0.1), Y only (+0.3) or both (the mean of the three events, 1/30)
    assert (d.low, d.high) == (pytest.approx(-0.1), pytest.approx(0.3))
    assert d.verdict == "undecided"
    clear = ev.difference("brier", "base_rate", [0.1, 0.1, 0.1], [0.2, 0.3, 0.2], w, higher_is_better=False)
    assert clear.verdict == "model better"
    log = ev.difference("log_score", "base_rate", [-0.1, -0.1, -0.1], [-0.2, -0.3, -0.2], w, higher_is_better=True)
    assert log.verdict == "model better"


# -- the events table ------------------------------------------------------------------------------------

def _events():
    """A hand-made events table of two origins (what run_multi_origin builds before the baselines)."""
    return pd.DataFrame({
        "origin": ["2021-01", "2021-01", "2021-01", "2022-01", "2022-01"],
        "event_id": ["A", "B", "C", "A", "B"], "project_id": ["A", "B", "C", "A", "B"],
        "kind": [mo.PROJECT_FINISH] * 5, "deadline": ["2025-12"] * 5,
        "actual_finish": ["2024-01", "open", "2025-06", "2024-01", "open"],
        "on_time": [True, False, True, True, False], "planned_verdict": [True, False, False, True, True],
        "plan_finish": ["2025-01"] * 5,
        "p_model": [0.9, 0.2, 0.5, 0.8, 0.4], "p_outside_view": [0.5] * 5,
        "model_p_by_actual": [0.1, math.nan, 0.6, 0.3, math.nan],
        "model_pit_low": [0.0, 0.1, 0.5, 0.2, 0.3], "model_pit_high": [0.1, 1.0, 0.6, 0.3, 1.0],
        "model_crps": [3.0, 1.0, 2.0, 1.0, 0.0],
        "outside_view_p_by_actual": [0.5, math.nan, 0.5, 0.5, math.nan],
        "outside_view_pit_low": [0.4] * 5, "outside_view_pit_high": [0.5] * 5, "outside_view_crps": [2.0] * 5,
        "note": [""] * 5,
    })


def test_scores_table_of_hand_made_events():
    result = mo.evaluate(_events(), settings=None, origins=(M("2021-01"), M("2022-01")), as_of=M("2026-03"))
    s = result.scores.set_index("forecast")
    assert s.loc["model", "brier"] == pytest.approx((0.01 + 0.04 + 0.25 + 0.04 + 0.16) / 5)
    assert s.loc["model", "crps"] == pytest.approx(7 / 5)
    assert s.loc["model", "share_p_by_actual_below_0_2"] == pytest.approx(1 / 3)  # 0.1 of 0.1, 0.6, 0.3
    assert math.isnan(s.loc["base_rate", "crps"])
    e = result.events
    # leave-one-project-out: A's events see B, B, C (1/3); B's see A, A, C (1); C sees A, A, B, B (1/2)
    assert e["p_base_rate"].tolist() == pytest.approx([1 / 3, 1, 1 / 2, 1 / 3, 1])
    # plan verdicts: A on time at both; B late then on time; C late
    # A (on time): B at 2022 (0) -> 0; B 2021 (late): C (1) -> 1; C (late): B 2021 (0) -> 0;
    # B 2022 (on time): A, A (1, 1) -> 1
    assert e["p_plan"].tolist() == pytest.approx([0, 1, 0, 0, 1])
    assert result.pit["model"].sum() == pytest.approx(5)
    assert result.by_origin["events"].tolist() == [3, 2]
    assert {(d.score, d.baseline) for d in result.differences} == {
        *((s, b) for s in ("brier", "log_score") for b in mo.BASELINES), ("crps", "outside_view")}


# -- origins ---------------------------------------------------------------------------------------------

def test_origins_option_forms():
    assert parse_origins("2019-01:2023-01:12") == tuple(M(f"{y}-01") for y in range(2019, 2024))
    assert parse_origins("2022-01, 2020-01") == (M("2020-01"), M("2022-01"))
    for bad in ("2019-01:2018-01:12", "2019-01:2020-01:0", "2019-01:2020-01", "2020-01,2020-01", "2020-13", ""):
        with pytest.raises(ValueError):
            parse_origins(bad)


def _scenario(folder, backtest: str, iterations: int = 60):
    path = folder.parent / "multi.toml"
    path.write_text(f'data = "{folder.name}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n{backtest}\n'
                    f'[optimize]\ntime_limit_s = 2\n[simulate]\niterations = {iterations}\nseed = 7\n',
                    encoding="utf-8")
    return path


def test_scenario_origins_both_forms_and_their_problems(mini_data):
    _, s = load_scenario(_scenario(mini_data, '[backtest]\norigins = { from = "2019-01", to = "2021-06", every = 12 }'))
    assert s.backtest_origins == (M("2019-01"), M("2020-01"), M("2021-01"))
    _, s = load_scenario(_scenario(mini_data, '[backtest]\norigins = ["2022-01", "2021-01"]'))
    assert s.backtest_origins == (M("2021-01"), M("2022-01"))
    _, s = load_scenario(_scenario(mini_data, ""))
    assert s.backtest_origins == ()
    for text, message in (('[backtest]\norigins = ["2021-13"]', "5:12: origins[0]: month must be 01 to 12"),
                          ('[backtest]\norigins = 3', "5:1: origins must be a list of months"),
                          ('[backtest]\norigins = { from = "2019-01", to = "2018-01", every = 12 }',
                           "[backtest.origins]: from = 2019-01 is after to = 2018-01"),
                          ('[backtest]\nfrom = "2019-01"', "5:1: unknown key 'from' in [backtest] (known: origins)")):
        with pytest.raises(InputError) as info:
            load_scenario(_scenario(mini_data, text))
        assert any(message in str(p) for p in info.value.problems), info.value.problems


# -- end to end ------------------------------------------------------------------------------------------

@pytest.fixture
def followed(write_data, mini_files):
    """The mini data with outcomes: HJW finishes on time (2023-05), XIY is followed past its deadline and open."""
    acts = mini_files["activities.csv"]
    acts = acts.replace("HJW.T1,HJW,隧洞掘进,24,30,40,,150,provincial,2021-06,,,",
                        "HJW.T1,HJW,隧洞掘进,24,30,40,,150,provincial,2021-06,2021-08,2023-01,")
    acts = acts.replace("HJW.T2,HJW,输配水管线,12,14,20,HJW.T1:FF+2,50,local,,,,",
                        "HJW.T2,HJW,输配水管线,12,14,20,HJW.T1:FF+2,50,local,,2022-03,2023-05,")
    acts = acts.replace("XIY.T3,XIY,机电安装,10,12,18,XIY.T2:SS+12;XIY.T1,100,bond,,,,",
                        "XIY.T3,XIY,机电安装,10,12,18,XIY.T2:SS+12;XIY.T1,100,bond,,2022-06,,")
    acts = acts.replace("XIY.T2,XIY,航站楼施工,30,36,48,XIY.T1,300,provincial,,2020-11,,",
                        "XIY.T2,XIY,航站楼施工,30,36,48,XIY.T1,300,provincial,,2020-11,2026-01,")
    assert acts.count("2023-05") == 1 and "2026-01" in acts
    funding = "year,source,cap,note\n" + "".join(f"{y},provincial,400,\n" for y in range(2020, 2027))
    return write_data({"activities.csv": acts, "funding.csv": funding})


def test_multi_origin_run_writes_every_file_and_scores_each_known_outcome(followed, tmp_path):
    from cli import main

    scenario = _scenario(followed, '[backtest]\norigins = ["2021-01", "2022-01", "2023-03"]')
    out = tmp_path / "multi"
    result = CliRunner().invoke(main, ["backtest", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "model - baseline, bootstrap 95% interval" in result.output and "PIT histogram" in result.output
    for name in ("events.csv", "scores.csv", "differences.csv", "pit.csv", "origin_scores.csv", "evaluation.json",
                 "backtest.md", "backtest.html", "charts/pit.svg", "manifest.json"):
        assert (out / name).is_file(), name
    for origin in ("2021-01", "2022-01", "2023-03"):
        for name in ("simulation.csv", "distribution.csv", "outside-simulation.csv", "outside-distribution.csv",
                     "plan.csv"):
            assert (out / "origins" / origin / name).is_file(), (origin, name)
    events = pd.read_csv(out / "events.csv", dtype=str)
    # HJW finished 2023-05 (on time): scored at every origin before it; XIY open at the data's date 2026-01,
    # after its deadline 2025-12, and followed (XIY.T3 started 2022-06): late, scored at every origin
    assert sorted(zip(events["origin"], events["event_id"], events["on_time"])) == [
        ("2021-01", "HJW", "true"), ("2021-01", "XIY", "false"), ("2022-01", "HJW", "true"),
        ("2022-01", "XIY", "false"), ("2023-03", "HJW", "true"), ("2023-03", "XIY", "false")]
    assert set(events[events["event_id"] == "XIY"]["actual_finish"]) == {"open"}
    report = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert report["origins"] == ["2021-01", "2022-01", "2023-03"] and report["events"] == 6
    assert {d["baseline"] for d in report["differences"]} == set(mo.BASELINES)
    assert "<text" not in (out / "charts" / "pit.svg").read_text(encoding="utf-8")
    md, page = (out / "backtest.md").read_text(encoding="utf-8"), (out / "backtest.html").read_text(encoding="utf-8")
    for section in ("Scores", "Model against each baseline", "PIT histogram", "Per origin (Brier score)", "Events"):
        assert f"## {section}" in md and f"<h2>{section}</h2>" in page, section
    assert "![PIT histogram](charts/pit.svg)" in md and 'id="chart-pit"' in page


def test_an_event_finished_before_an_origin_is_not_scored_there(followed, tmp_path):
    from cli import main

    out = tmp_path / "late-origin"
    scenario = _scenario(followed, "")
    result = CliRunner().invoke(main, ["backtest", str(scenario), "--out", str(out), "--origins", "2023-06"])
    assert result.exit_code == 0, result.output
    events = pd.read_csv(out / "events.csv", dtype=str)
    assert list(events["event_id"]) == ["XIY"]  # HJW finished 2023-05, before the origin


def test_multi_origin_bad_options(followed, tmp_path):
    from cli import main

    scenario = _scenario(followed, "")
    runner = CliRunner()
    result = runner.invoke(main, ["backtest", str(scenario), "--out", str(tmp_path / "o"), "--origins", "2021-13"])
    assert result.exit_code == 2 and "--origins" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["backtest", str(scenario), "--out", str(tmp_path / "o"), "--origins",
                                  "2021-01,2022-01", "--asap"])
    assert result.exit_code == 2 and "--asap" in result.output
    assert not (tmp_path / "o").exists()


def test_an_origin_without_a_scoreable_event_scores_nothing_and_says_so(followed, tmp_path):
    from cli import main

    out = tmp_path / "nothing"
    scenario = _scenario(followed, "")
    result = CliRunner().invoke(main, ["backtest", str(scenario), "--out", str(out), "--origins", "2026-06"])
    assert result.exit_code == 0, result.output
    assert "0 events scored" in result.output and "nothing was scored" in result.output
    assert pd.read_csv(out / "events.csv").empty and pd.read_csv(out / "differences.csv").empty


def test_the_files_do_not_depend_on_the_worker_count(followed, tmp_path):
    from cli import main

    scenario = _scenario(followed, '[backtest]\norigins = ["2021-01", "2022-01"]', iterations=120)
    for workers in ("1", "2"):
        result = CliRunner().invoke(main, ["backtest", str(scenario), "--out", str(tmp_path / workers),
                                           "--workers", workers])
        assert result.exit_code == 0, result.output
    for name in ("events.csv", "scores.csv", "differences.csv", "pit.csv", "origins/2022-01/distribution.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
