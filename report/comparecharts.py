"""The two charts of the comparison's HTML page: P(on time) A → B per project, and the finish shifts.

They answer the reviewer's questions at a glance: which projects did the change make less (or more) likely to
finish on time, is that beyond sampling error, and how many months did each P80 and planned finish move. Drawn
like the report's charts (report.charts): matplotlib, CJK names as outlines, the same bytes for the same runs.
Every mark is labelled in words, so the charts read without colour.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .charts import GRID, INK, MUTED, _figure, figure_svg, percent, wrap
from .fonts import GLYPH_MISSING, MissingFontError, chart_style
from .rundata import PORTFOLIO, Run, month_text

WORSE, BETTER, SAME = "#c62828", "#2e7d32", "#90a4ae"
P80_COLOUR, PLAN_COLOUR = "#3f6fb5", "#e07b2e"

CHART_TITLES = {
    "dumbbell": "P(on time) before and after",
    "shifts": "Finish shifts",
}
HOW_TO_READ = {
    "dumbbell": "One row per project, the largest fall first: the open circle is P(on time) in run A, the filled "
                "marker in run B, the line between them the change. A filled diamond and the words \"beyond "
                "sampling error\" mark the changes too large to be simulation noise. At the right of each row: P(on "
                "time) in A and in B and the change in percentage points; grey rows did not change.",
    "shifts": "For each project whose finish moved, how many months later (+) or earlier (−) it is in run B than "
              "in run A: the solid bar is the simulated P80 finish (the month by which it is finished in 80% of "
              "futures), the hatched bar the optimizer's planned finish. Projects whose finishes did not move are "
              "left out.",
}


# -- the numbers ---------------------------------------------------------------------------------------------

def _change_order(changes) -> list:
    """Projects in both runs, the largest fall of P(on time) first, the largest rise last; PORTFOLIO at the end."""
    both = [c for c in changes if c.pid != PORTFOLIO and c.p_a is not None and c.p_b is not None]
    both.sort(key=lambda c: (c.points, -c.p_a, c.pid))
    only = sorted((c for c in changes if c.pid != PORTFOLIO and (c.p_a is None or c.p_b is None)),
                  key=lambda c: c.pid)
    return both + only + [c for c in changes if c.pid == PORTFOLIO]


def _row_label(change) -> str:
    if change.pid == PORTFOLIO:
        return "all projects on time (PORTFOLIO)"
    return _wrapped(change.label, change.pid)


def _wrapped(label: str, pid: str) -> str:
    """The Chinese name on at most two lines, then the project ID."""
    return "\n".join(wrap(label, 36)[:2]) + f" ({pid})" if label else pid


def _points_text(points: float) -> str:
    return (f"{points:+.1f}" if abs(points) >= 0.05 else f"{points:+.2f}").replace("-", "−")


def _change_label(change) -> str:
    """The words at the right of a dumbbell row: the change and whether it is beyond sampling error."""
    if change.p_a is None or change.p_b is None:
        return change.verdict
    levels = f"{percent(change.p_a)} → {percent(change.p_b)}"
    if not change.points:
        return f"{percent(change.p_a)}, no change"
    beyond = "P(on time)" in change.beyond
    return (f"{levels} ({_points_text(change.points)} points, "
            + ("beyond sampling error)" if beyond else "within sampling error)"))


@dataclass(frozen=True)
class Shift:
    """One project's finish moves from A to B, in months (None: not in both runs)."""

    pid: str
    label: str
    p80: int | None
    p80_beyond: bool
    planned: int | None
    late_in_b: bool  # on time in plan A, late in plan B
    months: dict  # "P80" / "planned" -> (month in A, month in B)

    @property
    def key(self):
        return (-(self.p80 or 0), -(self.planned or 0), self.pid)


def finish_shifts(a: Run, b: Run, changes) -> list[Shift]:
    """Projects whose P80 or planned finish moved, the largest P80 delay first."""
    plans = [{str(r["project_id"]): r for _, r in frame.iterrows()} if frame is not None else {}
             for frame in (a.get("projects.csv"), b.get("projects.csv"))]
    by_pid = {c.pid: c for c in changes or [] if c.pid != PORTFOLIO}
    pids = list(by_pid) + [p for p in plans[1] if p not in by_pid]
    shifts = []
    for pid in pids:
        c = by_pid.get(pid)
        x, y = plans[0].get(pid), plans[1].get(pid)
        planned = None
        if x is not None and y is not None and x["planned_finish_m"] is not None and y["planned_finish_m"] is not None:
            planned = int(y["planned_finish_m"]) - int(x["planned_finish_m"])
        p80 = c.months if c is not None else None
        if not (p80 or planned):
            continue
        late = x is not None and y is not None and _true(x["on_time"]) and not _true(y["on_time"])
        label = c.label if c is not None else str(y["name_zh"]) if y is not None and "name_zh" in y else ""
        months = {"P80": (c.p80_a, c.p80_b) if c is not None else (None, None),
                  "planned": (x["planned_finish_m"] if x is not None else None,
                              y["planned_finish_m"] if y is not None else None)}
        shifts.append(Shift(pid, label, p80, c is not None and c.p80_beyond, planned, late, months))
    return sorted(shifts, key=lambda s: s.key)


def _true(value) -> bool:
    return str(value).strip().lower() == "true"


# -- the charts ----------------------------------------------------------------------------------------------

def dumbbell_chart(changes, scenario_a: str, scenario_b: str):
    """P(on time) in A (open circle) and B (filled; a diamond when beyond sampling error) per project."""
    from matplotlib.lines import Line2D

    rows = _change_order(changes)
    fig = _figure(1.5 + 0.3 * len(rows))
    ax = fig.add_subplot()
    titles = {}
    for i, c in enumerate(rows):
        gid = f"dumbbell-row-{i}"
        beyond = "P(on time)" in c.beyond
        colour = SAME if not c.points or c.p_a is None or c.p_b is None else WORSE if c.points < 0 else BETTER
        known = [p for p in (c.p_a, c.p_b) if p is not None]
        line = ax.plot(known, [i] * len(known), color=colour, linewidth=2.4, solid_capstyle="butt", zorder=1)[0]
        line.set_gid(gid)
        ink = MUTED if c.p_a is not None and c.p_b is not None and not c.points else INK  # moved rows stand out
        if c.p_a is not None:
            ax.plot([c.p_a], [i], marker="o", markersize=7, color=ink, markerfacecolor="white",
                    markeredgewidth=1.4, linestyle="none", zorder=3)
        if c.p_b is not None:
            ax.plot([c.p_b], [i], marker="D" if beyond else "o", markersize=6.5 if beyond else 5.5, color=ink,
                    linestyle="none", zorder=4)
        ax.text(1.02, i, _change_label(c), transform=ax.get_yaxis_transform(), va="center", fontsize=9,
                color=INK if beyond else MUTED, fontweight="bold" if beyond else "normal")
        titles[gid] = f"{c.pid} {c.label}: P(on time) {_change_label(c)}"
    if rows and rows[-1].pid == PORTFOLIO and len(rows) > 1:
        ax.axhline(len(rows) - 1.5, color=MUTED, linewidth=0.8)
    for x in (0.5, 0.8):
        ax.axvline(x, color=MUTED, linewidth=0.8, linestyle=":", zorder=0)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0%", "20%", "40%", "60%", "80%", "100%"])
    ax.set_ylim(len(rows) - 0.5, -0.6)
    ax.set_yticks(range(len(rows)), [_row_label(c) for c in rows], fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("probability of finishing by the deadline (share of simulated futures)")
    ax.set_title(f"P(on time) per project: run A ({scenario_a}) → run B ({scenario_b}), largest fall first")
    handles = [Line2D([], [], marker="o", color=INK, markerfacecolor="white", markeredgewidth=1.4, linestyle="none",
                      markersize=7, label=f"A: {scenario_a}"),
               Line2D([], [], marker="o", color=INK, linestyle="none", markersize=5.5,
                      label=f"B: {scenario_b}, within sampling error"),
               Line2D([], [], marker="D", color=INK, linestyle="none", markersize=6.5,
                      label=f"B: {scenario_b}, beyond sampling error"),
               Line2D([], [], color=WORSE, linewidth=2.4, label="lower in B"),
               Line2D([], [], color=BETTER, linewidth=2.4, label="higher in B")]
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=8.5)
    fig.svg_titles = titles
    return fig


def _months_text(months: int) -> str:
    return "no move" if months == 0 else f"{months:+d} mo".replace("-", "−")


def _shift_label(s: Shift, words: str, value: int) -> str:
    """E.g. "P80 finish +4 mo (2027-07 → 2027-11), beyond sampling error"."""
    if value == 0:
        return f"{words} finish: no move"
    first, last = s.months[words]
    note = ", beyond sampling error" if words == "P80" and s.p80_beyond else \
        ", now late in plan B" if words == "planned" and s.late_in_b else ""
    return f"{words} finish {_months_text(value)} ({month_text(first)} → {month_text(last)}){note}"


def _widen_to_fit(ax, texts) -> None:
    """Widen the x-axis until every bar label lies inside it (a label cut at the edge loses its verdict)."""
    if not texts:
        return
    figure = ax.figure
    for _ in range(4):  # the labels keep their size in points, so each widening needs less
        figure.draw_without_rendering()
        to_data = ax.transData.inverted()
        xs = []
        for t in texts:  # a margin of a third of the label: the outlines drawn are wider than measured here
            x0, x1 = sorted(to_data.transform(t.get_window_extent())[:, 0])
            xs += [x0, x0 + 1.35 * (x1 - x0)] if t.get_ha() == "left" else [x1 - 1.35 * (x1 - x0), x1]
        lo, hi = ax.get_xlim()
        if min(xs) >= lo and max(xs) <= hi:
            return
        pad = 0.02 * (max(hi, max(xs)) - min(lo, min(xs)))
        ax.set_xlim(min(lo, min(xs) - pad), max(hi, max(xs) + pad))


def shifts_chart(shifts: list[Shift], scenario_a: str, scenario_b: str):
    """Per project whose finish moved: the P80 move (solid) and the planned finish move (hatched), in months."""
    from matplotlib.patches import Patch

    fig = _figure(1.7 + 0.5 * len(shifts))
    ax = fig.add_subplot()
    titles, labels = {}, []
    values = [v for s in shifts for v in (s.p80, s.planned) if v is not None]
    span = max([abs(v) for v in values] + [1])
    for i, s in enumerate(shifts):
        for offset, value, colour, hatch, words in ((-0.19, s.p80, P80_COLOUR, "", "P80"),
                                                    (0.19, s.planned, PLAN_COLOUR, "////", "planned")):
            if value is None:
                lacking = "Monte Carlo" if words == "P80" else "plan"
                ax.text(0, i + offset, f"  {words} finish: not compared (a run has no {lacking})", va="center",
                        fontsize=8.5, color=MUTED)
                continue
            bar = ax.barh(i + offset, value, height=0.36, color=colour if not hatch else "white", edgecolor=colour,
                          hatch=hatch, linewidth=1.2, zorder=2)
            bar.patches[0].set_gid(f"shift-{i}-{words}")
            text = _shift_label(s, words, value)
            labels.append(ax.text(value + (0.02 if value >= 0 else -0.02) * span, i + offset, text, va="center",
                                  ha="left" if value >= 0 else "right", fontsize=8.5, color=INK))
            titles[f"shift-{i}-{words}"] = f"{s.pid} {s.label}: {text}"
    ax.axvline(0, color=INK, linewidth=0.9, zorder=3)
    left = min(values + [0])
    right = max(values + [0])
    ax.set_xlim(left - 0.8 * span if left < 0 else -0.05 * span, right + (0.8 * span if right > 0 else 0.05 * span))
    _widen_to_fit(ax, labels)
    ax.set_ylim(len(shifts) - 0.5, -0.6)
    ax.set_yticks(range(len(shifts)), [_wrapped(s.label, s.pid) for s in shifts], fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"months later (+) or earlier (−) in run B ({scenario_b}) than in run A ({scenario_a})")
    ax.set_title("Finish shifts per project: simulated P80 and planned finish, A → B")
    fig.legend(handles=[Patch(facecolor=P80_COLOUR, edgecolor=P80_COLOUR, label="P80 finish (simulated)"),
                        Patch(facecolor="white", edgecolor=PLAN_COLOUR, hatch="////",
                              label="planned finish (optimizer)")],
               loc="outside lower center", ncol=2, fontsize=8.5)
    fig.svg_titles = titles
    return fig


def compare_charts(a: Run, b: Run, changes) -> dict[str, str]:
    """name -> SVG text: "dumbbell" when both runs have a Monte Carlo, "shifts" when some finish moved."""
    out = {}
    with chart_style() as family:
        try:
            if changes:
                out["dumbbell"] = figure_svg(dumbbell_chart(changes, a.scenario, b.scenario))
            shifts = finish_shifts(a, b, changes)
            if shifts:
                out["shifts"] = figure_svg(shifts_chart(shifts, a.scenario, b.scenario))
        except UserWarning as exc:
            if re.search(GLYPH_MISSING, str(exc)):
                raise MissingFontError(f"the font {family!r} cannot draw a character in the comparison's charts: "
                                       f"{exc}; install fonts-noto-cjk") from None
            raise
    return out

