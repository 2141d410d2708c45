"""The return on community spending, from `sharelab compare --change community.budget=X`
folders: per seed, the margin gained per RMB spent, Δmargin / spend (−1: nothing of the
spend comes back; 0: it pays for itself), and its mean with a 95% Student-t interval
over the paired replicates.

Usage: python docs/studies/community_return.py RESULTS_DIR [RESULTS_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from simulation.experiments.analysis import mean_ci


def paired_return(folder: Path) -> tuple[float, int, tuple[float, float, float]]:
    """The budget compared, the number of pairs, and Δmargin / spend (mean, low, high)."""
    runs = pd.read_parquet(folder / "runs" / "runs.parquet")
    runs = runs[runs["status"] == "done"] if "status" in runs else runs
    by_seed = runs.pivot_table(
        index="seed", columns="community.budget", values=["platform_margin", "community_spend"]
    )
    (budget,) = [b for b in by_seed["community_spend"].columns if b != 0.0]
    gained = by_seed["platform_margin"][budget] - by_seed["platform_margin"][0.0]
    ratio = (gained / by_seed["community_spend"][budget]).dropna()
    return budget, int(ratio.size), mean_ci(ratio.to_numpy())


def main(folders: list[str]) -> None:
    print("| budget (RMB a member a month) | pairs | Δmargin / spend (95% CI) |")
    print("|---|---|---|")
    for folder in folders:
        budget, pairs, (mean, low, high) = paired_return(Path(folder))
        print(f"| {budget:g} | {pairs} | {mean:+.3f} ({low:+.3f} to {high:+.3f}) |")


if __name__ == "__main__":
    main(sys.argv[1:])
