"""Import, validate, schedule and simulate every P6 XER, MSPDI and .mpp sample of a folder; compare counts with its inventory.

    python benchmarks/interop_check.py [DIR] [--iterations N] [--tables FILE.md]

DIR (required) holds xer/, mspdi/, derived/, mpp/ and an
inventory.json with the counts per file (activities, links per type). Prints one table row per
file: activities imported (plus MSPDI summary tasks, which become projects), the file's
links per type as the reader counted them, the inventory's figures, the status of each
stage and the seconds taken. Exit 1 when a count differs or a stage fails. The .mpp files are
read only with the optional extra [mpp] and Java (docs/interop.md); without them they are listed as skipped.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import interop  # noqa: E402
from interop.datafolder import write_data_folder  # noqa: E402
from interop.mpp import mpxj_available  # noqa: E402
from portfolio.quality import assess, table  # noqa: E402
from scenarios.load import load_target  # noqa: E402

TYPES = ("FS", "SS", "FF", "SF")
quality_tables: dict[str, str] = {}  # file -> its quality gate table (for --tables)


def _expected(entry: dict) -> tuple[int, dict[str, int]]:
    if entry["format"] == "XER":
        return entry["activities"], {k.removeprefix("PR_"): v for k, v in entry.get("rel_types", {}).items()}
    if entry["format"] == "MPP":  # counted with MPXJ: tasks include the summaries, as for MSPDI
        return entry["tasks"], entry.get("rel_types", {})
    return entry["tasks"], entry.get("link_types", {})


def _links(counts: dict[str, int]) -> str:
    return "/".join(str(counts.get(t, 0)) for t in TYPES)


def _stage(args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True)
    if done.returncode == 0:
        return "ok"
    last = (done.stderr.strip().splitlines() or ["?"])[-1]
    return f"exit {done.returncode}: {last[:60]}"


def check_file(path: Path, entry: dict, work: Path, iterations: int) -> tuple[list[str], bool]:
    start = time.perf_counter()
    schedule = interop.read_schedule(path)
    data = work / path.stem
    write_data_folder(schedule, data, "logistics")
    activities = len(schedule.activities) + schedule.summary_tasks
    want_activities, want_links = _expected(entry)
    counts_ok = activities == want_activities and all(schedule.links_in_file.get(t, 0) == want_links.get(t, 0) for t in TYPES)
    scenario = str(data / "scenario.toml")
    validate = _stage(["validate", scenario])
    schedule_status = _stage(["schedule", scenario, "--out", str(work / f"{path.stem}.plan"), "--workers", "1"])
    simulate = _stage(["simulate", scenario, "--out", str(work / f"{path.stem}.sim"), "--plan",
                       str(work / f"{path.stem}.plan"), "--iterations", str(iterations), "--workers", "1"]) \
        if schedule_status == "ok" else "skipped"
    imported_links = sum(len(a.links) for a in schedule.activities)
    portfolio, settings = load_target(scenario)
    checks = assess(portfolio, settings.status_date, settings.deadline)
    quality_tables[f"{path.parent.name}/{path.name}"] = table(checks)
    failed = [c.name.split(" (")[0] for c in checks if c.passed is False]
    row = [f"{path.parent.name}/{path.name}", schedule.format,
           f"{len(schedule.activities)}+{schedule.summary_tasks}" if schedule.summary_tasks else str(len(schedule.activities)),
           _links(schedule.links_in_file), str(imported_links), f"{want_activities} {_links(want_links)}",
           "yes" if counts_ok else "NO", validate, schedule_status, simulate,
           f"{len(failed)}: {', '.join(failed)}" if failed else "0", f"{time.perf_counter() - start:.1f}"]
    return row, counts_ok and validate == schedule_status == simulate == "ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="the samples folder (xer/, mspdi/, inventory.json)")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--tables", metavar="FILE.md", help="Also write each file's quality gate table to FILE.md.")
    options = parser.parse_args()
    base = Path(options.dir)
    inventory = json.loads((base / "inventory.json").read_text(encoding="utf-8"))
    files = [base / name for name in sorted(inventory) if name.endswith((".xer", ".xml"))]
    mpp = [base / name for name in sorted(inventory) if name.endswith(".mpp")]
    if mpxj_available():
        files += mpp
    header = ["file", "format", "activities", "links FS/SS/FF/SF", "links imported", "expected acts links",
              "counts equal", "validate", "schedule", "simulate",
              "quality checks failed", "s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            row, good = check_file(path, inventory[str(path.relative_to(base))], Path(tmp), options.iterations)
            ok &= good
            print("| " + " | ".join(row) + " |", flush=True)
    if mpp and not mpxj_available():
        print(f"\n{len(mpp)} .mpp files skipped: they need the extra [mpp] and Java (docs/interop.md)")
    if options.tables:
        text = ["# Quality gate of each interop sample", "",
                "Written by `python benchmarks/interop_check.py DIR --tables FILE.md` (docs/interop.md, "
                "\"Quality checks\"; default thresholds; the status date and deadline of each import's scenario.toml).", ""]
        for name, body in quality_tables.items():
            text += [f"## {name}", "", body, ""]
        Path(options.tables).write_text("\n".join(text), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
