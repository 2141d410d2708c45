"""Sweep throughput: runs per minute for 10,000-person, 365-day baseline runs.

Usage: python benchmarks/sweep.py [--workers 2] [--runs 8] [--size 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from simulation.experiments.runner import Sweep

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--dask", help="'local' or a scheduler address")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sweep = Sweep(
            BASELINE,
            vary={"commission.entry_fee": [0.0, 99.0]},
            replicates=max(1, args.runs // 2),
            overrides={"population.size": args.size},
            workers=args.workers,
            dask=args.dask,
            out=Path(folder) / "store",
            progress=False,
        )
        start = time.perf_counter()
        runs = sweep.run()
        elapsed = time.perf_counter() - start
    print(
        f"{'runs':>5} {'people':>8} {'workers':>8} {'wall s':>8} {'runs/min':>9} {'mean run s':>11}"
    )
    print(
        f"{len(runs):>5} {args.size:>8,} {args.workers:>8} {elapsed:>8.2f} "
        f"{60 * len(runs) / elapsed:>9.1f} {runs['wall_s'].mean():>11.2f}"
    )


if __name__ == "__main__":
    main()
