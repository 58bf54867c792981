"""Regression check of a run folder against an expected one (the rules are in docs/regression.md).

- The plan files (schedule.csv, projects.csv, funding.csv) are deterministic:
  every cell must be equal, and the bytes too.
- The Monte Carlo files must be identical byte for byte when both runs used the
  same seed and iterations (the design promises byte-identical output for
  those, whatever the number of workers; the two engines give the same bytes).
- Otherwise each Monte Carlo figure may differ by what sampling error allows
  (see ``tolerance``); the figures that come from the inputs (names, deadlines,
  risk probabilities) must be equal.

``check_runs`` returns every drift, one per file, row and column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import tolerance as tol
from .rundata import MC_FILES, PLAN_FILES, PORTFOLIO, SPECS, Run, cdf_at, cdf_steps, load_run, month_text


@dataclass(frozen=True)
class Drift:
    file: str
    key: str
    column: str
    expected: str
    got: str
    tolerance: str

    def __str__(self) -> str:
        return (f"{self.file} {self.key} {self.column}: expected {self.expected or '(empty)'}, "
                f"got {self.got or '(empty)'} (tolerance: {self.tolerance})")


@dataclass
class CheckResult:
    folder: str
    expected: str
    drifts: list[Drift] = field(default_factory=list)
    checked: int = 0  # values compared
    mode: str = ""  # how the Monte Carlo files were compared
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the comparison is weaker than the expected run allows

    @property
    def ok(self) -> bool:
        return not self.drifts

    def report(self) -> str:
        """What the command prints: one line per drift, then notes; or one line saying all is well."""
        if self.ok:
            lines = [f"OK: {self.folder} matches {self.expected} ({self.checked} values checked; {self.mode})"]
        else:
            lines = [f"{len(self.drifts)} drift(s) in {self.folder} against {self.expected} ({self.mode}):"]
            lines += [str(d) for d in self.drifts]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _key(raw_row, key_cols) -> str:
    return "/".join(str(raw_row[k]) for k in key_cols)


def _exact_table(result: CheckResult, name: str, got: Run, exp: Run, tolerance: str) -> None:
    """Every cell equal (keyed rows), then the bytes; each difference is one drift."""
    spec = SPECS[name]
    key_cols = list(spec["key"])
    g, e = got.raw[name], exp.raw[name]
    for column in e.columns:
        if column not in g.columns:
            result.drifts.append(Drift(name, "(header)", column, "column present", "column missing", tolerance))
    for column in g.columns:
        if column not in e.columns:
            result.drifts.append(Drift(name, "(header)", column, "no such column", "column present", tolerance))
    g_rows = {_key(r, key_cols): r for _, r in g.iterrows()}
    e_rows = {_key(r, key_cols): r for _, r in e.iterrows()}
    columns = [c for c in e.columns if c in g.columns and c not in key_cols]
    for key, e_row in e_rows.items():
        g_row = g_rows.get(key)
        if g_row is None:
            result.drifts.append(Drift(name, key, "(row)", "row present", "row missing", tolerance))
            continue
        for column in columns:
            result.checked += 1
            if str(g_row[column]) != str(e_row[column]):
                result.drifts.append(Drift(name, key, column, str(e_row[column]), str(g_row[column]), tolerance))
    for key in g_rows:
        if key not in e_rows:
            result.drifts.append(Drift(name, key, "(row)", "no such row", "row present", tolerance))
    if got.raw_bytes[name] != exp.raw_bytes[name] and not any(d.file == name for d in result.drifts):
        result.drifts.append(Drift(name, "(file)", "(bytes)", f"sha-equal file of {len(exp.raw_bytes[name])} bytes",
                                   f"{len(got.raw_bytes[name])} bytes with the same cells (row order or number "
                                   "format differs)", tolerance))


def _rows(run: Run, name: str) -> dict[str, tuple]:
    """key -> (raw row, parsed row)."""
    key_cols = list(SPECS[name]["key"])
    raw, parsed = run.raw[name], run.tables[name]
    return {_key(raw.iloc[i], key_cols): (raw.iloc[i], parsed.iloc[i]) for i in range(len(raw))}


def _matched(result: CheckResult, name: str, got: Run, exp: Run):
    """Yield (key, (raw, parsed) got, (raw, parsed) expected) for rows in both; missing/extra rows are drifts."""
    g, e = _rows(got, name), _rows(exp, name)
    for key in e:
        if key not in g:
            result.drifts.append(Drift(name, key, "(row)", "row present", "row missing", "every row must be there"))
    for key in g:
        if key not in e:
            result.drifts.append(Drift(name, key, "(row)", "no such row", "row present", "every row must be there"))
    for key in e:
        if key in g:
            yield key, g[key], e[key]


def _same_text(result: CheckResult, name: str, key: str, column: str, g, e) -> None:
    result.checked += 1
    if str(g[0][column]) != str(e[0][column]):
        result.drifts.append(Drift(name, key, column, str(e[0][column]), str(g[0][column]),
                                   "exact (comes from the inputs, not from sampling)"))


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _same_share(result: CheckResult, name: str, key: str, column: str, g, e, st: _Stats) -> tuple[float, float]:
    """A share of the iterations (on time, critical, occurred) within 4 SE of a proportion; (got, expected)."""
    sg, se = float(g[1][column]), float(e[1][column])
    t = tol.proportion_tolerance(sg, st.n_g, se, st.n_e)
    result.checked += 1
    if abs(sg - se) > t:
        result.drifts.append(Drift(name, key, column, e[0][column], g[0][column],
                                   f"±{t:.4f} (4 SE of a proportion, n={st.n_e}/{st.n_g})"))
    return sg, se


class _Stats:
    """The two runs' sample sizes, CDFs and delay spreads, for the statistical rules."""

    def __init__(self, got: Run, exp: Run):
        self.n_g, self.n_e = got.iterations, exp.iterations
        self.cdf_g, self.cdf_e = cdf_steps(got), cdf_steps(exp)
        self.sd: dict[str, float] = {}
        for run in (got, exp):
            sim = run.get("simulation.csv")
            steps = cdf_steps(run)
            if sim is None:
                continue
            for _, row in sim.iterrows():
                pid = str(row["project_id"])
                deadline = row["deadline_m"]
                if pid in steps:
                    sd = tol.delay_sd(*steps[pid], deadline)
                else:  # no distribution: spread from the quantiles (normal: P90 - P50 = 1.28 sd)
                    sd = max(1.0, (int(row["finish_p90_m"]) - int(row["finish_p50_m"])) / 1.2816) \
                        if row["finish_p90_m"] is not None and row["finish_p50_m"] is not None else 12.0
                    sd = math.sqrt(sd * sd + 1 / 12)
                self.sd[pid] = max(self.sd.get(pid, 0.0), sd)
        projects = [v for k, v in self.sd.items() if k != PORTFOLIO]
        # The PORTFOLIO delay (the latest project's) spreads at most like the widest project's.
        self.sd_max = max(self.sd.values(), default=12.0)
        self.sd[PORTFOLIO] = self.sd_max
        # The delay summed over projects (risks.csv) has an sd of at most the sum of the projects' sds.
        self.sd_total = sum(projects) if projects else 12.0

    def cdf(self, which: str, pid: str):
        steps = (self.cdf_g if which == "got" else self.cdf_e).get(pid)
        return None if steps is None else (lambda m, s=steps: cdf_at(s, m))


def _check_simulation(result: CheckResult, got: Run, exp: Run, st: _Stats) -> None:
    name = "simulation.csv"
    for key, g, e in _matched(result, name, got, exp):
        for column in ("name_zh", "deadline"):
            _same_text(result, name, key, column, g, e)
        _same_share(result, name, key, "p_on_time", g, e, st)
        cdf_g, cdf_e = st.cdf("got", key), st.cdf("exp", key)
        for column, q in (("finish_p50", 0.5), ("finish_p80", 0.8), ("finish_p90", 0.9)):
            mg, me = g[1][column + "_m"], e[1][column + "_m"]
            result.checked += 1
            if _isnan(mg) or _isnan(me) or mg is None or me is None:
                if str(g[0][column]) != str(e[0][column]):
                    result.drifts.append(Drift(name, key, column, e[0][column], g[0][column], "both empty or equal"))
                continue
            mg, me = int(mg), int(me)
            if mg == me:
                continue
            band = tol.band_tolerance(q, st.n_g, st.n_e)
            if cdf_g is not None and cdf_e is not None:
                ok = tol.quantile_consistent(mg, q, cdf_e, band) and tol.quantile_consistent(me, q, cdf_g, band)
                rule = (f"each run's P{int(q * 100)} month must lie where the other run's CDF is within "
                        f"{q:.2f} ± {band:.3f}")
            else:  # no distribution.csv in both: the quantile's SE from the local slope between P50 and P90
                spread = max(1, int(e[1]["finish_p90_m"]) - int(e[1]["finish_p50_m"]))
                allowed = max(1, math.ceil(band * spread / 0.4))
                ok = abs(mg - me) <= allowed
                rule = f"±{allowed} month(s) (no distribution.csv: band {q:.2f} ± {band:.3f} over the P50–P90 slope)"
            if not ok:
                result.drifts.append(Drift(name, key, column, e[0][column], g[0][column], rule))
        dg, de = float(g[1]["mean_delay_months"]), float(e[1]["mean_delay_months"])
        sd = st.sd.get(key, st.sd_max)
        t = tol.mean_tolerance(sd, st.n_g, st.n_e)
        result.checked += 1
        if abs(dg - de) > t:
            result.drifts.append(Drift(name, key, "mean_delay_months", e[0]["mean_delay_months"],
                                       g[0]["mean_delay_months"], f"±{t:.2f} months (4 SE, sd {sd:.2f} months)"))


def _check_criticality(result: CheckResult, got: Run, exp: Run, st: _Stats) -> None:
    name = "criticality.csv"
    for key, g, e in _matched(result, name, got, exp):
        _same_text(result, name, key, "project_id", g, e)
        _same_share(result, name, key, "criticality", g, e, st)
        sg, se = g[1]["sensitivity"], e[1]["sensitivity"]
        result.checked += 1
        if _isnan(sg) or _isnan(se):
            if _isnan(sg) != _isnan(se):
                result.drifts.append(Drift(name, key, "sensitivity", e[0]["sensitivity"], g[0]["sensitivity"],
                                           "both empty (no variation) or both numbers"))
            continue
        lo, hi = tol.fisher_band(float(se), st.n_g, st.n_e)
        if not lo - 1e-9 <= float(sg) <= hi + 1e-9:
            rule = (f"{lo:.4f} to {hi:.4f} ({tol.Z:g} x {tol.SENSITIVITY_INFLATION:g} SE in Fisher z, "
                    "SE 1/sqrt(n-3) per run)")
            result.drifts.append(Drift(name, key, "sensitivity", e[0]["sensitivity"], g[0]["sensitivity"], rule))


def _check_risks(result: CheckResult, got: Run, exp: Run, st: _Stats) -> None:
    name = "risks.csv"
    sd = st.sd_total
    for key, g, e in _matched(result, name, got, exp):
        for column in ("name", "probability"):
            _same_text(result, name, key, column, g, e)
        og, oe = _same_share(result, name, key, "occurred", g, e, st)
        sg, se = tol.smoothed(og, st.n_g), tol.smoothed(oe, st.n_e)
        sizes = {
            "mean_delay_if_occurs": (st.n_g * sg, st.n_e * se),
            "mean_delay_if_not": (st.n_g * (1 - sg), st.n_e * (1 - se)),
            # contribution ~ share x difference of the two means: at most the SE of the difference
            "contribution_months": (st.n_g * sg * (1 - sg), st.n_e * se * (1 - se)),
        }
        for column, (n_g, n_e) in sizes.items():
            vg, ve = g[1][column], e[1][column]
            result.checked += 1
            if _isnan(vg) or _isnan(ve):
                if _isnan(vg) != _isnan(ve):
                    result.drifts.append(Drift(name, key, column, e[0][column], g[0][column],
                                               "both empty or both numbers"))
                continue
            t = tol.mean_tolerance(sd, n_g, n_e)
            if abs(float(vg) - float(ve)) > t:
                result.drifts.append(Drift(name, key, column, e[0][column], g[0][column],
                                           f"±{t:.2f} months (4 SE, sd {sd:.2f} months, "
                                           f"effective n {n_e:.0f}/{n_g:.0f})"))


def _check_distribution(result: CheckResult, got: Run, exp: Run, st: _Stats) -> None:
    name = "distribution.csv"
    for pid in st.cdf_e:
        if pid not in st.cdf_g:
            result.drifts.append(Drift(name, pid, "(rows)", "rows present", "no rows", "every project must be there"))
    for pid in st.cdf_g:
        if pid not in st.cdf_e:
            result.drifts.append(Drift(name, pid, "(rows)", "no rows", "rows present", "every project must be there"))
    for pid, steps_e in st.cdf_e.items():
        steps_g = st.cdf_g.get(pid)
        if steps_g is None:
            continue
        for month in sorted(set(steps_e[0]) | set(steps_g[0])):
            fe, fg = cdf_at(steps_e, month), cdf_at(steps_g, month)
            t = tol.proportion_tolerance(fg, st.n_g, fe, st.n_e, z=tol.Z_CURVE)
            result.checked += 1
            if abs(fg - fe) > t:
                result.drifts.append(Drift(name, f"{pid}/{month_text(month)}", "p_finished", f"{fe:.4f}",
                                           f"{fg:.4f}", f"±{t:.4f} ({tol.Z_CURVE:g} SE of a proportion, "
                                           f"n={st.n_e}/{st.n_g})"))


def same_sampling(got: Run, exp: Run) -> tuple[bool, str]:
    """Whether both runs drew the same random numbers (same seed and iterations), and a description.

    The engine is not part of it: the SimPy and the fast engine give the same bytes from the same draws.
    """
    a, b = got.simulation_settings, exp.simulation_settings
    keys = ("seed", "iterations")
    if all(a.get(k) is not None for k in keys) and all(a.get(k) == b.get(k) for k in keys):
        return True, f"same seed {a['seed']}, {a['iterations']} iterations"
    diff = ", ".join(f"{k} {b.get(k)} -> {a.get(k)}" for k in keys if a.get(k) != b.get(k))
    return False, diff or "sampling settings unknown"


# The simulation settings whose difference changes the draws or what is simulated (the engine does not: both
# engines give the same bytes). "plan" is the mode: the optimizer's plan ("given") or as soon as possible.
SAMPLING_KEYS = ("plan", "seed", "iterations", "distribution", "correlation", "carry_over", "deadline_pressure",
                 "funding", "stoppages")


def sampling_warnings(got: Run, exp: Run) -> list[str]:
    """Why this comparison is weaker than a same-draws one: differing settings, and the change it can miss."""
    a, b = got.simulation_settings, exp.simulation_settings
    differ = [k for k in SAMPLING_KEYS if a.get(k) != b.get(k)]
    if not differ:
        return []
    what = ", ".join(f"{k} {b.get(k)} (expected) vs {a.get(k)}" for k in differ)
    out = [f"the runs differ in {what}: the Monte Carlo files cannot be compared byte for byte"]
    n_g, n_e = got.iterations, exp.iterations
    if n_g and n_e:
        t = tol.proportion_tolerance(0.5, n_g, 0.5, n_e)
        out.append(f"within sampling error at n={n_e}/{n_g}, a P(on time) near 0.5 may move by up to ±{t:.3f} "
                   f"unnoticed; rerun with the expected run's seed and iterations "
                   f"(--seed {b.get('seed')} --iterations {n_e}) to catch any change")
    return out


def _plan_warnings(got: Run, exp: Run) -> list[str]:
    """A plan stopped by the wall clock may differ from run to run: say so, as it explains plan drifts."""
    out = []
    for which, run in (("expected", exp), ("checked", got)):
        optimizer = run.manifest.get("optimizer")
        if isinstance(optimizer, dict) and optimizer.get("reproducible") is False:
            out.append(f"the {which} run's plan is marked not reproducible (the wall-clock safety net stopped "
                       "its search): its plan files depend on the machine's load")
    return out


def check_runs(folder, expected) -> CheckResult:
    """Compare run folder ``folder`` (got) with ``expected``; every drift beyond the written tolerances."""
    got, exp = load_run(folder), load_run(expected)
    result = CheckResult(folder=str(folder), expected=str(expected))
    for name in PLAN_FILES + MC_FILES:
        if exp.has(name) and not got.has(name):
            result.drifts.append(Drift(name, "(file)", "(file)", "present", "missing", "every expected file"))
        elif got.has(name) and not exp.has(name):
            result.drifts.append(Drift(name, "(file)", "(file)", "absent", "present", "only the expected files"))
    for name in PLAN_FILES:
        if got.has(name) and exp.has(name):
            _exact_table(result, name, got, exp, "exact (deterministic plan file)")
    mc = [n for n in MC_FILES if got.has(n) and exp.has(n)]
    if mc:
        same, how = same_sampling(got, exp)
        if same:
            result.mode = f"Monte Carlo files compared byte for byte: {how}"
            for name in mc:
                _exact_table(result, name, got, exp, f"identical ({how})")
        else:
            result.mode = f"Monte Carlo figures compared within sampling error ({how})"
            st = _Stats(got, exp)
            if "simulation.csv" in mc:
                _check_simulation(result, got, exp, st)
            if "criticality.csv" in mc:
                _check_criticality(result, got, exp, st)
            if "risks.csv" in mc:
                _check_risks(result, got, exp, st)
            if "distribution.csv" in mc:
                _check_distribution(result, got, exp, st)
        result.warnings += sampling_warnings(got, exp)
    else:
        result.mode = "no Monte Carlo files to compare"
    result.warnings += _plan_warnings(got, exp)
    changed = _changed_inputs(got, exp)
    if changed and result.drifts:
        result.notes.append("the inputs differ from the expected run's: " + ", ".join(changed))
    return result


def _changed_inputs(got: Run, exp: Run) -> list[str]:
    a = got.manifest.get("inputs") if isinstance(got.manifest.get("inputs"), dict) else {}
    b = exp.manifest.get("inputs") if isinstance(exp.manifest.get("inputs"), dict) else {}
    out = [f"{k} (changed)" for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    out += [f"{k} (new)" for k in sorted(set(a) - set(b))]
    out += [f"{k} (gone)" for k in sorted(set(b) - set(a))]
    return out
