"""The summary of a sweep: one table of every variant's figures, read back from their run folders, as Markdown.

The sweep itself (plans, Monte Carlo, the variant folders and the summary files) is ``runs.sweep``; the summary's
HTML page and charts are ``report.sweep_html``. A sweep result here is anything with ``out`` and ``outcomes`` (each
with ``variant``, ``scenario``, ``folder``, ``plan_status``, ``message``, ``simulation``), as ``runs.sweep`` makes.
"""
from __future__ import annotations

from .charts import percent
from .markdown import markdown_table
from .sweep_html import expected_misses_by_first_deadline, signal_sentences, sweep_table

SUMMARY_COLUMNS = ["variant", "scenario", "factors", "plan_status", "project_id", "name_zh", "deadline",
                   "planned_finish", "p_on_time", "finish_p80", "mean_delay_months"]
PORTFOLIO = "PORTFOLIO"


def _factors_text(v) -> str:
    return "; ".join(f"{label} x{f:g}" for label, f in v.factors)


def summary_frame(result):
    """One row per variant and project (and PORTFOLIO): the plan status, planned finish and the Monte Carlo
    figures exactly as written in the variant's projects.csv and simulation.csv."""
    import pandas as pd

    from .rundata import load_run

    rows = []
    for o in result.outcomes:
        v = o.variant
        base = {"variant": v.name, "scenario": o.scenario, "factors": _factors_text(v), "plan_status": o.plan_status}
        if not o.folder:
            for p in v.portfolio.projects:
                rows.append({**base, "project_id": p.project_id, "name_zh": p.name_zh})
            continue
        run = load_run(result.out / o.folder)
        planned = {str(r.project_id): str(r.planned_finish) for r in run.raw["projects.csv"].itertuples()}
        for r in run.raw["simulation.csv"].itertuples():
            rows.append({**base, "project_id": r.project_id, "name_zh": r.name_zh, "deadline": r.deadline,
                         "planned_finish": planned.get(str(r.project_id), ""), "p_on_time": r.p_on_time,
                         "finish_p80": r.finish_p80, "mean_delay_months": r.mean_delay_months})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).fillna("")


def summary_markdown(result, frame) -> str:
    outcomes = result.outcomes
    done = [o for o in outcomes if o.folder]
    lines = [f"# Sweep: {len(outcomes)} variants", ""]
    settings = {(o.simulation.info["seed"], o.simulation.info["iterations"], o.simulation.info["engine"])
                for o in done}
    if len(settings) == 1:
        seed, n, engine = next(iter(settings))
        lines += [f"Every variant is a full run (plan, {n:,} Monte Carlo iterations, report) in its own folder. All "
                  f"drew the same random numbers (seed {seed}, engine {engine}), so a difference between two variants "
                  "is the effect of their inputs, not sampling noise.", ""]
    elif settings:
        lines += ["Every variant is a full run in its own folder. The variants drew different random numbers "
                  "(seeds or iterations differ): compare them with `portfolio compare`, which marks what is beyond "
                  "sampling noise.", ""]
    variants = [o.variant.name for o in done]
    factors = {o.variant.name: "; ".join(f"{label} ×{f:g}" for label, f in o.variant.factors) for o in outcomes}
    signal = signal_sentences(sweep_table(frame, variants), variants, factors) if done else []
    lines += [f"- {s}" for s in signal] + ([""] if signal else [])
    rows = []
    for o in outcomes:
        if o.folder:
            sim = o.simulation.simulation
            row = sim.iloc[-1]
            misses = expected_misses_by_first_deadline(frame, o.variant.name)
            rows.append([o.variant.name, _factors_text(o.variant) or "—", o.plan_status,
                         _on_time_in_plan(frame, o.variant.name),
                         f"{misses[1]:.1f} of {misses[2]} due {misses[0]}" if misses else "—",
                         percent(float(row.p_on_time)), str(row.finish_p80), f"[{o.folder}]({o.folder}/report.md)"])
        else:
            rows.append([o.variant.name, _factors_text(o.variant) or "—", o.plan_status, "—", "—", "—", "—",
                         "no folder"])
    lines += ["## Variants", "", markdown_table(["Variant", "Funding factors", "Plan", "On time in plan",
                                                 "Expected misses", "P(all on time together)", "Portfolio P80",
                                                 "Run folder"], rows), ""]
    failed = [o for o in outcomes if not o.folder]
    for o in failed:
        lines += [f"**{o.variant.name}** ({o.plan_status}):", "", o.message.strip(), ""]
    if done:
        projects = [p for p in frame.project_id.drop_duplicates() if p != PORTFOLIO] + [PORTFOLIO]
        lines += ["## P(on time) per project", "",
                  "Rows are variants, columns projects (PORTFOLIO: every project on time).", "",
                  _pivot(frame, done, projects, "p_on_time", lambda x: percent(float(x))), ""]
        lines += ["## P80 finish per project", "",
                  "The month by which the project is finished in 80% of the iterations.", "",
                  _pivot(frame, done, projects, "finish_p80", str), ""]
    return "\n".join(lines).rstrip() + "\n"


def _on_time_in_plan(frame, variant: str) -> str:
    rows = frame[(frame.variant == variant) & (frame.project_id != PORTFOLIO)]
    on_time = sum(1 for pf, dl in zip(rows.planned_finish, rows.deadline) if pf and dl and pf <= dl)
    return f"{on_time} of {len(rows)}"


def _pivot(frame, done, projects, column, fmt) -> str:
    header = ["Variant"] + projects
    rows = []
    for o in done:
        cells = frame[frame.variant == o.variant.name].set_index("project_id")[column]
        rows.append([o.variant.name] + [fmt(cells[p]) if p in cells.index and cells[p] != "" else "—"
                                        for p in projects])
    return markdown_table(header, rows, right=set(range(1, len(header))))


def summary_text(result) -> str:
    """A few lines for the terminal."""
    n = len(result.outcomes)
    lines = [f"{n} variants; summary: {result.out / 'summary.md'}"]
    for o in result.without_plan:
        lines.append(f"{o.variant.name}: {o.plan_status}")
    return "\n".join(lines)

