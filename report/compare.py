"""What changed between two run folders, for a reviewer, as Markdown or HTML (docs/reports.md, "compare").

Sections: warnings (a plan not proven optimal, different scenarios), a summary
of which projects got better or worse, the inputs that differ (scenario rules
key by key, run settings, data files row by row), projects whose planned finish
moved, the change of P(on time) and P80 per project with whether it is beyond
sampling error (by the test stated under the table), and spending moved between
years per funding source. What the run folders do not record (old runs) is said,
never guessed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import tolerance as tol
from .charts import percent
from .rundata import PORTFOLIO, Run, cdf_at, cdf_steps, load_run, month_text
from .markdown import markdown_table

Z_SIGNIFICANT = 3.0  # standard errors beyond which a change is called significant (beyond sampling error)
IDS_SHOWN = 8  # row keys named per kind of change and file
RUN_SETTINGS_SKIPPED = ("seconds", "draw_layout")  # timings; the layout is reported as "common random numbers"
NOT_INPUTS = ("scenario", "scenario file", "simulation workers", "simulation engine")  # same results either way


# -- the statistical tests -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """A difference B − A of two proportions, its standard error, and whether the test used paired iterations."""

    diff: float
    se: float
    paired: bool

    @property
    def significant(self) -> bool:
        """|diff| > Z SE; with SE 0 (every iteration moved the same way, or none moved) any difference counts."""
        return abs(self.diff) > Z_SIGNIFICANT * self.se if self.se > 0 else self.diff != 0


def paired_test(on_time_a: np.ndarray, on_time_b: np.ndarray) -> Difference:
    """The paired difference of on-time indicators d_i = b_i − a_i over iterations that share random numbers.

    With k_a iterations on time only in A and k_b only in B (McNemar's discordant pairs): mean d = (k_b − k_a)/n,
    sample variance s² = (k_a + k_b − n·mean²)/(n − 1), SE = s/√n.
    """
    a, b = np.asarray(on_time_a, dtype=bool), np.asarray(on_time_b, dtype=bool)
    n = len(a)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    diff = (only_b - only_a) / n
    var = max(0.0, (only_a + only_b - n * diff * diff) / (n - 1)) if n > 1 else 0.0
    return Difference(diff, math.sqrt(var / n), True)


def unpaired_test(p_a: float, n_a: int, p_b: float, n_b: int) -> Difference:
    """The two-proportion z-test: SE = √(p(1 − p)(1/n_a + 1/n_b)) with the pooled p, for independent runs."""
    pooled = (p_a * n_a + p_b * n_b) / (n_a + n_b)
    return Difference(p_b - p_a, math.sqrt(max(0.0, pooled * (1 - pooled)) * (1 / n_a + 1 / n_b)), False)


def common_random_numbers(a: Run, b: Run) -> tuple[bool, str]:
    """Whether iteration i of A and of B drew the same random numbers for the same activities and risks, and why.

    True only with the same seed, the same number of iterations, the same draw scheme, and either draws keyed
    by ID (any scheme but "position") or, drawing by position, the same activity, category and risk lists
    (the manifest's ``draw_layout``).
    """
    sa, sb = a.simulation_settings, b.simulation_settings
    reasons = []
    for key, name in (("seed", "seeds"), ("iterations", "iteration counts")):
        if sa.get(key) is None or sa.get(key) != sb.get(key):
            reasons.append(f"the {name} differ ({_text(sa.get(key))} and {_text(sb.get(key))})")
    if sa.get("block_size") != sb.get("block_size"):
        reasons.append(f"the sampling block sizes differ ({_text(sa.get('block_size'))} and "
                       f"{_text(sb.get('block_size'))})")
    if a.draws != b.draws:
        reasons.append(f"the draw schemes differ ({a.draws} and {b.draws})")
    elif a.draws == "position" and not reasons:
        la, lb = sa.get("draw_layout"), sb.get("draw_layout")
        if la is None or lb is None:
            reasons.append("drawing by position, and run " + ("A" if la is None else "B") + " does not record "
                           "its activity, category and risk lists (no draw_layout): they may differ")
        elif la != lb:
            reasons.append("drawing by position, the activity, category or risk lists differ, so the same "
                           "column of draws goes to different activities or risks")
    if reasons:
        return False, "; ".join(reasons)
    how = ("with the same activity, category and risk lists" if a.draws == "position"
           else "which keys the draws by ID")
    return True, (f"same seed {sa['seed']}, same {int(sa['iterations']):,} iterations, draw scheme "
                  f"\"{a.draws}\" {how}")


def _text(value) -> str:
    return "—" if value is None else str(value)


# -- inputs --------------------------------------------------------------------------------------------------

def _rule_lines(a: Run, b: Run) -> tuple[list[str], bool]:
    """Bullets for the scenario rules that differ, and whether any does (or cannot be told)."""
    ra, rb = a.scenario_rules, b.scenario_rules
    if ra is None or rb is None:
        which = "the manifests of runs A and B do" if ra is None and rb is None else \
            f"run {'A' if ra is None else 'B'}'s manifest does"
        return [f"Scenario rules not compared: {which} not record them (written before the rules were recorded); "
                "see the scenario file and the input files below.", ""], True
    lines = []
    for key in list(ra) + [k for k in rb if k not in ra]:
        if key not in rb:
            lines.append(f"- {key}: {ra[key]} (only in A)")
        elif key not in ra:
            lines.append(f"- {key}: {rb[key]} (only in B)")
        elif ra[key] != rb[key]:
            lines.append(f"- {key}: {ra[key]} → {rb[key]} (changed)")
    same = sum(1 for k in ra if k in rb and ra[k] == rb[k])
    if not lines:
        return [f"Scenario rules and settings: the same ({same}).", ""], False
    return (["Scenario rules and settings that differ:", ""] + lines
            + ["", f"{same} other rule(s) and setting(s) the same.", ""], True)


def _ids(keys: list[str]) -> str:
    shown = ", ".join(sorted(keys)[:IDS_SHOWN])
    return shown + (f", … {len(keys) - IDS_SHOWN} more" if len(keys) > IDS_SHOWN else "")


def row_changes(rows_a: dict[str, str], rows_b: dict[str, str]) -> str:
    """E.g. "1 row added (X), 2 changed (A, B)" from two {row key: hash} maps."""
    added = [k for k in rows_b if k not in rows_a]
    removed = [k for k in rows_a if k not in rows_b]
    changed = [k for k in rows_a if k in rows_b and rows_a[k] != rows_b[k]]
    parts = [f"{len(keys)} {what} ({_ids(keys)})" for what, keys in
             (("added", added), ("removed", removed), ("changed", changed)) if keys]
    if not parts:
        return "the same rows (the file differs in row order, header or formatting)"
    first = parts[0].split(" ", 1)
    parts[0] = f"{first[0]} row{'s' if first[0] != '1' else ''} {first[1]}"
    return ", ".join(parts)


def _file_rows(a: Run, b: Run) -> tuple[list[list[str]], int]:
    ia = a.manifest.get("inputs") if isinstance(a.manifest.get("inputs"), dict) else {}
    ib = b.manifest.get("inputs") if isinstance(b.manifest.get("inputs"), dict) else {}
    rows_a, rows_b = a.input_rows, b.input_rows
    rows, same = [], 0
    for name in sorted(set(ia) | set(ib)):
        if name not in ia:
            rows.append([name, "—", f"`{ib[name][:12]}`", "added", f"{len(rows_b[name])} rows"
                         if name in rows_b else "—"])
        elif name not in ib:
            rows.append([name, f"`{ia[name][:12]}`", "—", "removed", f"{len(rows_a[name])} rows"
                         if name in rows_a else "—"])
        elif ia[name] != ib[name]:
            if name in rows_a and name in rows_b:
                detail = row_changes(rows_a[name], rows_b[name])
            else:
                lacking = [x for x, r in (("A", rows_a), ("B", rows_b)) if name not in r]
                detail = "which rows: not known (" + ("runs A and B record" if len(lacking) == 2 else
                                                      f"run {lacking[0]} records") + " no row hashes)"
            rows.append([name, f"`{ia[name][:12]}`", f"`{ib[name][:12]}`", "changed", detail])
        else:
            same += 1
    return rows, same


def _section_inputs(a: Run, b: Run) -> tuple[list[str], bool]:
    out = ["## Inputs", ""]
    rule_lines, rules_differ = _rule_lines(a, b)
    out += rule_lines
    settings = [("scenario", a.scenario, b.scenario),
                ("scenario file", a.manifest.get("scenario_file"), b.manifest.get("scenario_file"))]
    sa, sb = a.simulation_settings, b.simulation_settings
    for key in sorted(set(sa) | set(sb)):
        if key in RUN_SETTINGS_SKIPPED:
            continue
        value_a = a.draws if key == "draws" else sa.get(key)
        value_b = b.draws if key == "draws" else sb.get(key)
        settings.append((f"simulation {key}", value_a, value_b))
    oa, ob = a.optimizer, b.optimizer
    for key in ("status", "objective", "gap"):
        if key in oa or key in ob:
            settings.append((f"optimizer {key}", oa.get(key), ob.get(key)))
    changed = [[k, _text(x), _text(y)] for k, x, y in settings if x != y]
    unchanged = [f"{k} {x}" for k, x, y in settings if x == y and x is not None]
    if changed:
        out += [markdown_table(["Setting", "A", "B"], changed), ""]
    if unchanged:
        out += ["Unchanged: " + "; ".join(unchanged) + ".", ""]
    rows, same = _file_rows(a, b)
    if rows:
        out += [markdown_table(["Input file", "sha256 A", "sha256 B", "Change", "Rows (by key)"], rows), ""]
        out += [f"{same} other input file(s) unchanged.", ""]
    else:
        out += [f"All {same} input files are unchanged (same sha256).", ""]
    inputs_differ = rules_differ or bool(rows) or any(
        k not in NOT_INPUTS and not k.startswith("optimizer") for k, *_ in changed)
    return out, inputs_differ


def _names(a: Run, b: Run) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in (b, a):
        for table in ("projects.csv", "simulation.csv"):
            frame = run.get(table)
            if frame is not None:
                for pid, name in zip(frame["project_id"], frame["name_zh"]):
                    names[str(pid)] = str(name)
    return names


def _section_plan(a: Run, b: Run, names: dict[str, str]) -> tuple[list[str], bool]:
    """The section, and whether any planned finish or start moved (or the plans cannot be compared)."""
    out = ["## Planned finish", ""]
    pa, pb = a.get("projects.csv"), b.get("projects.csv")
    if pa is None or pb is None:
        which = _lacking(pa, pb)
        return out + [f"Not compared: {which} no projects.csv (no plan).", ""], pa is not None or pb is not None
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
    moved = []
    sa, sb = a.get("schedule.csv"), b.get("schedule.csv")
    if sa is not None and sb is not None:
        xa = {str(r["activity_id"]): r for _, r in sa.iterrows()}
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
    return out, bool(rows or moved)


def _lacking(a, b) -> str:
    """"run A has", "run B has" or "runs A and B have": the runs whose table is None."""
    missing = [x for x, r in (("A", a), ("B", b)) if r is None]
    return f"run {missing[0]} has" if len(missing) == 1 else "runs A and B have"


def _yes(value) -> str:
    return {"true": "yes", "false": "no"}.get(str(value).strip().lower(), str(value))


@dataclass(frozen=True)
class ProjectChange:
    """One project's P(on time) and P80 in A and B, the test of the P(on time) change, and the verdict."""

    pid: str
    label: str
    p_a: float | None
    p_b: float | None
    p80_a: int | None
    p80_b: int | None
    test: Difference | None = None
    p80_beyond: bool = False

    @property
    def points(self) -> float:
        """B − A in points; rounded to 6 places only to drop float noise (rounding to 2, then to 1 for display,
        turned −12.646 into −12.7)."""
        return round(100 * (self.p_b - self.p_a), 6)

    @property
    def months(self) -> int | None:
        return None if self.p80_a is None or self.p80_b is None else int(self.p80_b) - int(self.p80_a)

    @property
    def verdict(self) -> str:
        """better / worse / mixed (P(on time) and P80 disagree) / no change / only in A or B."""
        if self.p_a is None or self.p_b is None:
            return "only in " + ("A" if self.p_b is None else "B")
        signs = {int(math.copysign(1, self.points)) if self.points else 0,
                 -int(math.copysign(1, self.months)) if self.months else 0} - {0}
        return {frozenset(): "no change", frozenset({1}): "better", frozenset({-1}): "worse"}.get(
            frozenset(signs), "mixed")

    @property
    def beyond(self) -> list[str]:
        """The figures whose change is beyond sampling error."""
        out = ["P(on time)"] if self.points and self.test is not None and self.test.significant else []
        return out + (["P80"] if self.p80_beyond else [])

    def change_text(self) -> str:
        """E.g. "P(on time) −12.3 points, P80 +2 months"."""
        parts = [f"P(on time) {_points(self.points)} points" if self.points else "",
                 f"P80 {_signed(self.months, 0)} month{'s' if abs(self.months or 0) != 1 else ''}"
                 if self.months else ""]
        return ", ".join(p for p in parts if p) or "no change"


def _signed(value: float, digits: int) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


def _points(value: float) -> str:
    """A change of P(on time) in points: one decimal, two when it is under 0.05 (never "+0.0" for a change)."""
    return _signed(value, 1 if abs(value) >= 0.05 else 2)


def _p80_beyond(pid: str, m_a: int, m_b: int, a: Run, b: Run, ca: dict, cb: dict) -> bool:
    """Could neither P80 month be the other run's 80% quantile within Z SE of the level (unpaired)?"""
    if m_a == m_b:
        return False
    if pid not in ca or pid not in cb:
        return False  # no distribution.csv: not tested, so never called beyond sampling error
    band = tol.band_tolerance(0.8, a.iterations, b.iterations, Z_SIGNIFICANT)
    return not (tol.quantile_consistent(m_b, 0.8, lambda m: cdf_at(ca[pid], m), band)
                and tol.quantile_consistent(m_a, 0.8, lambda m: cdf_at(cb[pid], m), band))


def project_changes(a: Run, b: Run, names: dict[str, str], paired: bool) -> list[ProjectChange]:
    """Per project of simulation.csv (PORTFOLIO last): the figures, the test and the verdict.

    ``paired``: the runs share common random numbers, so the on-time indicators of iteration i are compared
    pairwise (when both runs have iterations.csv); otherwise the unpaired two-proportion test.
    """
    sa, sb = a.get("simulation.csv"), b.get("simulation.csv")
    bits_a, bits_b = (a.on_time_bits(), b.on_time_bits()) if paired else (None, None)
    ca, cb = cdf_steps(a), cdf_steps(b)
    ra = {str(r["project_id"]): r for _, r in sa.iterrows()}
    rb = {str(r["project_id"]): r for _, r in sb.iterrows()}
    order = [p for p in ra if p != PORTFOLIO] + [p for p in rb if p not in ra and p != PORTFOLIO] + [PORTFOLIO]
    out = []
    for pid in order:
        x, y = ra.get(pid), rb.get(pid)
        if x is None and y is None:
            continue
        label = names.get(pid, "") if pid != PORTFOLIO else "all projects on time"
        change = ProjectChange(pid, label, None if x is None else float(x["p_on_time"]),
                               None if y is None else float(y["p_on_time"]), None if x is None else x["finish_p80_m"],
                               None if y is None else y["finish_p80_m"])
        if x is not None and y is not None:
            if bits_a is not None and bits_b is not None and pid in bits_a and pid in bits_b:
                test = paired_test(bits_a[pid], bits_b[pid])
            else:
                test = unpaired_test(change.p_a, a.iterations, change.p_b, b.iterations)
            beyond = change.months is not None and _p80_beyond(pid, int(change.p80_a), int(change.p80_b), a, b,
                                                                ca, cb)
            change = ProjectChange(change.pid, label, change.p_a, change.p_b, change.p80_a, change.p80_b, test,
                                   beyond)
        out.append(change)
    return out


def _rule_text(paired: bool, crn: bool, why: str, z: float = Z_SIGNIFICANT) -> list[str]:
    """How "beyond sampling error" was decided, in words (docs/reports.md)."""
    if paired:
        p_rule = (f"a change of P(on time) is beyond sampling error when |change| > {z:g} SE of the paired "
                  "difference: per iteration d = (on time in B) − (on time in A), SE = sd(d)/√n (a McNemar-style "
                  "test on the iterations that share random numbers)")
    else:
        p_rule = (f"a change of P(on time) is beyond sampling error when |change| > {z:g} SE of the unpaired "
                  "two-proportion z-test, SE = √(p(1 − p)(1/n_A + 1/n_B)) with the pooled p")
        if crn:
            p_rule += (" (unpaired because a run has no iterations.csv; with common random numbers this is "
                       "conservative)")
    p80_rule = (f"a P80 move is beyond sampling error when neither P80 month could be the other run's 80% "
                f"quantile within {z:g} SE of the 80% level, √(0.8 · 0.2 · (1/n_A + 1/n_B)) (unpaired: the run "
                "folder keeps no finish month per iteration"
                + ("; conservative with common random numbers)" if crn else ")"))
    if crn:
        sampling = (f"The runs share common random numbers ({why}): iteration i of A and of B drew the same "
                    "random numbers for the same activities and risks, so a difference comes from the inputs, the "
                    "plan or the code, and sampling moves the two runs together.")
    else:
        sampling = (f"The runs are not treated as sharing common random numbers ({why}), so part of any "
                    "difference may be sampling noise.")
    return [sampling, "", f"Significance: {p_rule}; {p80_rule}.", ""]


def _section_simulation(a: Run, b: Run, changes: list[ProjectChange] | None, crn: tuple[bool, str]) -> list[str]:
    out = ["## P(on time) and P80", ""]
    if changes is None:
        which = _lacking(a.get("simulation.csv"), b.get("simulation.csv"))
        return out + [f"Not compared: {which} no simulation.csv (no Monte Carlo).", ""]
    rows = []
    for c in changes:
        if c.p_a is None or c.p_b is None:
            rows.append([c.pid, c.label, percent(c.p_a) if c.p_a is not None else "—",
                         percent(c.p_b) if c.p_b is not None else "—", "—", "—", month_text(c.p80_a),
                         month_text(c.p80_b), "—", c.verdict, "—"])
            continue
        months = c.months
        rows.append([c.pid, c.label, percent(c.p_a), percent(c.p_b), _points(c.points) if c.points else "0",
                     f"{100 * c.test.se:.1f}", month_text(c.p80_a), month_text(c.p80_b),
                     ("0" if months == 0 else _signed(months, 0)) if months is not None else "—", c.verdict,
                     ", ".join(c.beyond) or ("no" if c.verdict != "no change" else "—")])
    out += [markdown_table(["Project", "名称", "P(on time) A", "P(on time) B", "Change (points)", "SE (points)",
                            "P80 A", "P80 B", "P80 moved (months)", "Verdict", "Beyond sampling error"], rows,
                           right={4, 5, 8}), ""]
    paired = any(c.test is not None and c.test.paired for c in changes)
    return out + _rule_text(paired, crn[0], crn[1])


def _section_funding(a: Run, b: Run) -> tuple[list[str], bool]:
    """The section, and whether any spending or cap changed (or one run has no plan)."""
    out = ["## Spending by year", ""]
    fa, fb = a.get("funding.csv"), b.get("funding.csv")
    if fa is None or fb is None:
        which = _lacking(fa, fb)
        return out + [f"Not compared: {which} no funding.csv (no plan).", ""], fa is not None or fb is not None

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
    return out, any_change


def _same_cap(x, y) -> bool:
    nx, ny = x != x, y != y
    return (nx and ny) or (not nx and not ny and abs(float(x) - float(y)) < 1e-9)


def _cap(x) -> str:
    return "no cap" if x != x else f"{float(x):,.2f}"


def _warnings(a: Run, b: Run) -> list[str]:
    out = []
    for name, run in (("A", a), ("B", b)):
        status = run.optimizer.get("status")
        if status is not None and str(status).lower() != "optimal":
            out.append(f"- Run {name}'s plan is not proven optimal (optimizer status: {status}): the optimizer "
                       "stopped at its time limit, so part of a difference in the plan may come from where it "
                       "stopped rather than from the inputs.")
    if a.scenario != b.scenario:
        out.append(f"- The scenario names differ ({a.scenario} and {b.scenario}): the runs are of different "
                   "scenarios; check under Inputs that the rules that differ are the ones meant.")
    return ["## Warnings", ""] + out + [""] if out else []


def _summary_line(c: ProjectChange) -> str:
    beyond = ", ".join(c.beyond)
    label = f"{c.pid} {c.label}".strip()
    return (f"- {label}: {c.change_text()}; "
            + (f"beyond sampling error: {beyond}" if beyond else "within sampling error"))


def _summary(changes: list[ProjectChange] | None, inputs_differ: bool, plan_moved: bool,
             spending_moved: bool) -> list[str]:
    out = ["## Summary", ""]
    moved = [c for c in changes or [] if c.verdict != "no change"]
    if not (inputs_differ or plan_moved or spending_moved or moved):
        what = " and the same P(on time) and P80 for every project" if changes is not None else ""
        return out + [f"No difference: the same inputs, the same plan{what}.", ""]
    projects = [c for c in changes or [] if c.pid != PORTFOLIO]
    for verdict, title in (("worse", "Worse in B"), ("better", "Better in B"),
                           ("mixed", "Mixed (P(on time) and P80 move in opposite directions)")):
        group = [c for c in projects if c.verdict == verdict]
        if group:
            out += [f"{title} ({len(group)}):", ""] + [_summary_line(c) for c in group] + [""]
    same = sum(1 for c in projects if c.verdict == "no change")
    only = [c.pid + f" ({c.verdict})" for c in projects if c.verdict.startswith("only")]
    if changes is not None:
        out += [f"No change: {same} project(s)." + (f" Not in both runs: {', '.join(only)}." if only else ""), ""]
        whole = next((c for c in changes if c.pid == PORTFOLIO and c.test is not None), None)
        if whole is not None:
            out += [f"All projects on time: {percent(whole.p_a)} → {percent(whole.p_b)} ({whole.verdict}"
                    + (f", {_points(whole.points)} points" if whole.points else "")
                    + (", beyond sampling error" if "P(on time)" in whole.beyond else "") + ").", ""]
    else:
        out += ["No Monte Carlo to compare (see below).", ""]
    return out


CHARTS_NOTE = ("The HTML page (`portfolio compare --format html`) draws P(on time) A → B and the finish shifts "
               "as charts.")


def compare_markdown(folder_a, folder_b) -> str:
    """Markdown: what changed from run A to run B."""
    return comparison(folder_a, folder_b, CHARTS_NOTE)[0]


def comparison(folder_a, folder_b, note: str) -> tuple[str, Run, Run, list[ProjectChange] | None]:
    """The Markdown (``note`` after the summary), both runs and the per-project changes (None: no Monte Carlo)."""
    a, b = load_run(folder_a), load_run(folder_b)
    names = _names(a, b)
    crn = common_random_numbers(a, b) if a.has_simulation and b.has_simulation else (False, "")
    changes = project_changes(a, b, names, crn[0]) if a.has_simulation and b.has_simulation else None
    inputs, inputs_differ = _section_inputs(a, b)
    plan, plan_moved = _section_plan(a, b, names)
    spending, spending_moved = _section_funding(a, b)
    out = [f"# Comparison: {a.scenario} (A) → {b.scenario} (B)", "",
           f"- A: `{folder_a}` (written {a.manifest.get('written_at', '—')})",
           f"- B: `{folder_b}` (written {b.manifest.get('written_at', '—')})", ""]
    out += _warnings(a, b)
    summary = _summary(changes, inputs_differ, plan_moved, spending_moved)
    out += summary
    if note and changes is not None and not summary[2].startswith("No difference"):
        out += [note, ""]
    out += inputs + plan + _section_simulation(a, b, changes, crn) + spending
    return "\n".join(out).rstrip() + "\n", a, b, changes


def compare_runs(folder_a, folder_b, fmt: str = "md") -> str:
    """What changed from run A to run B, as Markdown (``fmt`` "md") or a self-contained HTML page ("html") that
    also draws P(on time) A → B and the finish shifts as charts after the summary."""
    if fmt != "html":
        return compare_markdown(folder_a, folder_b)
    from .comparecharts import compare_charts
    from .comparehtml import markdown_to_html

    text, a, b, changes = comparison(folder_a, folder_b, "")
    return markdown_to_html(text, compare_charts(a, b, changes))
