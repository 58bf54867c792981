"""Rules defined once and shared by the stages: known answers for each (deadlines, funding caps from a status
date, funding scales, simulation workers, the solve status words)."""
from __future__ import annotations

import json

import numpy as np

from optimize import SolveStatus
from portfolio.funding import effective_cap, effective_caps, months_left
from portfolio.model import Activity, FundingCap, Portfolio, Project
from portfolio.months import parse_month
from portfolio.network import build_network, resolve_deadline
from scenarios.load import scale_funding
from scenarios.settings import Settings, SimulateSettings

M = parse_month
JULY = M("2021-07")


def _portfolio(deadlines=(None, M("2023-06")), funding=()) -> Portfolio:
    projects = tuple(Project(f"P{k}", "项目", f"P{k}", "road", "", 1.0, d, 1.0, "") for k, d in enumerate(deadlines))
    acts = tuple(Activity(f"P{k}.A", f"P{k}", "a", 2, 3, 4, (), 1.0, "provincial") for k in range(len(projects)))
    return Portfolio(projects, acts, funding=tuple(funding))


def test_a_project_without_a_deadline_takes_the_scenarios():
    assert resolve_deadline(None, M("2025-12")) == M("2025-12")
    assert resolve_deadline(M("2023-06"), M("2025-12")) == M("2023-06")
    net = build_network(_portfolio(), JULY, M("2025-12"))
    assert net.deadline.tolist() == [M("2025-12"), M("2023-06")]
    assert net.deadline_end.tolist() == [M("2025-12") - JULY + 1, M("2023-06") - JULY + 1]


def test_the_status_years_cap_is_prorated_to_the_months_left():
    assert months_left(JULY) == 6 and months_left(M("2021-01")) == 12 and months_left(M("2021-12")) == 1
    assert effective_cap(120.0, 2021, JULY) == 60.0
    assert effective_cap(120.0, 2022, JULY) == 120.0
    assert effective_cap(120.0, 2020, JULY) is None  # history
    caps = [FundingCap(y, "provincial", 120.0) for y in (2020, 2021, 2022)]
    assert effective_caps(_portfolio(funding=caps), JULY) == {(2021, "provincial"): 60.0, (2022, "provincial"): 120.0}


def test_the_optimizer_and_the_simulator_see_the_same_caps():
    from optimize.plan import spend_table
    from simulate.model import build_model

    caps = [FundingCap(2021, "provincial", 120.0), FundingCap(2022, "provincial", 80.0)]
    pf = _portfolio(funding=caps)
    settings = Settings("t", JULY, M("2025-12"), simulate=SimulateSettings(iterations=1))
    rows = spend_table(pf, JULY, np.array([0, 0]), np.array([3, 3]))
    assert {(r.year, r.source): r.cap for r in rows} == {(2021, "provincial"): 60.0, (2022, "provincial"): 80.0}
    model = build_model(pf, settings)
    assert model.pool0.tolist() == [60.0]
    assert [(t, pool.tolist()) for t, pool in model.refills[:1]] == [(6, [80.0])]


def test_funding_scales_pick_sources_and_years():
    caps = (FundingCap(2021, "provincial", 100.0), FundingCap(2022, "provincial", 100.0), FundingCap(2022, "central", 10.0))
    assert [f.cap for f in scale_funding(caps, 0.5)] == [50.0, 50.0, 5.0]
    assert [f.cap for f in scale_funding(caps, 0.5, ["provincial"], 2022)] == [100.0, 50.0, 10.0]
    assert [f.cap for f in scale_funding(caps, 2.0, (), None, 2021)] == [200.0, 100.0, 10.0]


def test_simulation_workers_come_from_the_caller_else_the_scenario():
    settings = Settings("t", JULY, M("2025-12"), simulate=SimulateSettings(workers=3))
    assert settings.simulate_workers(None) == 3
    assert settings.simulate_workers(2) == 2


def test_solve_status_keeps_its_words():
    assert [s.value for s in SolveStatus] == ["optimal", "feasible", "infeasible", "unknown"]
    assert json.dumps({"status": SolveStatus.OPTIMAL}) == '{"status": "optimal"}'
    assert f"status: {SolveStatus.FEASIBLE}" == "status: feasible"
