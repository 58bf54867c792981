"""summary.html of a sweep: what changed between the variants and what it did to P(on time), at a glance.

The page answers "which project does a funding cut hurt, and by how much": the largest change in a sentence, a
heatmap of P(on time) by project and variant, a dumbbell per project from the first variant (the reference) to
the others, and the P80 finish shifts. Self-contained like report.html (inline SVG, CJK glyphs embedded) and, like
it, the same bytes for the same sweep folders.
"""
from __future__ import annotations

from .charts import GRID, INK, MUTED, _figure, figure_svg, inline_svg, percent, wrap
from .fonts import chart_style, embedded_font_css
from .rundata import month_text
from .write import CSS, _e, _visible_text

PORTFOLIO = "PORTFOLIO"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def sweep_table(frame, variants: list[str]) -> dict:
    """The sweep's numbers: per project (not PORTFOLIO) its name, deadline, and per variant P(on time) and P80."""
    from portfolio.months import parse_month

    projects: dict[str, dict] = {}
    for r in frame.itertuples():
        if r.project_id == PORTFOLIO or r.variant not in variants or r.p_on_time == "":
            continue
        p = projects.setdefault(r.project_id, {"name_zh": r.name_zh, "deadline": r.deadline, "p": {}, "p80": {}})
        p["p"][r.variant] = float(r.p_on_time)
        p["p80"][r.variant] = parse_month(r.finish_p80) if r.finish_p80 else None
    return projects


def largest_changes(projects: dict, variants: list[str], count: int = 3) -> list[tuple[float, str, str]]:
    """(change in P(on time), project, variant) against the first variant, the largest falls (or rises) first."""
    base = variants[0]
    changes = [(p["p"][v] - p["p"][base], pid, v) for pid, p in projects.items() for v in variants[1:]
               if v in p["p"] and base in p["p"]]
    changes.sort(key=lambda c: (-abs(c[0]), c[1], variants.index(c[2])))
    return [c for c in changes if abs(c[0]) >= 0.005][:count]


def project_order(projects: dict, variants: list[str]) -> list[str]:
    """Earliest deadline first, then the project the variants move most, then the least likely on time."""
    def spread(p):
        values = list(p["p"].values())
        return max(values) - min(values) if values else 0.0
    return sorted(projects, key=lambda pid: (projects[pid]["deadline"], -round(spread(projects[pid]), 4),
                                             projects[pid]["p"].get(variants[0], 1.0), pid))


def _label(projects: dict, pid: str) -> str:
    return "\n".join(wrap(projects[pid]["name_zh"], 24)[:2]) + f" ({pid})"


def heatmap_chart(projects: dict, variants: list[str], factors: dict[str, str]):
    """P(on time) by project (rows) and variant (columns), the value written in every cell."""
    from matplotlib.colors import LinearSegmentedColormap

    order = project_order(projects, variants)
    cmap = LinearSegmentedColormap.from_list("on_time", ["#c62828", "#ef9a1a", "#f4e04d", "#2e7d32"])
    fig = _figure(1.4 + 0.36 * len(order))
    ax = fig.add_subplot()
    for i, pid in enumerate(order):
        for j, v in enumerate(variants):
            value = projects[pid]["p"].get(v)
            if value is None:
                ax.text(j, i, "—", ha="center", va="center", fontsize=8, color=MUTED)
                continue
            ax.add_patch(_cell(j, i, cmap(value)))
            ax.text(j, i, percent(value, 0), ha="center", va="center", fontsize=8.5,
                    color="white" if value < 0.25 or value > 0.75 else INK)
    ax.set_xlim(-0.5, len(variants) - 0.5)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xticks(range(len(variants)), ["\n".join(wrap(factors.get(v) or v, 18)) for v in variants], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(order)), [_label(projects, p) for p in order], fontsize=7.5)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel("variant (the first is the reference)")
    ax.set_title("P(on time) by project and variant", loc="left")
    return fig


def _cell(x, y, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.48, y - 0.45), 0.96, 0.9, facecolor=colour, edgecolor="white", linewidth=1)


def dumbbell_chart(projects: dict, variants: list[str], factors: dict[str, str]):
    """Per project, P(on time) in each variant on one line: how far the variants move it, and which way."""
    from matplotlib.lines import Line2D

    order = project_order(projects, variants)
    fig = _figure(1.6 + 0.32 * len(order))
    ax = fig.add_subplot()
    shades = ["#1c2833", "#3f6fb5", "#e07b2e", "#8064a8", "#2a9ca3", "#a0526d", "#6d7f8c", "#b0883b"]
    for i, pid in enumerate(order):
        values = [projects[pid]["p"][v] for v in variants if v in projects[pid]["p"]]
        if values:
            ax.plot([min(values), max(values)], [i, i], color="#b0b7bf", linewidth=2.2, zorder=1)
        for j, v in enumerate(variants):
            if v in projects[pid]["p"]:
                ax.plot([projects[pid]["p"][v]], [i], marker=MARKERS[j % len(MARKERS)], markersize=6.5,
                        color=shades[j % len(shades)], markerfacecolor="white" if j == 0 else shades[j % len(shades)],
                        markeredgewidth=1.4, linestyle="none", zorder=2 + j)
    for x in (0.5, 0.8):
        ax.axvline(x, color=MUTED, linewidth=0.8, linestyle=":", zorder=0)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0%", "20%", "40%", "60%", "80%", "100%"])
    ax.set_ylim(len(order) - 0.5, -0.6)
    ax.set_yticks(range(len(order)), [_label(projects, p) for p in order], fontsize=7.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("probability of finishing by the deadline")
    ax.set_title("P(on time) per project: the reference (open marker) and each variant", loc="left")
    handles = [Line2D([], [], marker=MARKERS[j % len(MARKERS)], color=shades[j % len(shades)], linestyle="none",
                      markerfacecolor="white" if j == 0 else shades[j % len(shades)], markeredgewidth=1.4,
                      label=(factors.get(v) or v) + (" (reference)" if j == 0 else "")) for j, v in enumerate(variants)]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)), fontsize=8.5)
    return fig


def shift_rows(projects: dict, variants: list[str]) -> list[tuple[str, list[int | None]]]:
    """Projects whose P80 finish moves in some variant: (project, months later than the reference per variant)."""
    base = variants[0]
    rows = []
    for pid in project_order(projects, variants):
        p80 = projects[pid]["p80"]
        if p80.get(base) is None:
            continue
        shifts = [None if p80.get(v) is None else p80[v] - p80[base] for v in variants[1:]]
        if any(s for s in shifts):
            rows.append((pid, shifts))
    return rows


def summary_html(outcomes, frame) -> str:
    """The whole page (see the module docstring)."""
    done = [o for o in outcomes if o.folder]
    variants = [o.variant.name for o in done]
    factors = {o.variant.name: "; ".join(f"{label} ×{f:g}" for label, f in o.variant.factors) for o in outcomes}
    projects = sweep_table(frame, variants)
    body = ['<header class="top"><p class="eyebrow">Portfolio sweep</p>',
            f"<h1>{len(outcomes)} variants of {_e(', '.join(dict.fromkeys(o.scenario for o in outcomes)))}</h1>"]
    body.append('<ul class="lede">' + "".join(f"<li>{_e(s)}</li>" for s in signal_sentences(projects, variants,
                                                                                            factors)) + "</ul>")
    body.append(f'<p class="note">{_e(noise_note(done))}</p></header>')
    body.append(inputs_section(outcomes, frame, factors))
    charts = {}
    if len(variants) >= 1 and projects:
        with chart_style():
            charts["heatmap"] = figure_svg(heatmap_chart(projects, variants, factors))
            if len(variants) > 1:
                charts["dumbbell"] = figure_svg(dumbbell_chart(projects, variants, factors))
    how = {
        "heatmap": "Each cell is the share of simulated futures in which the project (row) finishes by its deadline "
                   "under the variant (column): green at least 80%, amber 50–80%, red below 50%; the value is "
                   "written in the cell. Rows are sorted by deadline, then by how much the variants move them.",
        "dumbbell": "One line per project from its lowest to its highest P(on time) across the variants; the open "
                    "marker is the reference (the first variant), each filled marker shape a variant. A long line "
                    "is a project the inputs of the sweep matter for.",
    }
    titles = {"heatmap": "P(on time) by variant and project", "dumbbell": "P(on time) before and after"}
    for k, name in enumerate(("heatmap", "dumbbell"), start=1):
        if name in charts:
            body.append(f'<section id="section-{name}"><h2>{_e(titles[name])}</h2>'
                        f'<p class="how"><strong>How to read this:</strong> {_e(how[name])}</p><figure>'
                        f"{inline_svg(charts[name], f's{k}', f'chart-{name}', titles[name])}</figure></section>")
    if len(variants) > 1:
        body.append(shifts_section(projects, variants, factors))
    css = CSS + embedded_font_css(_visible_text("".join(body)))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Portfolio sweep: {len(outcomes)} variants</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def signal_sentences(projects: dict, variants: list[str], factors: dict[str, str]) -> list[str]:
    """The sweep's signal in words: the largest changes in P(on time) against the reference variant."""
    if len(variants) < 2:
        return ["One variant only: nothing to compare."]
    base = variants[0]
    out = [f"Reference: {base} ({factors.get(base) or 'as in the scenario'}); the changes below are against it."]
    changes = largest_changes(projects, variants)
    if not changes:
        out.append("No project's P(on time) changes by half a percentage point or more in any variant.")
    for delta, pid, v in changes:
        p = projects[pid]
        verb = "falls" if delta < 0 else "rises"
        out.append(f"At {factors.get(v) or v}, {p['name_zh']} ({pid}, due {p['deadline']}) {verb} from "
                   f"{percent(p['p'][base], 0)} to {percent(p['p'][v], 0)} on time.")
    for v in variants[1:]:
        moved = sum(1 for p in projects.values() if v in p["p"] and abs(p["p"][v] - p["p"][base]) >= 0.05)
        out.append(f"{factors.get(v) or v}: {moved} project{'s move' if moved != 1 else ' moves'} by 5 points or "
                   "more.")
    return out


def noise_note(done) -> str:
    """Whether the variants' differences are the inputs' effect or may be sampling noise."""
    settings = {(o.simulation.info["seed"], o.simulation.info["iterations"]) for o in done}
    if len(settings) == 1:
        return ("All variants drew the same random numbers (same seed and iterations): a difference between two "
                "variants is the effect of their inputs, not sampling noise.")
    return ("The variants drew different random numbers (seeds or iterations differ): small differences may be "
            "sampling noise; portfolio compare marks what is beyond it.")


def inputs_section(outcomes, frame, factors: dict[str, str]) -> str:
    """What changed in the inputs: one row per variant with its funding factors, plan and link to its report."""
    rows = []
    for k, o in enumerate(outcomes):
        status = {"optimal": "proven optimal", "feasible": "not proven optimal"}.get(o.plan_status, o.plan_status)
        if o.folder:
            part = frame[(frame.variant == o.variant.name) & (frame.project_id != PORTFOLIO)]
            late = sum(1 for pf, dl in zip(part.planned_finish, part.deadline) if pf and dl and pf > dl)
            plan = f"{len(part) - late} of {len(part)} on time"
            link = f'<a href="{_e(o.folder)}/report.html">{_e(o.folder)}</a>'
        else:
            plan, link = "no plan", _e(o.message.strip().splitlines()[0] if o.message.strip() else "no folder")
        rows.append(f"<tr><td>{_e(o.variant.name)}{' <em>(reference)</em>' if k == 0 else ''}</td>"
                    f"<td>{_e(factors.get(o.variant.name) or 'as in the scenario')}</td><td>{_e(status)}</td>"
                    f"<td>{_e(plan)}</td><td>{link}</td></tr>")
    return ('<section id="inputs"><h2>What changed in the inputs</h2><p class="how">Each variant is the scenario '
            "with the annual caps of the named funding sources multiplied by the factor (for the years of the sweep "
            "grid); everything else is the same.</p><table><thead><tr><th>Variant</th><th>Funding factors</th>"
            "<th>Plan</th><th>In the plan</th><th>Run folder</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></section>")


def shifts_section(projects: dict, variants: list[str], factors: dict[str, str]) -> str:
    """P80 finish shifts against the reference, only for the projects that move."""
    rows = shift_rows(projects, variants)
    head = "".join(f'<th class="num">{_e(factors.get(v) or v)}</th>' for v in variants[1:])
    out = ['<section id="shifts"><h2>Finish shifts</h2><p class="how"><strong>How to read this:</strong> how many '
           "months later (+) or earlier (−) than in the reference each project's P80 finish is in each variant; "
           "projects whose P80 does not move are left out.</p>"]
    if not rows:
        out.append('<p class="omitted">No project\'s P80 finish moves in any variant.</p></section>')
        return "".join(out)
    out.append(f"<table><thead><tr><th>Project</th><th>Deadline</th><th>Reference P80</th>{head}</tr></thead><tbody>")
    for pid, shifts in rows:
        p = projects[pid]
        cells = "".join(f'<td class="num{" late" if s and s > 0 else ""}">'
                        f'{"—" if s is None else ("0" if s == 0 else f"{s:+d} mo")}</td>' for s in shifts)
        out.append(f'<tr><td><span class="zh">{_e(p["name_zh"])}</span> <span class="mono">{_e(pid)}</span></td>'
                   f'<td class="month">{_e(p["deadline"])}</td>'
                   f'<td class="month">{_e(month_text(p["p80"].get(variants[0])))}</td>{cells}</tr>')
    out.append("</tbody></table></section>")
    return "".join(out)


def expected_misses_by_first_deadline(frame, variant: str) -> tuple[str, float, int] | None:
    """(the earliest deadline, the expected number of its projects that miss it, how many are due then)."""
    rows = frame[(frame.variant == variant) & (frame.project_id != PORTFOLIO) & (frame.p_on_time != "")]
    if rows.empty:
        return None
    first = min(rows.deadline)
    due = rows[rows.deadline == first]
    return first, sum(1 - float(p) for p in due.p_on_time), len(due)
