"""The optimizer on small portfolios whose optimum is worked out by hand (see each test's comment)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

import optimize
from portfolio.distributions import whole_months
from optimize_support import act, finishes, portfolio, proj, settings, starts


def solve(pf, st):
    plan = optimize.solve(pf, st)
    assert optimize.check_plan(pf, st, plan) == []
    return plan


# ----------------------------------------------------------------------------- funding caps


def test_cap_pushes_a_phase_into_the_next_year():
    # A costs 2 亿 a month; provincial money in 2021 is 1.5 亿: not one month of A fits in 2021,
    # and 2022 has no cap. So A starts 2022-01 and finishes 2022-04.
    pf = portfolio([proj("P")], [act("A", "P", 4, cost=8)], funding=[(2021, "provincial", 1.5)])
    plan = solve(pf, settings())
    assert starts(pf, plan) == {"A": "2022-01"}
    assert finishes(pf, plan) == {"A": "2022-04"}
    assert plan.status == "optimal"
    csv = optimize.funding_frame(plan).to_csv(index=False, lineterminator="\n")
    assert csv == "year,source,spend,cap\n2021,provincial,0.0,1.5\n2022,provincial,8.0,\n"


def test_cap_counts_each_month_in_its_own_calendar_year():
    # A: 12 months at 1 亿/month; B: 6 months at 1 亿/month; one project; 2021 provincial cap 12.
    # With A at [k, k+12) and B at [m, m+6) the 2021 spend is (12 - k) + (12 - m) for m >= 6,
    # so k + m >= 12 and the end max(k + 12, m + 6) is smallest at k = 3, m = 9: end t = 15 (2022-03).
    pf = portfolio([proj("P")], [act("A", "P", 12, cost=12), act("B", "P", 6, cost=6)],
                   funding=[(2021, "provincial", 12)])
    plan = solve(pf, settings())
    assert plan.status == "optimal"
    assert plan.project_end().tolist() == [15]
    assert starts(pf, plan) == {"A": "2021-04", "B": "2021-10"}
    rows = {(r.year, r.source): r.spend for r in plan.spend}
    assert rows[(2021, "provincial")] == pytest.approx(12.0)
    assert rows[(2022, "provincial")] == pytest.approx(6.0)
    stage = {s.name: s for s in plan.stages}
    assert stage["weighted_lateness"].value == 0 and stage["weighted_finish"].value == 15


def test_status_year_cap_is_prorated_to_the_months_left():
    # Status 2021-07: the 2021 cap of 12 becomes 12 * 6 / 12 = 6. A spends 2 a month, so at most
    # 3 of its 6 months fit in 2021: it starts 2021-10 and finishes 2022-03.
    pf = portfolio([proj("P")], [act("A", "P", 6, cost=12)], funding=[(2021, "provincial", 12)])
    plan = solve(pf, settings(status="2021-07"))
    assert starts(pf, plan) == {"A": "2021-10"}
    assert optimize.funding_frame(plan).iloc[0].to_dict() == {"year": 2021, "source": "provincial", "spend": 6.0, "cap": 6.0}


def test_other_sources_and_uncapped_years_are_unlimited():
    pf = portfolio([proj("P")], [act("A", "P", 6, cost=600, source="central")],
                   funding=[(2021, "provincial", 0)])
    plan = solve(pf, settings())
    assert starts(pf, plan) == {"A": "2021-01"}


def test_funding_off_ignores_caps():
    pf = portfolio([proj("P")], [act("A", "P", 4, cost=8)], funding=[(2021, "provincial", 1.5)])
    plan = solve(pf, settings(funding=False))
    assert starts(pf, plan) == {"A": "2021-01"}


# ----------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    "pred, b_start",
    [
        # A has its earliest start 2021-03, so A = [2, 5); B lasts 2 months.
        ("A", "2021-06"),  # FS: start_B >= end_A = 5
        ("A:FS+2", "2021-08"),  # start_B >= 5 + 2 = 7
        ("A:FS-1", "2021-05"),  # start_B >= 5 - 1 = 4
        ("A:SS+1", "2021-04"),  # start_B >= 2 + 1 = 3
        ("A:SS-2", "2021-01"),  # start_B >= 0 (and t >= 0)
        ("A:FF+2", "2021-06"),  # end_B >= 5 + 2 = 7, so start_B >= 5
        ("A:FF-2", "2021-02"),  # end_B >= 3, so start_B >= 1
        ("A:SF+4", "2021-05"),  # end_B >= 2 + 4 = 6, so start_B >= 4
    ],
)
def test_each_link_type_with_lags(pred, b_start):
    pf = portfolio([proj("P")], [act("A", "P", 3, earliest="2021-03"), act("B", "P", 2, preds=pred)])
    plan = solve(pf, settings())
    assert starts(pf, plan) == {"A": "2021-03", "B": b_start}
    assert plan.status == "optimal"


def test_links_across_projects_and_earliest_start():
    pf = portfolio(
        [proj("P"), proj("Q")],
        [act("A", "P", 5), act("B", "Q", 3, preds="A:SS+2", earliest="2021-06")],
    )
    plan = solve(pf, settings())
    assert starts(pf, plan) == {"A": "2021-01", "B": "2021-06"}


# ----------------------------------------------------------------------------- actuals and forced starts


def test_actuals_fix_starts_and_running_activities_end_by_their_estimate():
    # Status 2021-07 (t = 0).
    # A done 2020-01..2020-12. B running since 2021-01 for 12 months: ends t = 6 (finish 2021-12),
    # so C (FS after B) starts 2022-01. D running since 2019-01 for 12 months has overrun: it ends at
    # max(-30 + 12, 1) = 1 (finish 2021-07) and E starts 2021-08. F is forced to 2022-06 by the scenario.
    pf = portfolio(
        [proj("P")],
        [
            act("A", "P", 12, actual_start="2020-01", actual_finish="2020-12"),
            act("B", "P", 12, preds="A", actual_start="2021-01"),
            act("C", "P", 3, preds="B"),
            act("D", "P", 12, actual_start="2019-01"),
            act("E", "P", 2, preds="D"),
            act("F", "P", 1),
        ],
    )
    plan = solve(pf, settings(status="2021-07", forced=[("F", "2022-06")]))
    assert starts(pf, plan) == {"A": "2020-01", "B": "2021-01", "C": "2022-01", "D": "2019-01", "E": "2021-08", "F": "2022-06"}
    assert finishes(pf, plan) == {"A": "2020-12", "B": "2021-12", "C": "2022-03", "D": "2021-07", "E": "2021-09", "F": "2022-06"}


def test_actual_in_the_future_of_the_status_date_is_ignored():
    # An actual start at or after the status month is not known yet at the status date.
    pf = portfolio([proj("P")], [act("A", "P", 2, actual_start="2021-05")])
    plan = solve(pf, settings(status="2021-03"))
    assert starts(pf, plan) == {"A": "2021-03"}


def test_running_activity_spends_only_its_remaining_months():
    # B runs 2021-01..2021-12 at 1 亿/month; status 2021-07: 6 亿 of it falls after the status date.
    pf = portfolio([proj("P")], [act("B", "P", 12, cost=12, actual_start="2021-01")])
    plan = solve(pf, settings(status="2021-07"))
    assert [(r.year, r.spend) for r in plan.spend] == [(2021, pytest.approx(6.0))]


# ----------------------------------------------------------------------------- resources and objectives


def test_resource_cap_orders_work_by_priority():
    # One TBM. A (6 months, priority 2) and B (4 months, priority 1) both due 2021-06 (end t <= 6).
    # A first: B ends 10, 4 months late x 1 = 4. B first: A ends 10, 4 x 2 = 8. So A first.
    pf = portfolio(
        [proj("PA", 2, "2021-06"), proj("PB", 1, "2021-06")],
        [act("A", "PA", 6, resources=[("TBM", 1)]), act("B", "PB", 4, resources=[("TBM", 1)])],
        resources=[("TBM", 1)],
    )
    plan = solve(pf, settings())
    assert starts(pf, plan) == {"A": "2021-01", "B": "2021-07"}
    assert plan.lateness().tolist() == [0, 4]
    assert plan.objective_name == "weighted_finish" and plan.status == "optimal"
    assert [s.value for s in plan.stages] == [4, 2 * 6 + 1 * 10]


def test_fractional_resource_units():
    # Capacity 1.5: two activities of 0.75 fit side by side, a third waits.
    pf = portfolio(
        [proj("P")],
        [act(x, "P", 3, resources=[("crane", 0.75)]) for x in "ABC"],
        resources=[("crane", 1.5)],
    )
    plan = solve(pf, settings())
    assert sorted(starts(pf, plan).values()) == ["2021-01", "2021-01", "2021-04"]


def _three_projects(priorities):
    return portfolio(
        [proj("PA", priorities[0], "2021-06"), proj("PB", priorities[1], "2021-06"), proj("PC", priorities[2], "2021-06")],
        [act("A", "PA", 6, resources=[("TBM", 1)]), act("B", "PB", 3, resources=[("TBM", 1)]),
         act("C", "PC", 3, resources=[("TBM", 1)])],
        resources=[("TBM", 1)],
    )


def test_on_time_objective_counts_projects():
    # One TBM for A (6 months, priority 3) and B, C (3 months each, priority 2); all due 2021-06.
    # Either A is on time (3) or B and C are (2 + 2 = 4): on_time puts B and C first.
    pf = _three_projects((3, 2, 2))
    plan = solve(pf, settings(objective="on_time"))
    assert plan.stages[0].name == "weighted_on_time" and plan.stages[0].value == 4
    assert starts(pf, plan)["A"] == "2021-07"
    assert optimize.projects_frame(pf, plan)["on_time"].tolist() == ["false", "true", "true"]


def test_lateness_and_on_time_differ():
    # Priorities 5, 2, 2. Lateness: A first costs 2*3 + 2*6 = 18, B and C first cost 5*6 = 30: A first.
    # On time: A alone is worth 5, B and C together 4: A first as well; with priorities 3, 2, 2 they differ
    # (test above). Here both put A first.
    pf = _three_projects((5, 2, 2))
    assert starts(pf, solve(pf, settings()))["A"] == "2021-01"
    assert starts(pf, solve(pf, settings(objective="on_time")))["A"] == "2021-01"


def test_makespan_objective():
    pf = _three_projects((1, 1, 1))
    plan = solve(pf, settings(objective="makespan"))
    assert plan.stages[0].name == "makespan" and plan.stages[0].value == 12
    # then the weighted finish: the short ones first, 3 + 6 + 12 = 21
    assert plan.stages[1].value == 21
    assert starts(pf, plan)["A"] == "2021-07"


def test_duration_percentile():
    # Triangular (10, 12, 20): P80 = 20 - sqrt(0.2 * 10 * 8) = 16.0 -> 16 months.
    pf = portfolio([proj("P")], [act("A", "P", 12, three_point=(10, 12, 20))])
    plan = solve(pf, settings(duration_percentile=80))
    assert whole_months(10, 12, 20, 80) == 16
    assert int(plan.end[0] - plan.start[0]) == 16
    plan = solve(pf, settings())
    assert int(plan.end[0] - plan.start[0]) == 12


def test_hard_deadlines_met_when_possible():
    # Money for one of the two 6-month phases in H1 2021; both projects due 2021-12 (hard): both fit.
    pf = portfolio(
        [proj("P", 1, "2021-12"), proj("Q", 9, "2022-06")],
        [act("A", "P", 6, cost=6), act("B", "Q", 6, cost=6)],
        funding=[(2021, "provincial", 6)],
    )
    plan = solve(pf, settings(hard_deadlines=True))
    assert plan.lateness().tolist() == [0, 0]
    assert starts(pf, plan) == {"A": "2021-01", "B": "2022-01"}


# ----------------------------------------------------------------------------- infeasible plans


def test_hard_deadline_broken_by_a_chain_names_the_chain():
    pf = portfolio([proj("P", 1, "2021-12")], [act("A", "P", 8), act("B", "P", 8, preds="A")])
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(pf, settings(hard_deadlines=True))
    text = str(info.value)
    assert "P cannot finish by its hard deadline 2021-12" in text
    assert "A 2021-01..2021-08 (8 mo) -> B 2021-09..2022-04 (8 mo)" in text
    assert "4 month(s) late" in text


def test_hard_deadline_broken_by_money_names_years_sources_and_amounts():
    # A needs 2 亿 a month for 24 months and must end by 2022-12; caps 20 in 2021 and 2022.
    # The only plan on time spends 24 in each year: short by 4 in each.
    pf = portfolio([proj("P", 1, "2022-12")], [act("A", "P", 24, cost=48)],
                   funding=[(2021, "provincial", 20), (2022, "provincial", 20)])
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(pf, settings(hard_deadlines=True))
    text = str(info.value)
    assert "8.00 亿元 in all" in text
    assert "2021 provincial: short by 4.00 亿元 (cap 20.00, the plan needs 24.00)" in text
    assert "2022 provincial: short by 4.00 亿元 (cap 20.00, the plan needs 24.00)" in text
    # the same plan with soft deadlines is late instead
    plan = solve(pf, settings())
    # A runs 24 months in a row at 2 a month, so a year it covers whole costs 24 > 20: it must not cover
    # 2022 whole, and at most 10 of its months fall in 2022: start >= 2022-03, end t = 38 (2024-02).
    assert plan.lateness().tolist() == [14]
    assert starts(pf, plan) == {"A": "2022-03"}


def test_committed_work_over_the_cap_is_explained():
    # B runs 2021-01..2021-12 at 1 亿/month; status 2021-07: 6 亿 still to spend in 2021,
    # but the 2021 cap of 8 is 4 for the 6 months left: short by 2.
    pf = portfolio([proj("P")], [act("B", "P", 12, cost=12, actual_start="2021-01")],
                   funding=[(2021, "provincial", 8)])
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(pf, settings(status="2021-07"))
    text = str(info.value)
    assert "2021 provincial: the work already committed (B (running)) needs 6.00 亿元" in text
    assert "the cap is 4.00 (prorated to the 6 months left): short by 2.00 亿元" in text


def test_forced_start_against_a_link_is_explained():
    pf = portfolio([proj("P")], [act("A", "P", 6), act("B", "P", 2, preds="A")])
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(pf, settings(forced=[("B", "2021-03")]))
    assert "forces B to start 2021-03, but its FS+0 link from A allows 2021-07 at the earliest" in str(info.value)


def test_resources_against_hard_deadlines_are_explained():
    pf = portfolio(
        [proj("PA", 2, "2021-06"), proj("PB", 1, "2021-06")],
        [act("A", "PA", 6, resources=[("TBM", 1)]), act("B", "PB", 6, resources=[("TBM", 1)])],
        resources=[("TBM", 1)],
    )
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(pf, settings(hard_deadlines=True))
    text = str(info.value)
    assert "TBM (capacity 1)" in text
    assert "6 month(s) after its deadline 2021-06" in text


# ----------------------------------------------------------------------------- tables and determinism


def test_tables_and_same_bytes_twice(tmp_path):
    pf = portfolio(
        [proj("P", 2, "2021-12"), proj("Q", 1)],
        [act("A", "P", 6, cost=6), act("B", "P", 6, cost=3, preds="A", source="central"), act("C", "Q", 4, cost=8)],
        funding=[(2021, "provincial", 10), (2022, "provincial", 5)],
    )
    st = settings()
    texts = []
    for _ in range(2):
        plan = solve(pf, st)
        texts.append([
            optimize.schedule_frame(pf, plan).to_csv(index=False),
            optimize.projects_frame(pf, plan).to_csv(index=False),
            optimize.funding_frame(plan).to_csv(index=False),
        ])
    assert texts[0] == texts[1]
    schedule, projects, funding = texts[0]
    assert schedule.splitlines()[0] == "activity_id,project_id,name,start,finish,duration,cost,funding_source"
    assert projects.splitlines()[0] == "project_id,name_zh,name_en,category,lead_agency,priority,planned_finish,deadline,on_time,lateness_months"
    assert funding.splitlines()[0] == "year,source,spend,cap"
    assert "P,项目P,Project P,water,省发展改革委,2,2021-12,2021-12,true,0" in projects
    assert "2021,central,3.0," in funding  # no cap for central: empty
    summary = plan.optimizer_summary()
    assert summary["status"] == "optimal" and math.isclose(summary["gap"], 0.0)


def test_left_shift_gives_non_critical_phases_early_dates():
    # C (after A) has float until B ends; the objectives do not care where it sits, the left shift
    # puts it right after A.
    pf = portfolio([proj("P")], [act("A", "P", 2), act("B", "P", 10), act("C", "P", 3, preds="A")])
    plan = solve(pf, settings())
    assert starts(pf, plan) == {"A": "2021-01", "B": "2021-01", "C": "2021-03"}


def test_forced_start_before_the_status_date_is_explained():
    pf = portfolio([proj("P")], [act("A", "P", 2)])
    with pytest.raises(optimize.Infeasible, match="forces A to start 2020-11, before the status date 2021-01"):
        optimize.solve(pf, settings(forced=[("A", "2020-11")]))


def test_unknown_forced_activity_is_an_input_error():
    from portfolio.errors import InputError

    pf = portfolio([proj("P")], [act("A", "P", 2)])
    with pytest.raises(InputError, match="unknown activity 'Z'"):
        optimize.solve(pf, settings(forced=[("Z", "2021-05")]))


def test_stoppages_are_noted_as_not_modelled():
    import dataclasses

    from scenarios.settings import Stoppage

    pf = portfolio([proj("P")], [act("A", "P", 2)])
    st = dataclasses.replace(settings(), stoppages=(Stoppage(2021 * 12 + 1, 2),))
    plan = solve(pf, st)
    assert any("stoppages" in n for n in plan.notes)


def test_list_schedule_alone_is_reported_against_the_models_bounds(monkeypatch):
    # No CP-SAT stage finishes: the list-scheduling plan stands. Its gap is measured against the
    # model's own bounds (a stage counts as proven only when its value meets such a bound), never 0%
    # by default, and a note says so.
    import dataclasses
    import importlib

    from optimize import core
    from optimize.output import summary_lines
    from scenarios.load import load_target

    solve_module = importlib.import_module("optimize.solve")
    monkeypatch.setattr(solve_module.core, "solve_stages", lambda *a, **k: core.StagedResult(status="unknown"))
    pf, st = load_target(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    for mode in ("lateness", "makespan"):
        st = dataclasses.replace(st, optimize=dataclasses.replace(st.optimize, objective=mode))
        plan = optimize.solve(pf, st, time_limit=5, workers=1)
        assert optimize.check_plan(pf, st, plan) == []
        assert plan.status == "feasible" and plan.gap > 0
        deciding = next(s for s in plan.stages if not s.optimal)
        assert plan.objective_name == deciding.name and plan.best_bound == deciding.bound
        assert all(s.seconds == 0 for s in plan.stages)
        for s in plan.stages:  # bounds on the right side of the values
            assert s.bound <= s.value if s.sense == "min" else s.bound >= s.value
            assert s.optimal == (s.value == s.bound)
        assert any("not solved within the time limit" in n for n in plan.notes)
        assert "gap: 0.00%" not in summary_lines(pf, plan)
