"""The six charts of the report, drawn with matplotlib as self-contained SVG.

Each ``*_chart(run, look)`` returns a matplotlib Figure, or None when the run
lacks the files it needs. :func:`render_svg` turns a figure into SVG text with
glyphs as paths (no font needed to view it) and stable bytes (fixed hash salt,
no date), inside :func:`report.fonts.chart_style`.

Time on the x axes is in absolute months (see ``portfolio.months``); a month m
covers [m, m + 1), so a phase that finishes in month m ends at x = m + 1 and
a P80 month is drawn at the end of that month.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

from portfolio.months import year_of

from .fonts import GLYPH_MISSING, MissingFontError, chart_style
from .rundata import PORTFOLIO, Run, cdf_at, cdf_steps, month_text

WIDTH = 10.0  # inches; the HTML scales the SVG to the page width

INK = "#263238"
GRID = "#e3e6ea"
MUTED = "#78909c"
DEADLINE = "#c62828"
GOOD, FAIR, POOR = "#2e7d32", "#ef9a1a", "#c62828"
FAIR_TEXT = "#9a5b00"  # amber dark enough for text on white
SOURCE_COLOURS = {
    "central": "#3f6fb5",
    "provincial": "#e07b2e",
    "local": "#5b9e5f",
    "bond": "#8064a8",
    "enterprise": "#2a9ca3",
}
EXTRA_COLOURS = ("#b0883b", "#a0526d", "#6d7f8c", "#9bb03c", "#d0a30e", "#4e5fa8")
PROJECT_COLOURS = (
    "#3f6fb5", "#e07b2e", "#5b9e5f", "#c0504d", "#8064a8", "#8c6d4f", "#d46fb0", "#6d7f8c", "#a4a83a", "#2a9ca3",
    "#9fb7de", "#f2b27a", "#a3cf9d", "#e59a98", "#bfa8d6", "#c4a78c", "#ecb3d5", "#b3bec6", "#d2d48a", "#8fd0d3",
)

CHARTS = (
    ("gantt", "Plan and simulated finish"),
    ("s-curve", "S-curves: when each project is finished"),
    ("funding", "Annual spend against caps"),
    ("on-time", "Probability of finishing on time"),
    ("risk-drivers", "What drives the delay"),
    ("criticality", "Which phase drives the finish"),
)


def short(text: str, width: int = 44) -> str:
    """A label cut to ``width`` columns (CJK characters count two), with an ellipsis; bilingual "中文 / English" keeps
    the Chinese part."""
    import unicodedata

    text = str(text)
    if " / " in text:
        text = text.split(" / ", 1)[0].strip()
    used, out = 0, []
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            return "".join(out).rstrip() + "…"
        out.append(ch)
        used += w
    return text


def on_time_colour(p: float) -> str:
    return GOOD if p >= 0.8 else FAIR if p >= 0.5 else POOR


def percent(p: float, digits: int = 1) -> str:
    """A probability as a percentage that never rounds a small chance to 0 or a near-certainty to 100."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    unit = 10.0 ** -digits / 100
    if 0 < p < unit:
        return f"<{100 * unit:.{digits}f}%"
    if 1 - unit < p < 1:
        return f">{100 - 100 * unit:.{digits}f}%"
    return f"{100 * p:.{digits}f}%"


@dataclass
class Look:
    """What every chart shares: project order, names and colours, source colours."""

    projects: list[str]
    name_zh: dict[str, str]
    name_en: dict[str, str]
    deadline: dict[str, int]
    colour: dict[str, str]
    source_colour: dict[str, str]
    activity_name: dict[str, str]

    def label(self, pid: str) -> str:
        return self.name_zh.get(pid) or pid


def make_look(run: Run) -> Look:
    projects: list[str] = []
    name_zh: dict[str, str] = {}
    name_en: dict[str, str] = {}
    deadline: dict[str, int] = {}
    for table in ("projects.csv", "simulation.csv", "schedule.csv"):
        frame = run.get(table)
        if frame is None:
            continue
        for _, row in frame.iterrows():
            pid = str(row["project_id"])
            if pid == PORTFOLIO:
                continue
            if pid not in projects:
                projects.append(pid)
            if "name_zh" in row and row["name_zh"] and pid not in name_zh:
                name_zh[pid] = str(row["name_zh"])
            if "name_en" in row and row["name_en"] and pid not in name_en:
                name_en[pid] = str(row["name_en"])
            if "deadline_m" in row and row["deadline_m"] is not None and pid not in deadline:
                try:
                    deadline[pid] = int(row["deadline_m"])
                except (TypeError, ValueError):
                    pass
    colour = {pid: PROJECT_COLOURS[i % len(PROJECT_COLOURS)] for i, pid in enumerate(projects)}
    sources: list[str] = []
    for table, column in (("funding.csv", "source"), ("schedule.csv", "funding_source")):
        frame = run.get(table)
        if frame is not None:
            for s in frame[column]:
                if s not in sources:
                    sources.append(str(s))
    known = [s for s in SOURCE_COLOURS if s in sources]
    other = sorted(s for s in sources if s not in SOURCE_COLOURS)
    source_colour = {s: SOURCE_COLOURS[s] for s in known}
    source_colour.update({s: EXTRA_COLOURS[i % len(EXTRA_COLOURS)] for i, s in enumerate(other)})
    activity_name = {}
    schedule = run.get("schedule.csv")
    if schedule is not None:
        activity_name = {str(a): str(n) for a, n in zip(schedule["activity_id"], schedule["name"])}
    return Look(projects, name_zh, name_en, deadline, colour, source_colour, activity_name)


# ---------------------------------------------------------------- helpers


def _figure(height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH, height), layout="constrained")


def _month_axis(ax, lo: int, hi: int) -> None:
    """Year boundaries as grid lines, the year's name in the middle of it."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    years = range(year_of(lo), year_of(hi) + 1)
    span = len(years)
    step = 1 if span <= 12 else 2 if span <= 24 else 5
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([y * 12 for y in years if lo <= y * 12 <= hi]))
    ax.xaxis.set_major_formatter(NullFormatter())
    mids = [(y, y * 12 + 6) for y in years if lo <= y * 12 + 6 <= hi and y % step == 0]
    ax.xaxis.set_minor_locator(FixedLocator([m for _y, m in mids]))
    ax.set_xticks([m for _y, m in mids], [str(y) for y, _m in mids], minor=True)
    ax.tick_params(axis="x", which="minor", length=0, pad=4)
    ax.tick_params(axis="x", which="major", length=5)
    ax.grid(axis="x", which="major", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _common_deadline(look: Look) -> int | None:
    values = set(look.deadline.values())
    return values.pop() if len(values) == 1 else None


# ---------------------------------------------------------------- 1. Gantt

HATCHES = {"central": "", "provincial": "////", "local": "....", "bond": "xxx", "enterprise": "\\\\\\\\",
           "loan": "---"}
EXTRA_HATCHES = ("++", "oo", "||", "**")
GANTT_YEARS = 10  # default window: from the status date's year, at most this many years


CLOSING = "）)」』，、。；：,.;:"


def wrap(text: str, width: int = 30) -> list[str]:
    """A label broken into lines of at most ``width`` columns (CJK characters count two), never cut."""
    import unicodedata

    text = str(text)
    if " / " in text:
        text = text.split(" / ", 1)[0].strip()
    lines, line, used = [], "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width and line and ch not in CLOSING:  # no line starts with a closing bracket or comma
            lines.append(line.rstrip())
            line, used = "", 0
            if ch == " ":
                continue
        line += ch
        used += w
    return lines + [line.rstrip()] if line else lines


def gantt_window(run: Run, look: Look, window: tuple[int, int] | None = None) -> tuple[int, int]:
    """[lo, hi) in absolute months of the Gantt's time axis: ``window`` when given (whole months), otherwise from
    the January of the status date's year to the end of the year of the last deadline, at most GANTT_YEARS years;
    it always covers the status date."""
    if window is not None:
        lo, hi = int(window[0]), int(window[1]) + 1
    else:
        schedule = run.get("schedule.csv")
        start = run.status_date if run.status_date is not None else int(schedule["start_m"].min())
        lo = year_of(start) * 12
        last = max(list(look.deadline.values()) + [int(schedule["finish_m"].max())])
        hi = min((year_of(last) + 1) * 12, lo + 12 * GANTT_YEARS)
    if run.status_date is not None:
        lo, hi = min(lo, run.status_date), max(hi, run.status_date + 1)
    return lo, max(hi, lo + 12)


def driving_path(rows) -> set[str]:
    """The plan's driving path of one project: back from its last phase, each phase that finishes in the month
    before the next one starts (the run folder has no links, so touching phases stand for them)."""
    acts = [(str(a), int(s), int(f)) for a, s, f in zip(rows["activity_id"], rows["start_m"], rows["finish_m"])]
    if not acts:
        return set()
    end = max(f for _a, _s, f in acts)
    path = {a for a, _s, f in acts if f == end}
    frontier = [s for _a, s, f in acts if f == end]
    while frontier:
        start = frontier.pop()
        for a, s, f in acts:
            if f == start - 1 and a not in path:
                path.add(a)
                frontier.append(s)
    return path


def _lanes(rows) -> list[tuple[int, str, int, int, str, str]]:
    """(lane, activity, start, end, source, name) per phase: parallel phases on separate lanes."""
    lanes: list[int] = []  # last end per lane
    placed = []
    for _, act in rows.sort_values(["start_m", "finish_m"], kind="stable").iterrows():
        s, f = int(act["start_m"]), int(act["finish_m"]) + 1
        for k, end in enumerate(lanes):
            if end <= s:
                lanes[k] = f
                break
        else:
            k = len(lanes)
            lanes.append(f)
        placed.append((k, str(act["activity_id"]), s, f, str(act["funding_source"]), str(act["name"])))
    return placed


def _planned_late(run: Run) -> set[str]:
    late = set()
    projects_csv = run.get("projects.csv")
    if projects_csv is not None:
        for _, row in projects_csv.iterrows():
            if row["planned_finish_m"] is not None and row["deadline_m"] is not None \
                    and row["planned_finish_m"] > row["deadline_m"]:
                late.add(str(row["project_id"]))
    return late


def _simulated_finish(run: Run) -> dict[str, tuple]:
    quant = {}
    sim = run.project_rows()
    if sim is not None:
        for _, row in sim.iterrows():
            q = (row["finish_p50_m"], row["finish_p80_m"], row["finish_p90_m"])
            if all(v is not None and v == v for v in q):
                quant[str(row["project_id"])] = tuple(int(v) + 1 for v in q)  # the end of the month
    return quant


def gantt_chart(run: Run, look: Look, window: tuple[int, int] | None = None):
    schedule = run.get("schedule.csv")
    if schedule is None or schedule.empty:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    quant = _simulated_finish(run)
    planned_late = _planned_late(run)
    order = [p for p in look.projects if p in set(schedule["project_id"])]
    lo, hi = gantt_window(run, look, window)
    hatch = dict(HATCHES)
    for i, s in enumerate(sorted(s for s in look.source_colour if s not in hatch)):
        hatch[s] = EXTRA_HATCHES[i % len(EXTRA_HATCHES)]

    layout, y = [], 0.0  # (pid, top y, lanes placed); each lane is 1 unit, the simulated finish 0.8 below
    for pid in order:
        placed = _lanes(schedule[schedule["project_id"] == pid])
        n_lanes = max(1, max(k for k, *_ in placed) + 1)
        layout.append((pid, y, placed, n_lanes))
        y += n_lanes + (1.0 if pid in quant else 0.25) + 0.55
    total = y
    fig = _figure(1.6 + 0.15 * total)
    ax = fig.add_subplot()
    titles = {}
    labels, label_ys = [], []
    for pid, top, placed, n_lanes in layout:
        rows = schedule[schedule["project_id"] == pid]
        path = driving_path(rows)
        centre = {}
        for k, aid, s, f, source, name in placed:
            yc = top + k + 0.5
            centre[aid] = (yc, s, f)
            driving = aid in path
            bar = ax.barh(yc, f - s, left=s, height=0.78, color=look.source_colour.get(source, MUTED),
                          edgecolor=INK if driving else "white", linewidth=1.6 if driving else 0.6,
                          hatch=hatch.get(source, ""), zorder=3 if driving else 2)
            gid = f"phase-{len(titles)}"
            bar.patches[0].set_gid(gid)
            titles[gid] = f"{name} ({aid}): {month_text(s)} to {month_text(f - 1)}, {source}" + \
                (", on the driving path" if driving else "")
            visible = min(f, hi) - max(s, lo)
            if visible >= 7 * (hi - lo) / 120 * 2.2:
                text = short(name, max(4, int(visible / ((hi - lo) / 120) / 1.4)))
                ax.text(max(s, lo) + 0.6, yc, text, fontsize=7, color="white", va="center", ha="left",
                        zorder=6, clip_on=True,
                        bbox=dict(boxstyle="square,pad=0.08", facecolor="#00000040", edgecolor="none"))
        for k, aid, s, f, source, name in placed:  # the links of the driving path: predecessor's end -> start
            if aid not in path:
                continue
            for other, (yo, so, fo) in centre.items():
                if other in path and fo == s and other != aid:
                    ax.annotate("", xy=(s, centre[aid][0] - 0.39 if yo < centre[aid][0] else centre[aid][0] + 0.39),
                                xytext=(fo, yo), zorder=5,
                                arrowprops=dict(arrowstyle="-|>", color=INK, linewidth=1.0, mutation_scale=7,
                                                shrinkA=0, shrinkB=0))
        bottom = top + n_lanes
        if placed and max(f for *_x, f, _s, _n in placed) <= lo:
            ax.text(lo + 0.5, top + 0.5, f"◀ finished {month_text(max(f for *_x, f, _s, _n in placed) - 1)}, "
                    "before the window", fontsize=7.5, color=MUTED, va="center", ha="left")
        if pid in look.deadline:
            d = look.deadline[pid] + 1
            if lo <= d <= hi:
                ax.plot([d, d], [top - 0.2, bottom + 0.9], color=DEADLINE, linewidth=1.8, zorder=4,
                        solid_capstyle="butt")
            elif d > hi:
                ax.text(hi - 0.3, top + 0.1, f"deadline {month_text(d - 1)} ▶", color=DEADLINE, fontsize=7.5,
                        ha="right", va="top", zorder=6,
                        bbox=dict(facecolor="white", edgecolor="none", pad=0.6, alpha=0.9))
        if pid in quant:
            p50, p80, p90 = quant[pid]
            yq = bottom + 0.45
            ax.plot([p50, p90], [yq, yq], color=INK, linewidth=1.4, zorder=4, solid_capstyle="butt")
            ax.plot([p50] * 2 + [None] + [p90] * 2, [yq - 0.22, yq + 0.22, None, yq - 0.22, yq + 0.22],
                    color=INK, linewidth=1.0, zorder=4)
            ax.plot([p80], [yq], marker="D", markersize=5.5, color=INK, markeredgecolor="white",
                    markeredgewidth=0.6, zorder=5, linestyle="none")
            if p80 > hi:
                ax.text(hi - 0.3, yq, f"P80 {month_text(p80 - 1)} ▶", color=INK, fontsize=7.5, ha="right",
                        va="center", zorder=6, bbox=dict(facecolor="white", edgecolor="none", pad=0.6, alpha=0.9))
        name_lines = wrap(look.label(pid), 26)
        tag = pid + ("  · late in the plan" if pid in planned_late else "")
        labels.append("\n".join(name_lines + [tag]))
        label_ys.append(top + (bottom - top + (0.9 if pid in quant else 0)) / 2)
        if pid != order[-1]:
            ax.axhline(bottom + (1.0 if pid in quant else 0.25) + 0.27, color=GRID, linewidth=0.7, zorder=1)
    status = run.status_date
    if status is not None:
        ax.axvline(status, color="#1565c0", linewidth=1.3, linestyle=(0, (1, 2)), zorder=4)
        ax.text(status, -0.35, f"status date {month_text(status)}", color="#1565c0", fontsize=8.5,
                ha="left", va="bottom")
    ax.set_yticks(label_ys, labels, fontsize=8.5)
    for tick, pid in zip(ax.get_yticklabels(), order):
        if pid in planned_late:
            tick.set_color(DEADLINE)
    ax.set_ylim(total, -1.2)
    ax.tick_params(axis="y", length=0)
    _month_axis(ax, lo, hi)
    ax.set_xlabel("month (grid lines at the start of each year)")
    ax.spines["left"].set_visible(False)
    ax.set_title("Plan: phases by funding source, driving path outlined, deadlines and simulated finish "
                 "(P50–P90, ◆ P80)", fontsize=10.5)
    handles = [Patch(facecolor=c, edgecolor="white", hatch=hatch.get(s, ""), label=s)
               for s, c in look.source_colour.items() if s in set(schedule["funding_source"])]
    handles.append(Patch(facecolor="white", edgecolor=INK, linewidth=1.6, label="driving path (→ links)"))
    handles.append(Line2D([], [], color=DEADLINE, linewidth=1.8, label="deadline"))
    if status is not None:
        handles.append(Line2D([], [], color="#1565c0", linewidth=1.3, linestyle=(0, (1, 2)), label="status date"))
    if quant:
        handles.append(Line2D([], [], color=INK, marker="D", markersize=5, linewidth=1.4,
                              label="simulated P50–P90, ◆ P80"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6), handlelength=1.8,
               fontsize=8.5)
    fig.svg_titles = titles
    return fig


# ---------------------------------------------------------------- 2. S-curve


def _panel_range(months: list[int], probs: list[float], deadline: int | None) -> tuple[int, int]:
    """Whole years around a project's own curve (1% to 99%) and its deadline."""
    first = next((m for m, p in zip(months, probs) if p >= 0.01), months[0])
    last = next((m for m, p in zip(months, probs) if p >= 0.99), months[-1])
    lo, hi = min(first, deadline if deadline is not None else first), max(last, deadline if deadline else last)
    lo, hi = year_of(lo) * 12, (year_of(hi) + 1) * 12
    return lo, max(hi, lo + 24)


def s_curve_order(run: Run, look: Look, steps) -> list[str]:
    """Projects by deadline (earliest first), then least likely on time first."""
    p = {}
    sim = run.project_rows()
    if sim is not None:
        p = {str(r["project_id"]): float(r["p_on_time"]) for _, r in sim.iterrows()}
    shown = [pid for pid in look.projects if pid in steps]
    return sorted(shown, key=lambda pid: (look.deadline.get(pid, 10 ** 6), p.get(pid, 1.0), look.projects.index(pid)))


def s_curve_chart(run: Run, look: Look, ncol: int = 5):
    """Small multiples: one panel per project with its own time range, its deadline and P(on time) labelled."""
    steps = cdf_steps(run)
    order = s_curve_order(run, look, steps)
    if not order:
        return None
    nrow = -(-len(order) // ncol)
    fig = _figure(0.9 + 1.85 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for k, pid in enumerate(order):
        ax = axes[k // ncol][k % ncol]
        months, probs = steps[pid]
        deadline = look.deadline.get(pid)
        lo, hi = _panel_range(months, probs, deadline)
        xs = [lo] + [m + 1 for m in months] + [hi]
        ys = [0.0] + probs + [probs[-1]]
        ax.step(xs, ys, where="post", color=INK, linewidth=1.5, zorder=3)
        ax.axhline(0.8, color=MUTED, linewidth=0.7, linestyle=":", zorder=1)
        if deadline is not None:
            on_time = cdf_at(steps[pid], deadline)
            ax.axvline(deadline + 1, color=DEADLINE, linewidth=1.1, linestyle=(0, (4, 2)), zorder=2)
            ax.plot([deadline + 1], [on_time], marker="o", markersize=4, color=on_time_colour(on_time), zorder=4)
            right = deadline + 1 < (lo + hi) / 2
            ax.text(deadline + 1 + (1 if right else -1), 0.04, f"{month_text(deadline)}\n{percent(on_time, 0)} "
                    "on time", color=DEADLINE, fontsize=7, ha="left" if right else "right", va="bottom", zorder=5,
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85))
        ax.set_ylim(0, 1.02)
        ax.set_yticks([0, 0.5, 0.8, 1.0], ["0", "50%", "80%", "100%"] if k % ncol == 0 else [])
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        _year_ticks(ax, lo, hi)
        ax.tick_params(labelsize=7)
        name = wrap(look.label(pid), 20)
        ax.set_title("\n".join(name), fontsize=8, loc="left", pad=3)
        if k % ncol == 0:
            ax.set_ylabel("P(finished)", fontsize=7.5)
        ax.set_xlabel(pid, fontsize=7, color=MUTED, labelpad=1)
    for j in range(len(order), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    fig.suptitle("Probability that each project is finished by a month (the red line is its deadline); "
                 "earliest deadline first, least likely on time first", x=0.01, ha="left", fontsize=10.5)
    return fig


def _year_ticks(ax, lo: int, hi: int) -> None:
    """A few year labels on a small panel."""
    from matplotlib.ticker import FixedLocator

    years = [y for y in range(year_of(lo), year_of(hi) + 1) if lo <= y * 12 <= hi]
    step = max(1, -(-len(years) // 4))
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([y * 12 for y in years]))
    ax.set_xticks([y * 12 for y in years], [str(y) if i % step == 0 else "" for i, y in enumerate(years)])
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


# ---------------------------------------------------------------- 3. Funding


def funding_chart(run: Run, look: Look):
    funding = run.get("funding.csv")
    if funding is None or funding.empty:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    totals = funding.groupby("source", sort=False)["spend"].sum().sort_values(ascending=False, kind="stable")
    sources = list(totals.index)
    years = sorted(int(y) for y in funding["year"].unique())
    ncol = min(3, len(sources))
    nrow = -(-len(sources) // ncol)
    fig = _figure(0.9 + 2.3 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    over_any = False
    for i, source in enumerate(sources):
        ax = axes[i // ncol][i % ncol]
        rows = funding[funding["source"] == source].set_index("year")
        spend = [float(rows.loc[y, "spend"]) if y in rows.index else 0.0 for y in years]
        caps = [float(rows.loc[y, "cap"]) if y in rows.index else math.nan for y in years]
        over = [c == c and s > c + 1e-6 for s, c in zip(spend, caps)]
        over_any = over_any or any(over)
        colour = look.source_colour.get(source, MUTED)
        ax.bar(years, spend, width=0.68, color=colour, edgecolor=[DEADLINE if o else colour for o in over],
               linewidth=[1.8 if o else 0 for o in over], zorder=2)
        for y, s_, o in zip(years, spend, over):
            if o:
                ax.text(y, s_, "over", ha="center", va="bottom", fontsize=7, color=DEADLINE)
        for y, c in zip(years, caps):
            if c == c:
                ax.plot([y - 0.42, y + 0.42], [c, c], color=INK, linewidth=1.8, zorder=3, solid_capstyle="butt")
        top = max(spend + [c for c in caps if c == c] + [1.0])
        ax.set_ylim(0, top * 1.16)
        capped = [c for c in caps if c == c]
        note = "no annual cap" if not capped else ""
        ax.set_title(f"{source}  ·  {sum(spend):,.0f} 亿元", fontsize=10, loc="left")
        if note:
            ax.text(0.98, 0.95, note, transform=ax.transAxes, ha="right", va="top", fontsize=8, color=MUTED)
        ax.set_xticks(years, [str(y) if len(years) <= 8 or (y - years[0]) % 2 == 0 else "" for y in years])
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        if i % ncol == 0:
            ax.set_ylabel("亿元 per year")
    for j in range(len(sources), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    handles = [Patch(facecolor="#b0b7bf", label="planned spend"),
               Line2D([], [], color=INK, linewidth=1.8, label="annual cap")]
    if over_any:
        handles.append(Patch(facecolor="white", edgecolor=DEADLINE, linewidth=1.8, label="spend above cap"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    fig.suptitle("Planned spend per year and funding source, against the annual caps", x=0.01, ha="left",
                 fontsize=11.5, color="#1c2833")
    return fig


# ---------------------------------------------------------------- 4. P(on time)


def on_time_chart(run: Run, look: Look):
    """P(on time) per project, grouped by deadline (earliest first) with each group's expected misses."""
    sim = run.project_rows()
    if sim is None or sim.empty:
        return None
    groups: dict[int, list] = {}
    for _, r in sim.iterrows():
        groups.setdefault(int(r["deadline_m"]), []).append((float(r["p_on_time"]), str(r["project_id"])))
    n_rows = len(sim) + len(groups)
    fig = _figure(1.3 + 0.3 * n_rows)
    ax = fig.add_subplot()
    y, ticks, labels = 0, [], []
    for deadline in sorted(groups):
        rows = sorted(groups[deadline], key=lambda r: (r[0], r[1]))
        misses = sum(1 - p for p, _pid in rows)
        ax.text(0, y, f"Due {month_text(deadline)}: {len(rows)} project{'s' if len(rows) != 1 else ''}, "
                f"expected misses {misses:.1f}", fontsize=9, fontweight="bold", va="center", color=INK)
        y += 1
        for p, pid in rows:
            ax.barh(y, p, height=0.66, color=on_time_colour(p), zorder=2)
            inside = p > 0.86
            ax.text(p - 0.01 if inside else p + 0.01, y, percent(p), va="center", ha="right" if inside else "left",
                    fontsize=8.5, color="white" if inside else INK, zorder=3)
            ticks.append(y)
            labels.append(f"{short(look.label(pid), 40)} ({pid})")
            y += 1
    ax.set_yticks(ticks, labels)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0%", "20%", "40%", "60%", "80%", "100%"])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for x in (0.5, 0.8):
        ax.axvline(x, color=MUTED, linewidth=0.8, linestyle=":", zorder=1)
    ax.set_ylim(y - 0.4, -0.6)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("probability of finishing by the deadline (share of simulated futures)")
    ax.set_title("Probability that each project finishes by its deadline, by deadline")
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color=GOOD, label="≥ 80%"), Patch(color=FAIR, label="50–80%"),
                        Patch(color=POOR, label="< 50%")], loc="outside lower center", ncol=3)
    return fig


# ---------------------------------------------------------------- 5. Tornado


def _activity_label(look: Look, aid: str) -> str:
    name = look.activity_name.get(aid)
    return f"{short(name, 34)} ({aid})" if name else aid


def risk_drivers_chart(run: Run, look: Look, top: int = 10):
    risks = run.get("risks.csv")
    crit = run.get("criticality.csv")
    have_risks = risks is not None and not risks.empty and risks["contribution_months"].notna().any()
    have_sens = crit is not None and not crit.empty and crit["sensitivity"].notna().any()
    if not have_risks and not have_sens:
        return None
    panels = int(have_risks) + int(have_sens)
    n_rows = 0
    if have_risks:
        risks = risks[risks["contribution_months"].notna()].sort_values(
            "contribution_months", ascending=False, kind="stable").head(top)
        n_rows = max(n_rows, len(risks))
    if have_sens:
        sens = crit[crit["sensitivity"].notna()].copy()
        sens["abs"] = sens["sensitivity"].abs()
        sens = sens.sort_values("abs", ascending=False, kind="stable").head(top)
        n_rows = max(n_rows, len(sens))
    fig = _figure(1.5 + 0.36 * n_rows * (1 if panels == 1 else 2))
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    i = 0
    if have_risks:
        ax = axes[i]
        i += 1
        ys = list(range(len(risks)))
        values = [float(v) for v in risks["contribution_months"]]
        ax.barh(ys, values, height=0.62, color=POOR, zorder=2)
        reach = max([abs(v) for v in values] + [0.5])
        for y, v, p in zip(ys, values, risks["occurred"]):
            ax.text(v + (0.01 if v >= 0 else -0.01) * reach, y,
                    f"{v:+.1f} project-months · occurs in {percent(float(p), 0)} of futures", va="center",
                    ha="left" if v >= 0 else "right", fontsize=8, color=INK)
        ax.axvline(0, color=INK, linewidth=0.8)
        ax.set_yticks(ys, [f"{short(r['name'], 34)} ({r['risk_id']})" for _, r in risks.iterrows()])
        ax.set_ylim(len(ys) - 0.4, -0.6)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(min(0.0, min(values) * 1.6), max(0.0, max(values)) + 0.9 * reach)  # from zero; room for labels
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("extra delay when the risk occurs, in project-months (10 = e.g. two projects 5 months later "
                      "each)")
        ax.set_title("Risks, by the extra delay they bring when they occur")
    if have_sens:
        ax = axes[i]
        ys = list(range(len(sens)))
        values = [float(v) for v in sens["sensitivity"]]
        colours = [look.colour.get(str(p), MUTED) for p in sens["project_id"]]
        ax.barh(ys, values, height=0.62, color=colours, zorder=2)
        for y, v in zip(ys, values):
            ax.text(v + (0.012 if v >= 0 else -0.012), y, f"{v:+.2f}", va="center",
                    ha="left" if v >= 0 else "right", fontsize=8.5, color=INK)
        ax.axvline(0, color=INK, linewidth=0.8)
        ax.set_yticks(ys, [_activity_label(look, str(a)) for a in sens["activity_id"]])
        ax.set_ylim(len(ys) - 0.4, -0.6)
        ax.tick_params(axis="y", length=0)
        lo_x = min(0.0, min(values)) - 0.12
        ax.set_xlim(max(-1.0, lo_x), min(1.0, max(values) + 0.12) if max(values) > 0 else 0.12)
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("rank correlation of the activity's duration with its project's finish (colour = project)")
        ax.set_title("Activities, by sensitivity")
    return fig


# ---------------------------------------------------------------- 6. Criticality


CONTESTED = (0.02, 0.98)  # criticality strictly between: on the driving path in some futures, not in all


def contested_phases(run: Run, look: Look, per_project: int = 4, most: int = 18) -> list[tuple[str, list]]:
    """(project, [(activity, criticality)]) for the projects at risk (P(on time) below 80%), least likely on time
    first: their phases that drive the finish in some simulated futures but not in all, most often first."""
    crit = run.get("criticality.csv")
    sim = run.project_rows()
    if crit is None or crit.empty:
        return []
    p = {str(r["project_id"]): float(r["p_on_time"]) for _, r in sim.iterrows()} if sim is not None else {}
    lo, hi = CONTESTED
    groups, used = [], 0
    for pid in sorted(look.projects, key=lambda q: (p.get(q, 0.0), look.projects.index(q))):
        if p.get(pid, 0.0) >= 0.8:
            continue
        rows = crit[(crit["project_id"] == pid) & (crit["criticality"] > lo) & (crit["criticality"] < hi)]
        rows = rows.sort_values("criticality", ascending=False, kind="stable").head(per_project)
        phases = [(str(a), float(c)) for a, c in zip(rows["activity_id"], rows["criticality"])]
        if phases and used + len(phases) <= most:
            groups.append((pid, phases))
            used += len(phases)
    return groups


def criticality_chart(run: Run, look: Look):
    """The driving index of phases within their project, where it discriminates: for each project at risk, the
    phases that drive its finish in some futures but not in all (those always on the path are in the Gantt)."""
    groups = contested_phases(run, look)
    crit = run.get("criticality.csv")
    if crit is None or crit.empty:
        return None
    always = int((crit["criticality"] >= CONTESTED[1]).sum())
    n_rows = sum(len(ph) for _p, ph in groups) + len(groups)
    fig = _figure(1.6 + 0.28 * max(n_rows, 2))
    ax = fig.add_subplot()
    y, ticks, labels = 0, [], []
    for pid, phases in groups:
        ax.text(0, y, f"{look.label(pid)} ({pid})", fontsize=8.5, fontweight="bold", va="center", ha="left",
                color=INK)
        y += 1
        for aid, value in phases:
            ax.barh(y, value, height=0.62, color=look.colour.get(pid, MUTED), zorder=2)
            ax.text(value + 0.01, y, percent(value, 0), va="center", ha="left", fontsize=8, color=INK)
            ticks.append(y)
            labels.append(_activity_label(look, aid))
            y += 1
    if not groups:
        ax.text(0.5, 0.5, "No phase of a project at risk drives its finish in some futures only: each is on the "
                "driving path always or never.", transform=ax.transAxes, ha="center", va="center", fontsize=9)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(max(y, 1) - 0.4, -0.6)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0%", "20%", "40%", "60%", "80%", "100%"])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(f"share of simulated futures in which the phase drives its project's finish ({always} phases "
                  "that always do are not shown)")
    ax.set_title("Phases that drive their project's finish in some futures only (projects below 80% on time)")
    return fig


BUILDERS = {
    "gantt": gantt_chart,
    "s-curve": s_curve_chart,
    "funding": funding_chart,
    "on-time": on_time_chart,
    "risk-drivers": risk_drivers_chart,
    "criticality": criticality_chart,
}


# ---------------------------------------------------------------- SVG


def figure_svg(fig) -> str:
    """SVG text of a figure: glyphs as paths, no date, ids salted for stable bytes."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return with_titles(buf.getvalue(), getattr(fig, "svg_titles", {}))


def with_titles(svg: str, titles: dict[str, str]) -> str:
    """Give the SVG groups named in ``titles`` (by gid) a ``<title>``: the browser shows it on hover."""
    for gid, text in titles.items():
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{_attr(text).replace(">", "&gt;")}</title>', 1)
    return svg


def render_charts(run: Run, window: tuple[int, int] | None = None) -> dict[str, str]:
    """name -> SVG text for every chart the run's files allow, in report order; ``window``: the Gantt's months."""
    out = {}
    with chart_style() as family:
        look = make_look(run)
        for name, _title in CHARTS:
            try:
                fig = gantt_chart(run, look, window) if name == "gantt" else BUILDERS[name](run, look)
                if fig is not None:
                    out[name] = figure_svg(fig)
            except UserWarning as exc:
                if re.search(GLYPH_MISSING, str(exc)):
                    raise MissingFontError(f"the font {family!r} cannot draw a character in chart {name}: {exc}; "
                                           "install fonts-noto-cjk") from None
                raise
    return out


def svg_text(text: str, fontsize: float = 14) -> str:
    """SVG of a single line of text drawn through the chart pipeline (used to test that glyphs draw)."""
    out = ""
    with chart_style() as family:
        fig = _figure(0.6)
        fig.set_layout_engine(None)
        fig.text(0.02, 0.5, text, fontsize=fontsize, va="center")
        try:
            out = figure_svg(fig)
        except UserWarning as exc:
            if re.search(GLYPH_MISSING, str(exc)):
                raise MissingFontError(f"the font {family!r} cannot draw {text!r}: {exc}") from None
            raise
    return out


def inline_svg(svg: str, prefix: str, element_id: str, title: str) -> str:
    """An SVG document made fit to inline in HTML: no XML prolog, ids prefixed (unique in the page), scalable."""
    svg = re.sub(r"^.*?(<svg\b)", r"\1", svg, count=1, flags=re.S)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'<svg\b([^>]*?)\swidth="[^"]*"\sheight="[^"]*"',
                 lambda m: f'<svg{m.group(1)}', svg, count=1)
    svg = svg.replace("<svg", f'<svg id="{element_id}" class="chart" role="img" aria-label="{_attr(title)}"', 1)
    return svg.strip()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
