"""Time the baseline scenario at several population sizes (mean degree 20, 365 days).

Each size runs in a fresh process so that peak memory is its own. Prints wall
seconds (graph build and simulation separately), exposures per second and peak
resident memory. Usage: python benchmarks/run.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

MEASURE = """
import json, resource, sys, time
from simulation import SocialCommerceModel, load_scenario
size, steps = int(sys.argv[1]), int(sys.argv[2])
scenario = load_scenario(sys.argv[3], {"population.size": size, "run.steps": steps,
                                       "graph.mean_degree": 20.0})
start = time.perf_counter()
model = SocialCommerceModel(scenario)
built = time.perf_counter()
model.run()
done = time.perf_counter()
summary = model.summary()
print(json.dumps({
    "people": size, "ties": summary["ties"], "build_s": built - start, "run_s": done - built,
    "total_s": done - start, "exposures": summary["exposures"], "members": summary["ever_members"],
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure(size: int, steps: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(size), str(steps), str(BASELINE)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=365)
    args = parser.parse_args()
    header = (
        f"{'people':>10} {'ties':>11} {'build s':>8} {'run s':>8} {'total s':>8} "
        f"{'exposures':>11} {'exposures/s':>12} {'ever members':>13} {'peak MiB':>9}"
    )
    print(header)
    for size in args.sizes:
        row = measure(size, args.steps)
        rate = row["exposures"] / row["run_s"] if row["run_s"] else 0.0
        print(
            f"{row['people']:>10,} {row['ties']:>11,} {row['build_s']:>8.2f} "
            f"{row['run_s']:>8.2f} {row['total_s']:>8.2f} {row['exposures']:>11,} "
            f"{rate:>12,.0f} {row['members']:>13,} {row['peak_mib']:>9,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
