"""Write docs/scheme_comparison.md: every scheme preset at 20,000 people for 365 days,
three seeds, each figure's mean and 95% confidence interval, and the flags raised.

Usage: python docs/scheme_comparison.py [--seeds 3] [--workers 2]
"""

from __future__ import annotations

import argparse
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from simulation import SocialCommerceModel, load_scenario
from simulation.experiments.analysis import mean_ci
from simulation.mechanisms.base import Metric
from simulation.model import METRICS

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("affiliate", "two_level", "unilevel3", "differential", "geometric", "pyramid")
ROWS = (
    "ever_members",
    "gmv",
    "brushed_gmv",
    "brushed_order_share",
    "platform_margin",
    "payout_ratio",
    "recruitment_reward_share",
    "fee_revenue",
    "entry_fee_share",
    "owed_pay",
    "paid_depth",
    "criminal_threshold_trees",
    "over_direct_selling_cap_share",
    "internal_consumption_share",
    "retail_customers_per_member",
    "unsold_purchase_share",
    "loss_fraction",
    "loss_fraction_at_retail",
    "loss_fraction_at_cost",
)


def summary(job: tuple[str, int]) -> dict:
    name, seed = job
    scenario = load_scenario(ROOT / "scenarios" / "schemes" / f"{name}.toml")
    model = SocialCommerceModel(scenario, rng=seed)
    model.run()
    return model.summary()


def cell(values: list, metric: Metric) -> str:
    """Mean and 95% interval over seeds; an interval of a non-negative count or share is
    cut at 0; "n/a" where the indicator does not apply, and how many runs it applied to
    where that is not all."""
    present = np.array([v for v in values if v is not None], dtype=float)
    if not present.size:
        return "n/a"
    fmt = "{:,.1f}" if metric.fmt == "{:,}" else metric.fmt
    mean, low, high = mean_ci(present)
    if metric.unit != "RMB" and present.min() >= 0:
        low = max(low, 0.0)
    shown = fmt.format(mean)
    if present.size > 1 and low != high:
        shown += f" ({fmt.format(low)}–{fmt.format(high)})"
    if present.size < len(values):
        shown += f"; applies in {present.size} of {len(values)} runs"
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(name, seed) for name in PRESETS for seed in range(1, args.seeds + 1)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = dict(zip(jobs, pool.map(summary, jobs), strict=True))
    declared = {m.name: m for m in METRICS if m.kind != "daily"}
    header = ["", *PRESETS]
    lines = [
        "# Scheme presets compared",
        "",
        f"Each preset of `scenarios/schemes/` at 20,000 people for 365 days, seeds 1–"
        f"{args.seeds}: the mean, and in brackets the 95% confidence interval over seeds "
        "(t distribution). Money in RMB, net of fake orders and refunds; losses under each "
        "valuation of a gift package (docs/model.md §7.10); n/a where an indicator does "
        "not apply to any run, and the mean of the runs where it applies otherwise. "
        "Flags: how many of the runs raised each. Written by `python docs/scheme_comparison.py`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for key in ROWS:
        metric = declared[key]
        cells = [
            cell([results[(name, s)][key] for s in range(1, args.seeds + 1)], metric)
            for name in PRESETS
        ]
        lines.append(f"| {metric.label} | " + " | ".join(cells) + " |")
    flags = []
    for name in PRESETS:
        raised = Counter(
            f["rule"] for s in range(1, args.seeds + 1) for f in results[(name, s)]["flags"]
        )
        flags.append(
            "; ".join(f"{rule} ({n}/{args.seeds})" for rule, n in raised.items()) or "none"
        )
    lines.append("| flags | " + " | ".join(flags) + " |")
    (ROOT / "docs" / "scheme_comparison.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
