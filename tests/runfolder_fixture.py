"""A realistic sample run folder for the report, compare and check tests.

``make_run(folder, ...)`` writes what ``portfolio run`` writes (manifest.json,
the plan files and the Monte Carlo files) for eight Shaanxi flagship projects,
from a small self-contained model: each project is a network of phases with
triangular durations; the plan is the early-start schedule of the most likely
durations; the simulation samples durations and register risks with numpy and
executes the plan (no start before the planned start, FS links to month
boundaries), then writes the statistics in the run folder's columns.

Same arguments, same bytes (apart from ``written_at`` in manifest.json).
Different seeds give the small Monte Carlo differences a regression check must
tolerate; ``delays`` changes the plan (as a scenario would).

Run as a script to write a folder to look at: ``python tests/runfolder_fixture.py out/sample``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

STATUS = 2021 * 12  # 2021-01 as an absolute month
DEADLINE = 2025 * 12 + 11  # 2025-12

# project_id, name_zh, name_en, category, lead_agency, priority, deadline (None = scenario), budget, scale, offset
PROJECTS = [
    ("XIY-P3", "西安咸阳国际机场三期扩建工程", "Xi'an Xianyang International Airport Phase III Expansion", "aviation",
     "省发展改革委、省交通运输厅、西部机场集团", 5, None, 476.45, 1.00, 0),
    ("HJW-2", "引汉济渭工程二期（输配水工程）", "Hanjiang-to-Weihe Water Diversion Phase II (conveyance and distribution)",
     "water", "省水利厅、省发展改革委", 5, None, 200.23, 0.95, 0),
    ("DONGZHUANG", "泾河东庄水利枢纽工程", "Dongzhuang Water Control Project on the Jing River", "water",
     "省水利厅、省发展改革委", 4, 2026 * 12 + 11, 163.61, 1.22, 0),
    ("XAM-L8", "西安地铁8号线（环线）", "Xi'an Metro Line 8 (ring)", "metro", "省发展改革委、中铁西安局集团", 3, None,
     385.72, 1.02, 2),
    ("XAM-L10", "西安地铁10号线一期、14号线", "Xi'an Metro Phase III north-east group: Line 10 Ph1 + Line 14", "metro",
     "省发展改革委、中铁西安局集团", 3, None, 261.81, 0.88, 0),
    ("XAHSR-YA", "西安至延安高速铁路", "Xi'an-Yan'an High-Speed Railway", "rail",
     "省交通运输厅、省发展改革委、中铁西安局集团", 4, None, 551.60, 1.14, 0),
    ("XAHSR-AK", "西安至安康高速铁路", "Xi'an-Ankang High-Speed Railway", "rail",
     "省交通运输厅、省发展改革委、中铁西安局集团", 4, None, 263.93, 0.98, 3),
    ("XA-MED", "国家西安医学中心", "National Medical Center (Xi'an)", "health", "省卫生健康委、省发展改革委", 5, None,
     80.00, 0.85, 6),
]

# category -> phases: (suffix, name, (o, m, p), share of budget, funding source, predecessors)
TEMPLATES = {
    "aviation": [
        ("T1", "前期工作与初步设计", (3, 4, 7), 0.02, "provincial", ()),
        ("T2", "征地拆迁与场地准备", (4, 6, 10), 0.08, "local", ("T1",)),
        ("T3", "航站楼主体工程", (24, 28, 38), 0.45, "enterprise", ("T2",)),
        ("T4", "飞行区与跑道工程", (18, 22, 30), 0.30, "central", ("T2",)),
        ("T5", "机电安装与行李系统", (7, 9, 14), 0.12, "bond", ("T3",)),
        ("T6", "校飞与竣工验收", (2, 3, 5), 0.03, "provincial", ("T4", "T5")),
    ],
    "water": [
        ("T1", "初步设计与审批", (3, 5, 8), 0.02, "provincial", ()),
        ("T2", "施工准备与导流", (4, 6, 9), 0.08, "local", ("T1",)),
        ("T3", "主体工程（大坝与隧洞）", (26, 30, 42), 0.55, "central", ("T2",)),
        ("T4", "输配水管线", (20, 26, 34), 0.20, "bond", ("T2",)),
        ("T5", "金属结构与机电安装", (5, 7, 11), 0.12, "provincial", ("T3",)),
        ("T6", "蓄水与竣工验收", (2, 3, 6), 0.03, "provincial", ("T4", "T5")),
    ],
    "metro": [
        ("T1", "初步设计", (3, 4, 6), 0.02, "local", ()),
        ("T2", "管线迁改与交通疏解", (4, 6, 9), 0.06, "local", ("T1",)),
        ("T3", "车站土建", (20, 24, 32), 0.38, "bond", ("T2",)),
        ("T4", "区间盾构", (18, 22, 32), 0.30, "enterprise", ("T2",)),
        ("T5", "铺轨与机电安装", (8, 10, 14), 0.20, "provincial", ("T3", "T4")),
        ("T6", "联调联试与试运行", (3, 4, 6), 0.04, "local", ("T5",)),
    ],
    "rail": [
        ("T1", "初步设计", (3, 4, 6), 0.02, "central", ()),
        ("T2", "征地拆迁", (4, 6, 10), 0.08, "provincial", ("T1",)),
        ("T3", "路基桥隧工程", (26, 30, 40), 0.55, "central", ("T2",)),
        ("T4", "站房工程", (16, 20, 26), 0.12, "enterprise", ("T2",)),
        ("T5", "铺轨与四电工程", (8, 10, 14), 0.20, "bond", ("T3",)),
        ("T6", "联调联试", (3, 4, 6), 0.03, "central", ("T4", "T5")),
    ],
    "health": [
        ("T1", "设计与审批", (3, 4, 6), 0.03, "provincial", ()),
        ("T2", "主体结构", (14, 18, 24), 0.45, "bond", ("T1",)),
        ("T3", "装修与机电", (8, 10, 15), 0.30, "provincial", ("T2",)),
        ("T4", "医疗设备安装", (4, 6, 9), 0.20, "enterprise", ("T2",)),
        ("T5", "竣工验收", (2, 3, 4), 0.02, "local", ("T3", "T4")),
    ],
}

# risk_id, name, probability, (o, m, p) months of delay, affects: activity suffixes per category ("*" = all)
RISKS = [
    ("R01", "复杂地质条件（隧洞与盾构）", 0.30, (2, 4, 9), {"water": ("T3",), "metro": ("T4",), "rail": ("T3",)}),
    ("R02", "征地拆迁延误", 0.35, (1, 3, 6), {"*": ("T2",)}),
    ("R03", "新冠疫情停工", 0.50, (1, 2, 4), {"aviation": ("T3",), "metro": ("T3",), "rail": ("T3",),
                                          "health": ("T2",)}),
    ("R04", "省级资金到位滞后", 0.25, (2, 3, 6), {"water": ("T5",), "metro": ("T5",), "rail": ("T2",),
                                            "health": ("T3",)}),
    ("R05", "环评与用地审批延期", 0.20, (1, 2, 5), {"*": ("T1",)}),
    ("R06", "设备供货延迟", 0.20, (1, 2, 4), {"aviation": ("T5",), "metro": ("T5",), "rail": ("T5",),
                                         "health": ("T4",)}),
]
CAPPED = ("provincial", "local", "bond")  # sources with an annual cap; central and enterprise are unlimited


def month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _activities(delays: dict[str, int]):
    """[(activity_id, project_index, name, (o, m, p), cost, source, [predecessor indexes])] in file order."""
    out = []
    for pi, (pid, *_rest) in enumerate(PROJECTS):
        category, budget, scale = PROJECTS[pi][3], PROJECTS[pi][7], PROJECTS[pi][8]
        index = {}
        for suffix, name, (o, m, p), share, source, preds in TEMPLATES[category]:
            aid = f"{pid}.{suffix}"
            extra = delays.get(aid, 0)
            three = (round(o * scale, 1) + extra, round(m * scale, 1) + extra, round(p * scale, 1) + extra)
            index[suffix] = len(out)
            out.append((aid, pi, name, three, round(budget * share, 2), source, [index[s] for s in preds]))
    return out


def _plan(acts):
    """Early start in whole months (most likely rounded half up); FS lag 0 starts the month after."""
    start, dur = [], []
    for aid, pi, _name, (_o, m, _p), *_x, preds in acts:
        d = int(math.floor(m + 0.5))
        s = PROJECTS[pi][9]
        for j in preds:
            s = max(s, start[j] + dur[j])
        start.append(s)
        dur.append(d)
    return np.array(start), np.array(dur)


def _short_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()[:16]


def _fmt(x: float, digits: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    text = f"{x:.{digits}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    lines = [",".join(header)]
    for row in rows:
        cells = []
        for v in row:
            v = "" if v is None else str(v)
            cells.append(f'"{v}"' if ("," in v or '"' in v) else v)
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_run(folder, *, seed: int = 2021, iterations: int = 4000, engine: str = "fast",
             parts: tuple[str, ...] = ("schedule", "simulation"), delays: dict[str, int] | None = None,
             scenario: str = "baseline", written_at: str | None = None, rules: dict[str, str] | None = None,
             legacy: bool = False) -> Path:
    """Write a run folder; ``parts`` chooses the plan files ("schedule"), the MC files ("simulation") or both.

    ``rules``: scenario rules on top of the dates (manifest ``scenario_rules``); ``legacy``: write what runs
    did before the scenario rules, row hashes, draw scheme and iterations.csv were recorded.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    delays = dict(delays or {})
    acts = _activities(delays)
    start, dur = _plan(acts)
    n_act = len(acts)
    deadlines = [p[6] if p[6] is not None else DEADLINE for p in PROJECTS]

    inputs_text = json.dumps([PROJECTS, [a[:6] for a in acts], RISKS], ensure_ascii=False, sort_keys=True)
    inputs = {
        "projects.csv": hashlib.sha256(json.dumps(PROJECTS, ensure_ascii=False).encode()).hexdigest(),
        "activities.csv": hashlib.sha256(json.dumps([a[:6] for a in acts], ensure_ascii=False).encode()).hexdigest(),
        "funding.csv": hashlib.sha256(b"caps").hexdigest(),
        "risks.csv": hashlib.sha256(json.dumps(RISKS, ensure_ascii=False).encode()).hexdigest(),
        scenario + ".toml": hashlib.sha256((scenario + inputs_text).encode()).hexdigest(),
    }
    manifest = {
        "scenario": scenario,
        "scenario_file": scenario + ".toml",
        "status_date": "2021-01",
        "inputs": inputs,
        "versions": {"python": "3.11.2", "portfolio": "0.1.0", "numpy": np.__version__, "ortools": "9.12.4544"},
        "written_at": written_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if not legacy:
        manifest["scenario_rules"] = {"status date": month_text(STATUS), "default deadline": month_text(DEADLINE),
                                      **(rules or {})}
        manifest["input_rows"] = {
            "projects.csv": {p[0]: _short_hash(p) for p in PROJECTS},
            "activities.csv": {a[0]: _short_hash(a[:6]) for a in acts},
            "risks.csv": {r[0]: _short_hash(r) for r in RISKS},
        }

    if "schedule" in parts:
        rows = []
        for k, (aid, pi, name, _three, cost, source, _preds) in enumerate(acts):
            s, d = STATUS + start[k], dur[k]
            rows.append([aid, PROJECTS[pi][0], name, month_text(s), month_text(s + d - 1), d, _fmt(cost, 2), source])
        _csv(folder / "schedule.csv",
             ["activity_id", "project_id", "name", "start", "finish", "duration", "cost", "funding_source"], rows)

        prows = []
        planned_finish = {}
        for k, (_aid, pi, *_x) in enumerate(acts):
            planned_finish[pi] = max(planned_finish.get(pi, 0), STATUS + start[k] + dur[k] - 1)
        for pi, p in enumerate(PROJECTS):
            late = max(0, planned_finish[pi] - deadlines[pi])
            prows.append([p[0], p[1], p[2], p[3], p[4], p[5], month_text(planned_finish[pi]),
                          month_text(deadlines[pi]), str(late == 0).lower(), late])
        _csv(folder / "projects.csv",
             ["project_id", "name_zh", "name_en", "category", "lead_agency", "priority", "planned_finish", "deadline",
              "on_time", "lateness_months"], prows)

        spend: dict[tuple[int, str], float] = {}
        for k, (_aid, _pi, _name, _three, cost, source, _preds) in enumerate(acts):
            for t in range(start[k], start[k] + dur[k]):
                key = ((STATUS + t) // 12, source)
                spend[key] = spend.get(key, 0.0) + cost / dur[k]
        peak = {}
        for (year, source), value in spend.items():
            peak[source] = max(peak.get(source, 0.0), value)
        caps = {s: math.ceil(peak[s] * 1.08 / 5) * 5 for s in CAPPED if s in peak}
        frows = []
        for year, source in sorted(spend):
            frows.append([year, source, _fmt(spend[(year, source)], 2), caps.get(source, "")])
        _csv(folder / "funding.csv", ["year", "source", "spend", "cap"], frows)
        manifest["optimizer"] = {"status": "OPTIMAL", "objective": 14.0, "best_bound": 14.0, "gap": 0.0,
                                 "seconds": 4.37, "workers": 1, "objective_name": "lateness"}

    if "simulation" in parts:
        n = iterations
        rng = np.random.default_rng(seed)
        dur_s = np.empty((n, n_act))
        for k, (_aid, _pi, _name, (o, m, p), *_x) in enumerate(acts):
            dur_s[:, k] = rng.triangular(o, m, p, size=n) if p > o else o
        risk_on = np.empty((n, len(RISKS)), dtype=bool)
        for r, (_rid, _name, prob, (o, m, p), affects) in enumerate(RISKS):
            risk_on[:, r] = rng.random(n) < prob
            delay = rng.triangular(o, m, p, size=n) * risk_on[:, r]
            for k, (aid, pi, *_x) in enumerate(acts):
                suffix = aid.rsplit(".", 1)[1]
                if suffix in affects.get(PROJECTS[pi][3], ()) or suffix in affects.get("*", ()):
                    dur_s[:, k] += delay
        s_t = np.empty((n, n_act))
        e_t = np.empty((n, n_act))
        driver = np.full((n, n_act), -1)
        for k, (*_x, preds) in enumerate(acts):
            bound = np.full(n, float(start[k]))
            best = np.full(n, -np.inf)
            for j in preds:
                b = np.ceil(e_t[:, j] - 1e-9)
                take = (b >= start[k]) & (b > best)
                driver[take, k] = j
                best = np.maximum(best, b)
                bound = np.maximum(bound, b)
            s_t[:, k] = bound
            e_t[:, k] = bound + dur_s[:, k]
        finish_m = STATUS + np.ceil(e_t - 1e-9).astype(int) - 1  # finish month per activity

        proj_acts = [[k for k, a in enumerate(acts) if a[1] == pi] for pi in range(len(PROJECTS))]
        pfinish = np.stack([finish_m[:, ks].max(axis=1) for ks in proj_acts], axis=1)
        pend = np.stack([e_t[:, ks].max(axis=1) for ks in proj_acts], axis=1)
        late = np.maximum(0, pfinish - np.array(deadlines))
        on_time = late == 0
        port_late = late.max(axis=1)

        on_path = np.zeros((n, n_act), dtype=bool)
        rows_i = np.arange(n)
        for ks in proj_acts:
            current = np.array(ks)[np.argmax(e_t[:, ks], axis=1)]
            for _ in range(len(ks)):
                live = current >= 0
                on_path[rows_i[live], current[live]] = True
                current = np.where(live, driver[rows_i, np.maximum(current, 0)], -1)

        def quantile(f, q):
            values, counts = np.unique(f, return_counts=True)
            cum = np.cumsum(counts)
            return int(values[np.argmax(cum * 100 >= q * n)])

        def dist_rows(pid, f):
            values, counts = np.unique(f, return_counts=True)
            cum = np.cumsum(counts)
            return [[pid, month_text(int(v)), _fmt(c / n, 4)] for v, c in zip(values, cum)]

        srows, drows = [], []
        for pi, p in enumerate(PROJECTS):
            f = pfinish[:, pi]
            srows.append([p[0], p[1], month_text(deadlines[pi]), _fmt(on_time[:, pi].mean(), 4),
                          month_text(quantile(f, 50)), month_text(quantile(f, 80)), month_text(quantile(f, 90)),
                          _fmt(late[:, pi].mean(), 2)])
            drows += dist_rows(p[0], f)
        allf = pfinish.max(axis=1)
        srows.append(["PORTFOLIO", "全部项目", month_text(max(deadlines)), _fmt(on_time.all(axis=1).mean(), 4),
                      month_text(quantile(allf, 50)), month_text(quantile(allf, 80)), month_text(quantile(allf, 90)),
                      _fmt(port_late.mean(), 2)])
        drows += dist_rows("PORTFOLIO", allf)
        _csv(folder / "simulation.csv",
             ["project_id", "name_zh", "deadline", "p_on_time", "finish_p50", "finish_p80", "finish_p90",
              "mean_delay_months"], srows)
        _csv(folder / "distribution.csv", ["project_id", "month", "p_finished"], drows)

        crows = []
        for k, (aid, pi, *_x) in enumerate(acts):
            x, y = dur_s[:, k], pend[:, pi]
            sens = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else math.nan
            crows.append([aid, PROJECTS[pi][0], _fmt(on_path[:, k].mean(), 4), _fmt(sens, 4)])
        _csv(folder / "criticality.csv", ["activity_id", "project_id", "criticality", "sensitivity"], crows)

        rrows = []
        total_late = late.sum(axis=1)  # months late, summed over the projects (as the simulator does)
        for r, (rid, name, prob, _three, _aff) in enumerate(RISKS):
            occ = risk_on[:, r]
            d_if = total_late[occ].mean() if occ.any() else math.nan
            d_not = total_late[~occ].mean() if (~occ).any() else math.nan
            rrows.append([rid, name, _fmt(prob, 4), _fmt(occ.mean(), 4), _fmt(d_if, 2), _fmt(d_not, 2),
                          _fmt(d_if - d_not, 2)])
        _csv(folder / "risks.csv", ["risk_id", "name", "probability", "occurred", "mean_delay_if_occurs",
                                    "mean_delay_if_not", "contribution_months"], rrows)
        manifest["simulation"] = {"seed": seed, "iterations": n, "engine": engine, "distribution": "triangular",
                                  "correlation": 0.0, "workers": 1, "seconds": 0.42}
        if not legacy:
            layout = [[a[0] for a in acts], sorted({p[3] for p in PROJECTS}), [r[0] for r in RISKS]]
            manifest["simulation"].update(draws="position", draw_layout=_short_hash(layout))
            bits = np.concatenate([on_time, on_time.all(axis=1)[:, None]], axis=1).T
            packed = np.packbits(bits, axis=1, bitorder="little")
            _csv(folder / "iterations.csv", ["project_id", "iterations", "on_time_bits"],
                 [[pid, n, base64.b64encode(row.tobytes()).decode("ascii")]
                  for pid, row in zip([p[0] for p in PROJECTS] + ["PORTFOLIO"], packed)])

    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return folder


if __name__ == "__main__":
    print(make_run(sys.argv[1] if len(sys.argv) > 1 else "out/sample"))
