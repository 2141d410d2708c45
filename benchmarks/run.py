"""Time the baseline scenario at several population sizes (mean degree 20, 365 days,
every mechanism on), and show how work per day scales with events and with people.

Each run is a fresh process so that its peak memory is its own. Prints three tables:
the runs (graph build and simulation separately, exposures and person-days per second,
peak resident memory, and beside them the same run end to end through the CLI as a user
runs it, `sharelab run scenarios/baseline.toml --set population.size=N --steps S --out
DIR`: process start to exit with the results written, and that process's peak memory),
seconds per entry of the plan, and a "quiet world" check: the same fixed activity (a few
hundred members, no recruiting) on ever larger graphs, where time per day should grow
with events, not with people (timed after a first day, which loads the compiled kernels).
Usage: python benchmarks/run.py [--sizes 10000 100000 1000000 10000000] [--steps 365]
       [--no-cli] [--no-quiet] [--quiet-days 60] [--quiet-warmup 1]
(10M people: about 8 minutes and 6 GiB a run, on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
QUIET = {
    "population.initial_members": 300,
    "recruitment.invite_prob": 0.0,
    "platform.organic_join_prob": 0.0,
    "churn.quit_prob": 0.0,
    "churn.inactive_days": 0,
}

MEASURE = """
import json, resource, sys, time
from simulation import SocialCommerceModel, load_scenario
size, steps, warmup = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[5])
overrides = json.loads(sys.argv[4]) | {"population.size": size, "run.steps": warmup + steps,
                                       "graph.mean_degree": 20.0}
scenario = load_scenario(sys.argv[3], overrides)
start = time.perf_counter()
model = SocialCommerceModel(scenario, profile=True)
built = time.perf_counter()
model.run(warmup)
started = time.perf_counter()
model.run(steps)
done = time.perf_counter()
summary = model.summary()
print(json.dumps({
    "people": size, "ties": summary["ties"], "build_s": built - start, "run_s": done - started,
    "total_s": done - start, "exposures": summary["exposures"], "orders": summary["orders"],
    "members": summary["ever_members"], "steps": steps, "warmup": warmup,
    "phases": model.clock.seconds,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure(size: int, steps: int, overrides: dict | None = None, warmup: int = 0) -> dict:
    """The baseline at `size` people in a fresh process: `warmup` days untimed, then
    `steps` days timed."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            str(size),
            str(steps),
            str(BASELINE),
            json.dumps(overrides or {}),
            str(warmup),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_cli(size: int, steps: int) -> dict:
    """`sharelab run` on the baseline at `size` people in a fresh process: seconds from
    its start to its exit (results written) and its peak resident memory."""
    with tempfile.TemporaryDirectory(prefix="sharelab-bench-") as folder:
        out = Path(folder) / "run"
        command = [
            sys.executable,
            "-m",
            "simulation.command",
            "run",
            str(BASELINE),
            "--set",
            f"population.size={size}",
            "--set",
            "graph.mean_degree=20.0",
            "--steps",
            str(steps),
            "--out",
            str(out),
            "--quiet",
        ]
        with tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
            _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
            seconds = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip()
                raise RuntimeError(f"{' '.join(command)} failed: {message}")
        written = sum(1 for path in out.rglob("*") if path.is_file())
    return {"cli_s": seconds, "cli_peak_mib": usage.ru_maxrss / 1024, "cli_files": written}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=365)
    parser.add_argument("--quiet-days", type=int, default=60)
    parser.add_argument(
        "--quiet-warmup",
        type=int,
        default=1,
        help="days run before the quiet world is timed (the first loads every compiled "
        "kernel, about 0.1 s once a process: a start-up cost, not a day's)",
    )
    parser.add_argument(
        "--no-cli", action="store_true", help="skip the end-to-end `sharelab run` timing"
    )
    parser.add_argument("--no-quiet", action="store_true", help="skip the quiet-world table")
    args = parser.parse_args()
    rows = []
    print(
        f"{'people':>10} {'ties':>11} {'build s':>8} {'run s':>8} {'total s':>8} "
        f"{'CLI s':>8} {'exposures':>11} {'exposures/s':>12} {'person-days/s':>14} "
        f"{'ever members':>13} {'peak MiB':>9} {'CLI MiB':>8}"
    )
    for size in args.sizes:
        row = measure(size, args.steps)
        if not args.no_cli:
            row |= measure_cli(size, args.steps)
        rows.append(row)
        rate = row["exposures"] / row["run_s"] if row["run_s"] else 0.0
        person_days = size * row["steps"] / row["run_s"] if row["run_s"] else 0.0
        cli_s = f"{row['cli_s']:>8.2f}" if "cli_s" in row else f"{'-':>8}"
        cli_mib = f"{row['cli_peak_mib']:>8,.0f}" if "cli_s" in row else f"{'-':>8}"
        print(
            f"{row['people']:>10,} {row['ties']:>11,} {row['build_s']:>8.2f} "
            f"{row['run_s']:>8.2f} {row['total_s']:>8.2f} {cli_s} {row['exposures']:>11,} "
            f"{rate:>12,.0f} {person_days:>14,.0f} {row['members']:>13,} "
            f"{row['peak_mib']:>9,.0f} {cli_mib}",
            flush=True,
        )
    print(
        "(total s: model built and run in process; CLI s: `sharelab run` from process start"
        " to exit, results written; peak MiB / CLI MiB: each process's peak resident memory)"
    )
    print("\nseconds per entry of the plan")
    for row in rows:
        cells = ", ".join(f"{entry} {seconds:.2f}" for entry, seconds in row["phases"].items())
        print(f"{row['people']:>10,}: {cells}")
    if args.no_quiet:
        return
    print(
        f"\nquiet world: 300 members, no recruiting, {args.quiet_days} days timed after "
        f"{args.quiet_warmup} untimed"
    )
    print(f"{'people':>10} {'exposures/day':>14} {'ms/day':>8} {'µs per exposure':>16}")
    for size in args.sizes:
        row = measure(size, args.quiet_days, QUIET, args.quiet_warmup)
        per_day = row["exposures"] / (row["warmup"] + row["steps"])
        ms = 1000 * row["run_s"] / row["steps"]
        print(
            f"{size:>10,} {per_day:>14,.0f} {ms:>8.2f} {1000 * ms / max(per_day, 1):>16.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
