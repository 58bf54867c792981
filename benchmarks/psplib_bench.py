"""PSPLIB benchmark of the scheduler's CP-SAT model core (see BENCHMARKS.md, section PSPLIB).

Runs the same solver as ``portfolio psplib`` over a set of instances, one at a
time, writes one CSV row per instance and prints a summary against the known
optima / best known bounds.

The full PSPLIB sets are not in the repository: download them from PSPLIB
(https://www.om-db.wi.tum.de/psplib/) and give the folder that holds j30/, j60/,
j120/ and the bounds files (j30opt.sm, j60lb.sm, ...) with --psplib-dir.
tests/data/psplib is a 25-instance j30 subset, enough to try the script.

    python benchmarks/psplib_bench.py j30 --psplib-dir path/to/psplib --time-limit 10 --workers 1 --out out/j30.csv
    python benchmarks/psplib_bench.py j120 --every 5 --time-limit 10 --out out/j120.csv

Variants for measuring model ideas: --no-hint, --no-energy, --no-set-weights,
--set-resource, --pair-delays, --search settimes, --phases JSON, --ga SHARE
(0 = list scheduling instead of the GA), --ga-population N, --param NAME=VALUE
(CP-SAT parameter, repeatable; lists as JSON), --params-none (CP-SAT defaults
instead of the tuned ones).

The same model core on a portfolio scenario (solve time and proof per seed, and
model variants such as the funding encoding):

    python benchmarks/psplib_bench.py scenario scenarios/baseline.toml --seeds 1,2,3 --time-limit 60
    python benchmarks/psplib_bench.py scenario scenarios/baseline.toml --model funding_encoding=linmax
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimize import bnb, ga, psplib  # noqa: E402

FAMILIES = ("j30", "j60", "j120")


def instances(data: Path, family: str, every: int, first: int | None, groups: set[int] | None) -> list[Path]:
    files = [f for f in (data / family).glob("*.sm") if psplib.parse_name(f.name)]
    files.sort(key=lambda f: psplib.parse_name(f.name)[1:])
    if groups:
        files = [f for f in files if psplib.parse_name(f.name)[1] in groups]
    files = files[::every]
    return files[:first] if first else files


def instance_folder(ap: argparse.ArgumentParser, given: Path | None, family: str) -> Path:
    """The PSPLIB folder to read; a usage error (exit 2) that says where to get the sets when there is none."""
    if given is None:
        ap.error("no PSPLIB instances: download the sets from https://www.om-db.wi.tum.de/psplib/ and give "
                 "their folder with --psplib-dir (it holds j30/, j60/, j120/ and the bounds files)")
    if not (given / family).is_dir():
        ap.error(f"--psplib-dir {given}: no {family}/ folder of .sm instances there")
    return given


def parse_value(text: str):
    if text.startswith("["):
        return json.loads(text)
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def scenario_main(argv) -> int:
    ap = argparse.ArgumentParser(description="Solve a portfolio scenario with several seeds and report each stage.")
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seeds", default="20210101", help="comma-separated CP-SAT seeds")
    ap.add_argument("--model", action="append", default=[], help="core.ModelOptions field NAME=VALUE")
    ap.add_argument("--param", action="append", default=[], help="CP-SAT parameter NAME=VALUE")
    args = ap.parse_args(argv)
    import optimize
    from scenarios.load import load_target

    portfolio, settings = load_target(args.scenario)
    model = {k: parse_value(v) for k, _, v in (m.partition("=") for m in args.model)}
    params = {k: parse_value(v) for k, _, v in (m.partition("=") for m in args.param)}
    print(f"scenario {args.scenario}: {len(portfolio.activities)} activities, time limit {args.time_limit:g} s, "
          f"{args.workers} worker(s), model {model or 'default'}, params {params or 'default'}")
    for seed in (int(x) for x in args.seeds.split(",")):
        plan = optimize.solve(portfolio, settings, time_limit=args.time_limit, workers=args.workers, seed=seed,
                              params=params or None, model_options=model or None)
        stages = "; ".join(f"{st.name} {st.value:g} (bound {st.bound:g}{', optimal' if st.optimal else ''}, "
                           f"{st.seconds:.1f} s)" for st in plan.stages)
        print(f"seed {seed}: {plan.status}, gap {100 * plan.gap:.2f}%, {plan.seconds:.1f} s: {stages}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "scenario":
        return scenario_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("family", choices=FAMILIES)
    ap.add_argument("--psplib-dir", "--data", dest="data", metavar="DIR", type=Path, default=None,
                    help="folder with j30/, j60/, j120/ and the bounds files (required)")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--every", type=int, default=1, help="take every k-th instance (in parameter, instance order)")
    ap.add_argument("--first", type=int, default=None, help="only the first N instances (after --every)")
    ap.add_argument("--groups", type=str, default="", help="only these parameter groups, e.g. 13,29,45")
    ap.add_argument("--names", type=str, default="", help="only these instances, e.g. j3013_1,j3029_3")
    ap.add_argument("--no-hint", action="store_true")
    ap.add_argument("--no-energy", action="store_true")
    ap.add_argument("--no-set-weights", action="store_true", help="without the feasible-set bound and resource")
    ap.add_argument("--set-resource", action="store_true", help="the feasible-set weights as a redundant resource")
    ap.add_argument("--pair-delays", dest="pair_delays", action="store_true", default=None)
    ap.add_argument("--no-pair-delays", dest="pair_delays", action="store_false")
    ap.add_argument("--search", choices=("auto", "settimes"), default=None)
    ap.add_argument("--phases", default=None, help='JSON list of [share, {CP-SAT params}], e.g. [[0.3, {}], [1, {"optimize_with_lb_tree_search": true}]]')
    ap.add_argument("--params-none", action="store_true", help="CP-SAT default parameters")
    ap.add_argument("--param", action="append", default=[], help="CP-SAT parameter NAME=VALUE")
    ap.add_argument("--ga", type=float, default=None, help="GA hint until this share of the time limit (0 = list scheduling)")
    ap.add_argument("--ga-population", type=int, default=None)
    ap.add_argument("--bnb-after", type=float, default=None, help="branch-and-bound after this share of the time limit (1 = CP-SAT only)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.data = instance_folder(ap, args.data, args.family)

    bounds = psplib.known_bounds(args.data, args.family)
    groups = {int(g) for g in args.groups.split(",") if g} or None
    files = instances(args.data, args.family, args.every, args.first, groups)
    if args.names:
        wanted = set(args.names.split(","))
        files = [f for f in files if f.stem in wanted]
    params = {} if args.params_none else dict(psplib.DEFAULT_PARAMS)
    for item in args.param:
        name, _, value = item.partition("=")
        params[name] = parse_value(value)
    options = psplib.Options(hint=not args.no_hint, energy_tails=not args.no_energy, energy_heads=not args.no_energy, params=params,
                             set_weights=not args.no_set_weights, set_resource=args.set_resource)
    if args.pair_delays is not None:
        options.pair_delays = args.pair_delays
    if args.search is not None:
        options.search = args.search
    for flag, field in (("ga", "ga_until"), ("ga_population", "ga_population"), ("bnb_after", "bnb_after")):
        if getattr(args, flag) is not None:
            setattr(options, field, getattr(args, flag))
    if args.phases is not None:
        options.phases = [(float(a), dict(b)) for a, b in json.loads(args.phases)]
        options.params = params or None

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    ga.compile_now()  # numba compiles once per machine (cached on disk); not part of any instance's time
    bnb.compile_now()
    t0 = time.perf_counter()
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["instance", "makespan", "lower_bound", "optimal", "seconds", "best_ub", "best_lb", "gap_to_best_ub"])
        for f in files:
            inst = psplib.read_sm(f)
            r = psplib.solve_instance(inst, args.time_limit, args.workers, options=options)
            ub, lb = bounds.get(psplib.parse_name(f.name)[1:], (None, None))
            gap = (r.makespan - ub) / ub if ub and r.makespan is not None else None
            row = [r.instance, r.makespan, r.lower_bound, str(r.optimal).lower(), f"{r.seconds:.3f}", ub, lb,
                   "" if gap is None else f"{gap:.6f}"]
            writer.writerow(row)
            fh.flush()
            rows.append((r, ub, lb, gap))
    wall = time.perf_counter() - t0

    n = len(rows)
    proven = sum(r.optimal for r, *_ in rows)
    match_ub = sum(1 for r, ub, *_ in rows if ub is not None and r.makespan == ub)
    below = sum(1 for r, ub, *_ in rows if ub is not None and r.makespan is not None and r.makespan < ub)
    gaps = [g for *_, g in rows if g is not None]
    print(f"family {args.family}: {n} instances, time limit {args.time_limit:g} s, {args.workers} worker(s)")
    print(f"params: {params}  hint={options.hint} energy={options.energy_tails} pair_delays={options.pair_delays} search={options.search} phases={options.phases} "
          f"ga_until={options.ga_until} bnb_after={options.bnb_after} "
          f"ga_population={options.ga_population}")
    print(f"proven optimal: {proven}/{n}")
    print(f"makespan equal to best known UB{' (= optimum)' if args.family == 'j30' else ''}: {match_ub}/{n}; better: {below}")
    if gaps:
        print(f"mean gap to best known UB: {100 * statistics.fmean(gaps):.3f}%  (max {100 * max(gaps):.2f}%)")
    secs = [r.seconds for r, *_ in rows]
    if secs:
        print(f"seconds per instance: mean {statistics.fmean(secs):.3f}, max {max(secs):.2f}; wall {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
