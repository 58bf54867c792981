"""report.md and report.html from a run folder.

``write_report(folder)`` reads the run folder, draws the six charts (see
``charts``) and writes:

- ``charts/<name>.svg``: one self-contained SVG per chart (glyphs as paths);
- ``report.md``: the headline, the project table and the charts as images;
- ``report.html``: the same, self-contained (inline CSS, inline SVG, the CJK
  glyphs of its text embedded as a font subset): it opens without a network
  and without a Chinese font on the reader's machine.

Output depends only on the run folder's files: the same folder gives the same bytes.
Sections whose files are missing (a schedule-only or simulate-only run) are
left out, and the report says which and why.
"""
from __future__ import annotations

import html
import math
import os
from pathlib import Path

from portfolio.runfiles import past_horizon_note

from .charts import CHARTS, FAIR_TEXT, inline_svg, on_time_colour, percent, render_charts
from .fonts import embedded_font_css
from .markdown import markdown_table
from .rundata import PLAN_FILES, MC_FILES, PORTFOLIO, Run, load_run, month_text

HOW_TO_READ = {
    "gantt": "Each block is a project; its bars are the planned phases (parallel phases on their own lines), "
             "coloured and patterned by funding source; hover over a bar for the phase's name and dates. Bars with "
             "a black outline and arrows are the driving path: the phases that follow one another without a gap up "
             "to the project's finish, so a slip in any of them moves the finish. The red line is the project's "
             "deadline, the dotted blue line the status date. The whisker below spans the simulated P50–P90 finish "
             "and ◆ marks P80: a ◆ right of the red line means more than a 20% chance of missing the deadline. "
             "\"late in the plan\": the plan itself finishes after the deadline.",
    "s-curve": "One small chart per project, earliest deadline first and least likely on time first: the line is the "
               "chance that the project is finished by the end of each month. Where it crosses the red deadline "
               "line is its chance of being on time (written beside it); where it crosses the dotted 80% line is its "
               "P80 finish. Each panel has its own years.",
    "funding": "Bars are the planned spend per year of each funding source in 亿元 (100 million yuan); the black "
               "ticks are the annual caps. A bar up against its tick is a year in which money, not the network, "
               "sets the pace; a red outline marks spend above the cap.",
    "on-time": "The share of simulated futures in which each project finishes in or before its deadline month, "
               "grouped by deadline (earliest first): green ≥ 80%, amber 50–80%, red < 50%, the value written at "
               "each bar. A group's expected misses is the number of its projects that miss, on average.",
    "risk-drivers": "Top: each register risk's bar is the extra delay the projects have, on average, in the "
                    "futures where the risk occurs compared with those where it does not, in project-months (months "
                    "late added up over the projects: 10 is, say, two projects each 5 months later); the label says "
                    "how often it occurs. Bottom: the phases whose duration moves their project's finish most "
                    "(rank correlation from −1 to 1): shortening them pays off most.",
    "criticality": "For each project below 80% on time: the phases that drive its finish in some simulated futures "
                   "but not in others, with the share of futures in which they do. A phase near 100% is the one to "
                   "watch; two phases with similar shares compete, and speeding up one only helps if the other "
                   "keeps pace. Phases that drive the finish in every future are the outlined bars of the Gantt.",
}
NEEDS = {
    "gantt": "schedule.csv",
    "s-curve": "distribution.csv",
    "funding": "funding.csv",
    "on-time": "simulation.csv",
    "risk-drivers": "risks.csv or criticality.csv",
    "criticality": "criticality.csv",
}


# ---------------------------------------------------------------- content shared by both formats


def _num(value, digits: int = 1) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(value):
        return "—"
    return f"{value:,.{digits}f}"


def project_table(run: Run) -> list[dict]:
    """One dict per project with what the summary table shows (text cells, plus flags for colours)."""
    projects = run.get("projects.csv")
    sim = run.project_rows()
    rows: dict[str, dict] = {}
    if projects is not None:
        for _, r in projects.iterrows():
            late = r["planned_finish_m"] is not None and r["deadline_m"] is not None \
                and int(r["planned_finish_m"]) > int(r["deadline_m"])
            rows[str(r["project_id"])] = {
                "project_id": str(r["project_id"]), "name_zh": r["name_zh"], "name_en": r["name_en"],
                "lead_agency": r["lead_agency"], "planned_finish": month_text(r["planned_finish_m"]),
                "deadline": month_text(r["deadline_m"]), "deadline_m": r["deadline_m"], "planned_late": late,
                "p_on_time": None, "p80": "—", "p80_late": False, "mean_delay": "—",
            }
    if sim is not None:
        for _, r in sim.iterrows():
            pid = str(r["project_id"])
            row = rows.setdefault(pid, {
                "project_id": pid, "name_zh": r["name_zh"], "name_en": "—", "lead_agency": "—",
                "planned_finish": "—", "deadline": month_text(r["deadline_m"]), "deadline_m": r["deadline_m"],
                "planned_late": False,
            })
            row["p_on_time"] = float(r["p_on_time"])
            row["p80"] = month_text(r["finish_p80_m"])
            dl = row.get("deadline_m")
            row["p80_late"] = r["finish_p80_m"] is not None and dl is not None and int(r["finish_p80_m"]) > int(dl)
            row["mean_delay"] = _num(r["mean_delay_months"], 1)
    return list(rows.values())


def missing_notes(run: Run) -> list[str]:
    notes = []
    if not run.has_plan:
        notes.append("This run has no plan files (schedule.csv, projects.csv, funding.csv; a `portfolio simulate` "
                      "run): the plan columns, the Gantt chart and the spend chart are left out.")
    if not run.has_simulation:
        notes.append("This run has no Monte Carlo files (simulation.csv, distribution.csv, criticality.csv, "
                     "risks.csv; a `portfolio schedule` run): the probabilities, P80 dates and the risk charts "
                     "are left out.")
    present = [f for f in PLAN_FILES + MC_FILES if run.has(f)]
    if run.has_plan and run.has_simulation or len(present) > 1:
        for name in PLAN_FILES if run.has_plan else ():
            if not run.has(name):
                notes.append(f"{name} is missing: what needs it is left out.")
        for name in MC_FILES if run.has_simulation else ():
            if not run.has(name):
                notes.append(f"{name} is missing: what needs it is left out.")
    past = past_horizon_note(run.simulation_settings)
    if past:
        notes.append(f"Warning: {past}; its finish shows as the horizon's last month, meaning then or later.")
    return notes


def headline(run: Run, table: list[dict]) -> dict:
    """The figures and sentences at the top of the report: per deadline group, how many projects miss and which."""
    out: dict = {"scenario": run.scenario, "cards": [], "sentences": [], "groups": deadline_groups(run, table),
                 "status": plan_status_words(run.optimizer)}
    groups = out["groups"]
    first = next((g for g in groups if "expected_misses" in g), None)
    if first is not None:
        n = len(first["simulated"])
        share = 1 - first["expected_misses"] / n if n else 1.0
        out["cards"].append((f"Due {first['deadline']}: expected misses", f"{first['expected_misses']:.1f} of {n}",
                             on_time_colour(share), "the number of these projects that miss, averaged over "
                                                    f"{run.iterations or 0:,} simulated futures"))
        below = len(first["below_half"])
        out["cards"].append((f"Due {first['deadline']}: below 50% on time", f"{below} of {n}",
                             on_time_colour(1 - below / n) if n else "", "projects more likely to miss than not"))
    if run.has("projects.csv"):
        planned = [r for r in table if r["planned_finish"] != "—"]
        on_time = [r for r in planned if not r["planned_late"]]
        colour = on_time_colour(len(on_time) / len(planned)) if planned else ""
        out["cards"].append(("On time in the plan", f"{len(on_time)} of {len(planned)}", colour,
                             "projects whose planned finish meets the deadline, with most likely durations"))
    opt = run.optimizer
    if opt:
        status = str(opt.get("status", "—")).lower()
        word = {"optimal": "proven optimal", "feasible": "not proven optimal"}.get(status, status)
        parts = []
        gap = opt.get("gap")
        if _is_number(gap) and status != "optimal":
            parts.append(f"gap {100 * gap:.1f}%")
        if _is_number(opt.get("seconds")):
            parts.append(f"{opt['seconds']:.1f} s")
        out["cards"].append(("Plan", word, "" if status == "optimal" else FAIR_TEXT, " · ".join(parts) or "CP-SAT"))

    out["sentences"] += [group_sentence(g) for g in groups[:1]]  # the planner's question; the table has the rest
    if out["status"]:
        out["sentences"].append(out["status"])
    risks = run.get("risks.csv")
    if risks is not None and len(risks) and risks["contribution_months"].notna().any():
        top = risks.sort_values("contribution_months", ascending=False, kind="stable").iloc[0]
        out["sentences"].append(
            f"Largest risk driver: {top['name']} ({top['risk_id']}): when it occurs, the projects are late by "
            f"{float(top['contribution_months']):+.1f} months more in total, on average.")
    return out


OBJECTIVE_WORDS = {
    "weighted_lateness": "priority-weighted months late",
    "weighted_finish": "priority-weighted sum of finish months",
    "makespan": "months until the last activity ends",
    "weighted_on_time": "priority-weighted number of projects on time",
}


def deadline_groups(run: Run, table: list[dict]) -> list[dict]:
    """Per deadline month (earliest first): the projects due then and what the simulation says about them.

    ``expected_misses`` is the sum of the projects' P(late): the number of them that miss, on average over the
    simulated futures. ``below_half`` are the projects more likely to miss than not, least likely first.
    """
    groups: dict[int, list[dict]] = {}
    for row in table:
        if row.get("deadline_m") is not None:
            groups.setdefault(int(row["deadline_m"]), []).append(row)
    out = []
    for deadline in sorted(groups):
        rows = groups[deadline]
        simulated = [r for r in rows if r.get("p_on_time") is not None]
        group = {"deadline": month_text(deadline), "deadline_m": deadline, "projects": rows,
                 "planned_late": [r for r in rows if r.get("planned_late")],
                 "planned": [r for r in rows if r.get("planned_finish", "—") != "—"]}
        if simulated:
            group["expected_misses"] = sum(1.0 - r["p_on_time"] for r in simulated)
            group["below_half"] = sorted((r for r in simulated if r["p_on_time"] < 0.5),
                                         key=lambda r: (r["p_on_time"], r["project_id"]))
            group["simulated"] = simulated
        out.append(group)
    return out


def group_sentence(group: dict) -> str:
    """One deadline group in words: how many miss, which, how likely; and what the plan itself says."""
    n = len(group["projects"])
    parts = [f"Due {group['deadline']}: {n} project{'s' if n != 1 else ''}."]
    if "expected_misses" in group:
        below = group["below_half"]
        parts.append(f"On average {group['expected_misses']:.1f} of {len(group['simulated'])} miss it; "
                     f"{len(below)} {'is' if len(below) == 1 else 'are'} more likely to miss than not "
                     "(below 50% on time, named in the table).")
    if group["planned"]:
        late = group["planned_late"]
        parts.append(f"In the plan {len(group['planned']) - len(late)} of {len(group['planned'])} finish on time"
                     + (" (late: " + ", ".join(f"{r['name_zh']} {r['planned_finish']}" for r in late) + ")"
                        if late else "") + ".")
    return " ".join(parts)


DEADLINE_HEADER = ["Deadline", "Projects", "Expected misses", "Below 50% on time", "Late in the plan"]


def deadline_row_cells(group: dict) -> list[str]:
    """The cells of one deadline group in the headline table (text; the HTML adds pills)."""
    below = group.get("below_half")
    return [group["deadline"], str(len(group["projects"])),
            f"{group['expected_misses']:.1f}" if "expected_misses" in group else "—",
            "—" if below is None else
            (", ".join(f"{r['name_zh']} {percent(r['p_on_time'])}" for r in below) or "none"),
            ", ".join(r["name_zh"] for r in group["planned_late"]) or ("none" if group["planned"] else "—")]


def plan_status_words(optimizer: dict) -> str:
    """The optimizer's status as a planner reads it; tolerant of older manifests that lack fields."""
    status = str(optimizer.get("status") or "").lower()
    if not status:
        return ""
    stages = [s for s in optimizer.get("stages") or [] if isinstance(s, dict)]
    first = stages[0] if stages else {}
    name = str(first.get("name") or optimizer.get("objective_name") or "")
    words = OBJECTIVE_WORDS.get(name, name.replace("_", " "))
    value, bound = first.get("value", optimizer.get("objective")), first.get("bound", optimizer.get("best_bound"))
    seconds = optimizer.get("seconds")
    took = f" in {float(seconds):.0f} s" if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else ""
    if status == "optimal":
        text = f"The plan is proven optimal{took}: no plan under these caps and links does better"
        text += f" on {words}." if words else "."
    elif status == "feasible":
        text = f"The plan is the best found{took} but not proven optimal"
        if _is_number(value) and _is_number(bound) and words:
            text += f": {_num(value, 0)} {words}, where no plan can go below {_num(bound, 0)}"
        text += "; a longer time limit may find a better one."
    else:
        text = f"The optimizer's status is {status}."
    reproducible = optimizer.get("reproducible")
    if reproducible is True:
        text += " A rerun gives the same plan."
    elif reproducible is False:
        text += " A rerun may give a different plan."
    return text


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


# ---------------------------------------------------------------- Markdown


def render_markdown(run: Run, charts: dict[str, str]) -> str:
    table = project_table(run)
    head = headline(run, table)
    out = [f"# Portfolio report: {run.scenario}", ""]
    facts = [f"{label}: **{value}** ({sub})" for label, value, _c, sub in head["cards"]]
    out += [f"- {f}" for f in facts] + [""]
    if any("expected_misses" in g for g in head["groups"]):
        out += [markdown_table(DEADLINE_HEADER, [deadline_row_cells(g) for g in head["groups"]], right={1, 2}), ""]
    for sentence in head["sentences"]:
        out += [sentence, ""]
    for note in missing_notes(run):
        out += [f"> {note}", ""]
    out += ["## Projects", ""]
    header = ["Project", "项目名称", "Name", "Lead agency", "Planned finish", "Deadline", "P(on time)", "P80 finish",
              "Mean delay (months)"]
    rows = [[r["project_id"], r["name_zh"], r["name_en"], r["lead_agency"], r["planned_finish"], r["deadline"],
             percent(r["p_on_time"]) if r.get("p_on_time") is not None else "—", r["p80"], r["mean_delay"]]
            for r in table]
    port = run.portfolio_row()
    if port is not None:
        rows.append(["**PORTFOLIO**", str(port["name_zh"] or "全部项目"), "all on time together", "", "",
                     month_text(port["deadline_m"]), f"**{percent(float(port['p_on_time']))}**",
                     month_text(port["finish_p80_m"]), _num(port["mean_delay_months"], 1)])
    out += [markdown_table(header, rows, right={6, 8}), ""]
    out += ["P(on time): the share of simulated futures in which the project finishes in or before its deadline "
            "month. P80 finish: the month by which it is finished in 80% of them. Planned finish: the optimizer's "
            "plan with most-likely durations.", ""]
    for number, (name, title) in enumerate(CHARTS, start=1):
        out += [f"## {number}. {title}", ""]
        if name in charts:
            out += [f"*How to read this:* {HOW_TO_READ[name]}", "", f"![{title}](charts/{name}.svg)", ""]
        else:
            out += [f"*Not drawn: this run has no {NEEDS[name]}.*", ""]
    out += run_details_markdown(run)
    return "\n".join(out).rstrip() + "\n"


def optimizer_text(optimizer: dict) -> str:
    """The optimizer's settings and result in a line, without its per-stage records (see ``stage_lines``)."""
    parts = []
    for key, value in sorted(optimizer.items()):
        if key == "stages":
            continue
        if isinstance(value, (list, tuple)):
            value = "; ".join(str(v) for v in value) or "none"
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
        parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts)


def stage_lines(optimizer: dict) -> list[str]:
    """One line per lexicographic objective stage: value, proven bound, optimal or not, time."""
    lines = []
    for stage in optimizer.get("stages") or []:
        if not isinstance(stage, dict):
            continue
        name = str(stage.get("name", "?"))
        text = f"{name}: {_num(stage.get('value'), 0)} (bound {_num(stage.get('bound'), 0)}"
        text += ", proven optimal)" if stage.get("optimal") else ", not proven)"
        if _is_number(stage.get("seconds")):
            text += f" in {float(stage['seconds']):.1f} s"
        lines.append(text)
    return lines


def run_details_markdown(run: Run) -> list[str]:
    m = run.manifest
    out = ["## Run details", ""]
    out.append(f"- Scenario file: `{m.get('scenario_file') or '—'}`; status date {month_text(run.status_date)}; "
               f"written at {m.get('written_at') or '—'}")
    if run.optimizer:
        out.append("- Optimizer: " + optimizer_text(run.optimizer))
        out += [f"  - stage {s}" for s in stage_lines(run.optimizer)]
    if run.simulation_settings:
        out.append("- Simulation: " + ", ".join(f"{k} {v}" for k, v in sorted(run.simulation_settings.items())))
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    if versions:
        out.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    out.append("")
    inputs = m.get("inputs") if isinstance(m.get("inputs"), dict) else {}
    if inputs:
        out += [markdown_table(["Input file", "sha256"], [[k, f"`{v}`"] for k, v in sorted(inputs.items())]), ""]
    return out


# ---------------------------------------------------------------- HTML

CSS = """
:root { --ink:#1c2833; --muted:#5d6d7e; --line:#dfe3e8; --bg:#f5f7fa; --good:#2e7d32; --fair:#b26a00;
        --poor:#c62828; --accent:#3f6fb5; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 "DejaVu Sans", "Segoe UI", "Helvetica Neue", Arial, "PortfolioCJK", "Noto Sans CJK SC",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
header.top { background:#fff; border:1px solid var(--line); border-radius:10px; padding:22px 26px; }
.eyebrow { margin:0; color:var(--muted); font-size:13px; letter-spacing:.04em; text-transform:uppercase; }
h1 { margin:4px 0 16px; font-size:28px; font-weight:600; }
h2 { margin:0 0 6px; font-size:19px; font-weight:600; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(210px, 1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:8px; padding:12px 14px; background:#fbfcfd; }
.card .label { color:var(--muted); font-size:12.5px; }
.card .value { font-size:26px; font-weight:600; line-height:1.25; margin:2px 0; font-variant-numeric:tabular-nums; }
.card .sub { color:var(--muted); font-size:12.5px; }
.lede { margin:14px 0 0; padding-left:20px; font-size:14.5px; }
.lede li { margin:3px 0; }
table.headline { margin-top:14px; font-size:14px; }
table.headline .who { display:inline-block; margin:1px 10px 1px 0; white-space:nowrap; }
table.headline .pill { min-width:48px; font-size:12.5px; }
.note { margin:10px 0 0; padding:8px 12px; background:#fff8e1; border-left:4px solid #f0a30a; font-size:14px; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:20px 24px; margin-top:18px; }
.how { margin:0 0 12px; color:var(--muted); font-size:13.5px; max-width:980px; }
.how strong { color:var(--ink); font-weight:600; }
figure { margin:0; }
svg.chart { display:block; width:100%; height:auto; }
.omitted { color:var(--muted); font-style:italic; margin:4px 0 0; }
table { border-collapse:collapse; width:100%; font-size:13.5px; }
th, td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12.5px; border-bottom:2px solid var(--line); white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.month { white-space:nowrap; font-variant-numeric:tabular-nums; }
tr.total td { border-top:2px solid var(--line); border-bottom:none; font-weight:600; }
.zh, .agency, .cjk { font-family: "PortfolioCJK", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
                      "PingFang SC", sans-serif; }
.zh { font-weight:600; font-size:14px; }
.en { color:var(--muted); font-size:12.5px; }
.agency { font-size:12.5px; max-width:220px; }
.late { color:var(--poor); font-weight:600; }
.pill { display:inline-block; min-width:58px; padding:1px 8px; border-radius:10px; color:#fff; font-weight:600;
        text-align:center; }
.pill.good { background:var(--good); } .pill.fair { background:#ef9a1a; } .pill.poor { background:var(--poor); }
.pill.total { background:var(--ink); }
.caption { color:var(--muted); font-size:12.5px; margin:10px 0 0; }
details summary { cursor:pointer; color:var(--accent); margin-top:12px; }
code, .mono { font-family:"DejaVu Sans Mono", Consolas, monospace; font-size:12px; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; margin:8px 0 12px; font-size:13.5px; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
footer { color:var(--muted); font-size:12px; margin-top:18px; text-align:center; }
@page { size: A4; margin: 12mm 10mm; }
@media print {
  body { background:#fff; font-size:10.5pt; }
  main { max-width:none; padding:0; }
  section, header.top { border:none; border-radius:0; padding:0; margin-top:8mm; }
  section { break-before:auto; }
  figure, tr, .card, table.headline { break-inside:avoid; }
  h2 { break-after:avoid; }
  .pill { -webkit-print-color-adjust:exact; print-color-adjust:exact; }
  details > *:not(summary) { display:none; }
  a { color:inherit; text-decoration:none; }
}
"""

_PILL = {"#2e7d32": "good", "#ef9a1a": "fair", "#c62828": "poor"}


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _pill(p: float | None, total: bool = False) -> str:
    if p is None:
        return "—"
    cls = "total" if total else _PILL.get(on_time_colour(p), "")
    return f'<span class="pill {cls}">{_e(percent(p))}</span>'


def render_html(run: Run, charts: dict[str, str]) -> str:
    table = project_table(run)
    head = headline(run, table)
    body: list[str] = []
    scenario_file = run.manifest.get("scenario_file") or ""
    body.append('<header class="top">')
    body.append(f'<p class="eyebrow">Portfolio report{" · " + _e(scenario_file) if scenario_file else ""}</p>')
    body.append(f"<h1>{_e(run.scenario)}</h1>")
    body.append('<div class="cards">')
    for label, value, colour, sub in head["cards"]:
        style = f' style="color:{colour}"' if colour else ""
        body.append(f'<div class="card"><div class="label">{_e(label)}</div>'
                    f'<div class="value"{style}>{_e(value)}</div><div class="sub">{_e(sub)}</div></div>')
    body.append("</div>")
    if any("expected_misses" in g for g in head["groups"]):
        body.append(deadline_table_html(head["groups"]))
    if head["sentences"]:
        body.append('<ul class="lede">' + "".join(f"<li>{_e(s)}</li>" for s in head["sentences"]) + "</ul>")
    for note in missing_notes(run):
        body.append(f'<p class="note">{_e(note.replace("`", ""))}</p>')
    body.append("</header>")

    body.append('<section id="projects"><h2>Projects</h2>')
    body.append('<p class="how"><strong>How to read this:</strong> P(on time) is the share of simulated futures in '
                'which the project finishes in or before its deadline month; P80 is the month by which it is '
                'finished in 80% of them. Red dates are after the deadline.</p>')
    plan, sim = run.has("projects.csv"), run.has_simulation  # columns without data are left out
    head_cells = ["<th>Project</th>"] + (["<th>Lead agency</th>", "<th>Planned finish</th>"] if plan else [])
    head_cells += ["<th>Deadline</th>"]
    head_cells += (['<th class="num">P(on time)</th>', "<th>P80 finish</th>",
                    '<th class="num">Mean delay<br>(months)</th>'] if sim else [])
    body.append("<table><thead><tr>" + "".join(head_cells) + "</tr></thead><tbody>")
    for r in table:
        planned = f'<span class="late">{_e(r["planned_finish"])}</span>' if r["planned_late"] else _e(
            r["planned_finish"])
        p80 = f'<span class="late">{_e(r["p80"])}</span>' if r.get("p80_late") else _e(r.get("p80", "—"))
        english = f'{_e(r["name_en"])} · ' if r["name_en"] and r["name_en"] != "—" else ""
        cells = [f'<td><div class="zh">{_e(r["name_zh"])}</div><div class="en">{english}'
                 f'<span class="mono">{_e(r["project_id"])}</span></div></td>']
        if plan:
            cells += [f'<td class="agency">{_e(r["lead_agency"])}</td>', f'<td class="month">{planned}</td>']
        cells += [f'<td class="month">{_e(r["deadline"])}</td>']
        if sim:
            cells += [f'<td class="num">{_pill(r.get("p_on_time"))}</td>', f'<td class="month">{p80}</td>',
                      f'<td class="num">{_e(r.get("mean_delay", "—"))}</td>']
        body.append("<tr>" + "".join(cells) + "</tr>")
    port = run.portfolio_row()
    if port is not None:
        body.append(
            f'<tr class="total"><td><div class="zh">{_e(port["name_zh"] or "全部项目")}</div>'
            f'<div class="en">all projects on time together, each by its own deadline · '
            f'<span class="mono">{PORTFOLIO}</span></div></td>'
            + ("<td></td><td></td>" if plan else "")
            + f'<td class="month">{_e(month_text(port["deadline_m"]))}</td>'
            f'<td class="num">{_pill(float(port["p_on_time"]), total=True)}</td>'
            f'<td class="month">{_e(month_text(port["finish_p80_m"]))}</td>'
            f'<td class="num">{_e(_num(port["mean_delay_months"], 1))}</td></tr>')
    body.append("</tbody></table></section>")

    for number, (name, title) in enumerate(CHARTS, start=1):
        body.append(f'<section id="section-{name}"><h2>{number}. {_e(title)}</h2>')
        if name in charts:
            body.append(f'<p class="how"><strong>How to read this:</strong> {_e(HOW_TO_READ[name])}</p>')
            body.append(f"<figure>{inline_svg(charts[name], f'c{number}', f'chart-{name}', title)}</figure>")
        else:
            body.append(f'<p class="omitted">Not drawn: this run has no {_e(NEEDS[name])}.</p>')
        body.append("</section>")

    body.append(run_details_html(run))
    body.append('<footer>Written by <span class="mono">portfolio report</span> from the files of this run '
                "folder; charts are vector graphics with their text drawn as outlines.</footer>")
    text_for_font = "".join(body)
    css = CSS + embedded_font_css(_visible_text(text_for_font))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Portfolio report: {_e(run.scenario)}</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def deadline_table_html(groups: list[dict]) -> str:
    """The headline table: one row per deadline month, the numbers a planner asks for first."""
    out = ['<table id="by-deadline" class="headline"><thead><tr>'
           + "".join(f'<th{" class=num" if i in (1, 2) else ""}>{_e(h)}</th>' for i, h in enumerate(DEADLINE_HEADER))
           + "</tr></thead><tbody>"]
    for g in groups:
        misses = f"{g['expected_misses']:.1f}" if "expected_misses" in g else "—"
        below = g.get("below_half")
        if below is None:
            below_html = "—"
        else:
            below_html = " ".join(f'<span class="who"><span class="zh">{_e(r["name_zh"])}</span> '
                                  f'{_pill(r["p_on_time"])}</span>' for r in below) or "none"
        late = ", ".join(f'<span class="zh late">{_e(r["name_zh"])}</span>' for r in g["planned_late"])
        late = late or ("none" if g["planned"] else "—")
        out.append(f'<tr data-deadline="{_e(g["deadline"])}"><td class="month"><strong>{_e(g["deadline"])}</strong></td>'
                   f'<td class="num" data-projects>{len(g["projects"])}</td>'
                   f'<td class="num" data-expected-misses><strong>{misses}</strong></td>'
                   f'<td data-below-half="{len(below or [])}">{below_html}</td><td>{late}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _visible_text(markup: str) -> str:
    """The characters of the HTML outside the inline SVG (which draws its own glyphs)."""
    import re

    return re.sub(r"<svg\b.*?</svg>", "", markup, flags=re.S)


def run_details_html(run: Run) -> str:
    m = run.manifest
    facts = [("Scenario file", m.get("scenario_file") or "—"), ("Status date", month_text(run.status_date)),
             ("Written at", m.get("written_at") or "—")]
    if run.optimizer:
        facts.append(("Optimizer", optimizer_text(run.optimizer)))
        facts += [(f"Stage {k}", line) for k, line in enumerate(stage_lines(run.optimizer), start=1)]
    if run.simulation_settings:
        facts.append(("Simulation", ", ".join(f"{k} {v}" for k, v in sorted(run.simulation_settings.items()))))
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    if versions:
        facts.append(("Versions", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))))
    out = ['<section id="run-details"><h2>Run details</h2><dl class="facts">']
    out += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts]
    out.append("</dl>")
    inputs = m.get("inputs") if isinstance(m.get("inputs"), dict) else {}
    if inputs:
        out.append("<details><summary>Input files and their sha256</summary><table><thead><tr><th>File</th>"
                   "<th>sha256</th></tr></thead><tbody>")
        out += [f'<tr><td>{_e(k)}</td><td class="mono">{_e(v)}</td></tr>' for k, v in sorted(inputs.items())]
        out.append("</tbody></table></details>")
    schedule = run.get("schedule.csv")
    if schedule is not None:
        out.append(f"<details><summary>The plan: all {len(schedule)} activities</summary><table><thead><tr>"
                   "<th>Activity</th><th>Phase</th><th>Start</th><th>Finish</th><th class=\"num\">Months</th>"
                   "<th class=\"num\">Cost (亿元)</th><th>Funding</th></tr></thead><tbody>")
        for _, r in schedule.iterrows():
            out.append(f'<tr><td class="mono">{_e(r["activity_id"])}</td><td>{_e(r["name"])}</td>'
                       f'<td class="month">{_e(month_text(r["start_m"]))}</td>'
                       f'<td class="month">{_e(month_text(r["finish_m"]))}</td>'
                       f'<td class="num">{_e(_num(r["duration"], 0))}</td><td class="num">{_e(_num(r["cost"], 2))}</td>'
                       f'<td>{_e(r["funding_source"])}</td></tr>')
        out.append("</tbody></table></details>")
    out.append("</section>")
    return "\n".join(out)


# ---------------------------------------------------------------- writing


def _write_text(path: Path, text: str) -> None:
    """Write beside, then rename: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # after Ctrl-C or a full disk: no half file left beside


def parse_window(text: str) -> tuple[int, int]:
    """``FROM:TO`` (two YYYY-MM months, FROM before TO) as absolute months; InputError naming the option."""
    from portfolio.errors import InputError, InputProblem
    from portfolio.months import parse_month

    parts = str(text).split(":")
    try:
        if len(parts) != 2:
            raise ValueError("two months separated by a colon")
        first, last = (parse_month(part.strip()) for part in parts)
    except ValueError as exc:
        raise InputError(InputProblem("--gantt-window", 0, 0, f"expected FROM:TO as YYYY-MM:YYYY-MM, got {text!r} "
                                                         f"({exc})")) from None
    if last < first:
        raise InputError(InputProblem("--gantt-window", 0, 0, f"{text!r}: TO is before FROM"))
    return first, last


def write_report(folder, gantt_window: tuple[int, int] | None = None) -> dict[str, Path]:
    """(Re)write report.md, report.html and charts/*.svg in a run folder; returns what was written.

    ``gantt_window``: the first and last month (absolute) of the Gantt's time axis; None = the default window.
    """
    run = load_run(folder)
    charts = render_charts(run, gantt_window)
    folder = Path(folder)
    chart_dir = folder / "charts"
    chart_dir.mkdir(exist_ok=True)
    written: dict[str, Path] = {}
    for name, _title in CHARTS:
        path = chart_dir / f"{name}.svg"
        if name in charts:
            _write_text(path, charts[name])
            written[f"charts/{name}.svg"] = path
        elif path.exists():
            path.unlink()  # a chart of an earlier report this run no longer supports
    md = render_markdown(run, charts)
    page = render_html(run, charts)
    _write_text(folder / "report.md", md)
    _write_text(folder / "report.html", page)
    written["report.md"] = folder / "report.md"
    written["report.html"] = folder / "report.html"
    return written
