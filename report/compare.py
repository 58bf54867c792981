"""What changed between two run folders, as Markdown for a reviewer.

Sections: the inputs (scenario, sampling settings, input files by sha256),
projects whose planned finish moved, the change of P(on time) and P80 per
project (marked when it is beyond sampling noise, by the rules of
docs/regression.md), and spending moved between years per funding source.
A section whose files one of the runs lacks is replaced by a sentence saying so.
"""
from __future__ import annotations

import math

from . import tolerance as tol
from .charts import percent
from .check import same_sampling
from .rundata import PORTFOLIO, Run, cdf_at, cdf_steps, load_run, month_text
from .markdown import markdown_table


def _inputs(a: dict, b: dict) -> tuple[list[list[str]], int]:
    rows, same = [], 0
    for name in sorted(set(a) | set(b)):
        if name not in a:
            rows.append([name, "—", f"`{b[name][:12]}`", "added"])
        elif name not in b:
            rows.append([name, f"`{a[name][:12]}`", "—", "removed"])
        elif a[name] != b[name]:
            rows.append([name, f"`{a[name][:12]}`", f"`{b[name][:12]}`", "changed"])
        else:
            same += 1
    return rows, same


def _section_inputs(a: Run, b: Run) -> list[str]:
    out = ["## Inputs", ""]
    settings = [("scenario", a.scenario, b.scenario),
                ("scenario file", a.manifest.get("scenario_file"), b.manifest.get("scenario_file"))]
    sa, sb = a.simulation_settings, b.simulation_settings
    for key in sorted(set(sa) | set(sb)):
        if key in ("seconds",):
            continue
        settings.append((f"simulation {key}", sa.get(key), sb.get(key)))
    oa, ob = a.optimizer, b.optimizer
    for key in ("status", "objective", "gap"):
        if key in oa or key in ob:
            settings.append((f"optimizer {key}", oa.get(key), ob.get(key)))
    changed = [[k, "—" if x is None else str(x), "—" if y is None else str(y)] for k, x, y in settings if x != y]
    unchanged = [f"{k} {x}" for k, x, y in settings if x == y and x is not None]
    if changed:
        out += [markdown_table(["Setting", "A", "B"], changed), ""]
    if unchanged:
        out += ["Unchanged: " + "; ".join(unchanged) + ".", ""]
    ia = a.manifest.get("inputs") if isinstance(a.manifest.get("inputs"), dict) else {}
    ib = b.manifest.get("inputs") if isinstance(b.manifest.get("inputs"), dict) else {}
    rows, same = _inputs(ia, ib)
    if rows:
        out += [markdown_table(["Input file", "sha256 A", "sha256 B", "Change"], rows), ""]
        out += [f"{same} other input file(s) unchanged.", ""]
    else:
        out += [f"All {same} input files are unchanged (same sha256).", ""]
    return out


def _names(a: Run, b: Run) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in (b, a):
        for table in ("projects.csv", "simulation.csv"):
            frame = run.get(table)
            if frame is not None:
                for pid, name in zip(frame["project_id"], frame["name_zh"]):
                    names[str(pid)] = str(name)
    return names


def _section_plan(a: Run, b: Run, names: dict[str, str]) -> list[str]:
    out = ["## Planned finish", ""]
    pa, pb = a.get("projects.csv"), b.get("projects.csv")
    if pa is None or pb is None:
        which = _lacking(pa, pb)
        return out + [f"Not compared: {which} no projects.csv (no plan).", ""]
    ra = {str(r["project_id"]): r for _, r in pa.iterrows()}
    rb = {str(r["project_id"]): r for _, r in pb.iterrows()}
    rows = []
    for pid in list(ra) + [p for p in rb if p not in ra]:
        x, y = ra.get(pid), rb.get(pid)
        if x is None or y is None:
            rows.append([pid, names.get(pid, ""), month_text(x["planned_finish_m"]) if x is not None else "—",
                         month_text(y["planned_finish_m"]) if y is not None else "—", "only in " + ("A" if y is None
                                                                                                   else "B"), ""])
            continue
        fa, fb = x["planned_finish_m"], y["planned_finish_m"]
        if fa != fb:
            delta = (int(fb) - int(fa)) if fa is not None and fb is not None else None
            on_time = f"{_yes(x['on_time'])} → {_yes(y['on_time'])}"
            rows.append([pid, names.get(pid, ""), month_text(fa), month_text(fb),
                         f"{delta:+d}" if delta is not None else "—", on_time])
    if rows:
        out += [markdown_table(["Project", "名称", "Planned finish A", "Planned finish B", "Moved (months)",
                                "On time in plan A → B"], rows, right={4}), ""]
    else:
        out += ["No project's planned finish moved.", ""]
    sa, sb = a.get("schedule.csv"), b.get("schedule.csv")
    if sa is not None and sb is not None:
        xa = {str(r["activity_id"]): r for _, r in sa.iterrows()}
        moved = []
        for _, y in sb.iterrows():
            x = xa.get(str(y["activity_id"]))
            if x is not None and x["start_m"] != y["start_m"]:
                moved.append((int(y["start_m"]) - int(x["start_m"]), str(y["activity_id"]), str(y["name"]),
                              month_text(x["start_m"]), month_text(y["start_m"])))
        if moved:
            moved.sort(key=lambda m: (-abs(m[0]), m[1]))
            shown = moved[:15]
            out += [f"{len(moved)} of {len(sb)} activities start in a different month"
                    + (f" (the {len(shown)} that moved most):" if len(moved) > len(shown) else ":"), ""]
            out += [markdown_table(["Activity", "Phase", "Start A", "Start B", "Moved (months)"],
                                   [[m[1], m[2], m[3], m[4], f"{m[0]:+d}"] for m in shown], right={4}), ""]
        else:
            out += ["No activity's planned start moved.", ""]
    return out


def _lacking(a, b) -> str:
    """"run A has", "run B has" or "runs A and B have": the runs whose table is None."""
    missing = [x for x, r in (("A", a), ("B", b)) if r is None]
    return f"run {missing[0]} has" if len(missing) == 1 else "runs A and B have"


def _yes(value) -> str:
    return {"true": "yes", "false": "no"}.get(str(value).strip().lower(), str(value))


def _section_simulation(a: Run, b: Run, names: dict[str, str]) -> list[str]:
    out = ["## P(on time) and P80", ""]
    sa, sb = a.get("simulation.csv"), b.get("simulation.csv")
    if sa is None or sb is None:
        which = _lacking(sa, sb)
        return out + [f"Not compared: {which} no simulation.csv (no Monte Carlo).", ""]
    same, _how = same_sampling(a, b)
    na, nb = a.iterations, b.iterations
    ca, cb = cdf_steps(a), cdf_steps(b)
    ra = {str(r["project_id"]): r for _, r in sa.iterrows()}
    rb = {str(r["project_id"]): r for _, r in sb.iterrows()}
    order = [p for p in ra if p != PORTFOLIO] + [p for p in rb if p not in ra and p != PORTFOLIO] + [PORTFOLIO]
    rows = []
    for pid in order:
        x, y = ra.get(pid), rb.get(pid)
        if x is None and y is None:
            continue
        if x is None or y is None:
            rows.append([pid, names.get(pid, ""), percent(float(x["p_on_time"])) if x is not None else "—",
                         percent(float(y["p_on_time"])) if y is not None else "—", "—",
                         month_text(x["finish_p80_m"]) if x is not None else "—",
                         month_text(y["finish_p80_m"]) if y is not None else "—", "—", "only in " + ("A" if y is None
                                                                                                     else "B")])
            continue
        pa, pb = float(x["p_on_time"]), float(y["p_on_time"])
        m_a, m_b = x["finish_p80_m"], y["finish_p80_m"]
        d_m = (int(m_b) - int(m_a)) if m_a is not None and m_b is not None else None
        p_beyond = abs(pb - pa) > tol.proportion_tolerance(pb, nb, pa, na)
        q_beyond = False
        if d_m:
            band = tol.band_tolerance(0.8, na, nb)
            if pid in ca and pid in cb:
                q_beyond = not (tol.quantile_consistent(int(m_b), 0.8, lambda m: cdf_at(ca[pid], m), band)
                                and tol.quantile_consistent(int(m_a), 0.8, lambda m: cdf_at(cb[pid], m), band))
            else:
                q_beyond = abs(d_m) > 1
        if same:
            verdict = "changed" if (pb != pa or d_m) else ""
        else:
            verdict = "beyond noise" if (p_beyond or q_beyond) else ("within noise" if (pb != pa or d_m) else "")
        label = names.get(pid, "") if pid != PORTFOLIO else "all projects on time"
        rows.append([pid, label, percent(pa), percent(pb), f"{100 * (pb - pa):+.1f}", month_text(m_a),
                     month_text(m_b), ("0" if d_m == 0 else f"{d_m:+d}") if d_m is not None else "—", verdict])
    out += [markdown_table(["Project", "名称", "P(on time) A", "P(on time) B", "Change (points)", "P80 A", "P80 B",
                            "P80 moved (months)", "Verdict"], rows, right={4, 7}), ""]
    if same:
        out += ["Both runs drew the same random numbers (same seed and iterations): every difference is a "
                "real change of the inputs or the code.", ""]
    else:
        out += [f"The runs drew different random numbers ({na:,} and {nb:,} iterations): \"within noise\" means the "
                "change is inside the sampling error (4 standard errors, see docs/regression.md).", ""]
    return out


def _section_funding(a: Run, b: Run) -> list[str]:
    out = ["## Spending by year", ""]
    fa, fb = a.get("funding.csv"), b.get("funding.csv")
    if fa is None or fb is None:
        which = _lacking(fa, fb)
        return out + [f"Not compared: {which} no funding.csv (no plan).", ""]

    def table(frame):
        return {(int(r["year"]), str(r["source"])): (float(r["spend"]), r["cap"]) for _, r in frame.iterrows()}

    ta, tb = table(fa), table(fb)
    sources = []
    for _y, s in list(ta) + list(tb):
        if s not in sources:
            sources.append(s)
    any_change = False
    for source in sources:
        years = sorted({y for y, s in list(ta) + list(tb) if s == source})
        rows = []
        total_a = sum(ta.get((y, source), (0.0, None))[0] for y in years)
        total_b = sum(tb.get((y, source), (0.0, None))[0] for y in years)
        for y in years:
            sa_, ca_ = ta.get((y, source), (0.0, math.nan))
            sb_, cb_ = tb.get((y, source), (0.0, math.nan))
            cap_changed = not (_same_cap(ca_, cb_))
            if abs(sb_ - sa_) >= 0.005 or cap_changed:
                rows.append([str(y), f"{sa_:,.2f}", f"{sb_:,.2f}", f"{sb_ - sa_:+,.2f}",
                             f"{_cap(ca_)} → {_cap(cb_)}" if cap_changed else _cap(cb_)])
        if rows:
            any_change = True
            out += [f"**{source}**: total {total_a:,.2f} → {total_b:,.2f} 亿元 ({total_b - total_a:+,.2f})", ""]
            out += [markdown_table(["Year", "Spend A", "Spend B", "Moved", "Cap"], rows, right={1, 2, 3}), ""]
    if not any_change:
        out += ["Spending per year and source is unchanged.", ""]
    else:
        out += ["Amounts in 亿元 (100 million yuan); only the years that changed are listed.", ""]
    return out


def _same_cap(x, y) -> bool:
    nx, ny = x != x, y != y
    return (nx and ny) or (not nx and not ny and abs(float(x) - float(y)) < 1e-9)


def _cap(x) -> str:
    return "no cap" if x != x else f"{float(x):,.2f}"


def compare_runs(folder_a, folder_b) -> str:
    """Markdown: what changed from run A to run B."""
    a, b = load_run(folder_a), load_run(folder_b)
    names = _names(a, b)
    out = [f"# Comparison: {a.scenario} (A) → {b.scenario} (B)", "",
           f"- A: `{folder_a}` (written {a.manifest.get('written_at', '—')})",
           f"- B: `{folder_b}` (written {b.manifest.get('written_at', '—')})", ""]
    out += _section_inputs(a, b)
    out += _section_plan(a, b, names)
    out += _section_simulation(a, b, names)
    out += _section_funding(a, b)
    return "\n".join(out).rstrip() + "\n"
