"""The `sharelab` command: run a scenario and report it.

Bad input ends with exit status 2 and one line naming the file and the key;
nothing is written in that case.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from tqdm import tqdm

from simulation.model import SocialCommerceModel
from simulation.results import default_run_dir, write_run
from simulation.scenario import ScenarioError, load_scenario, parse_override

BAD_INPUT = 2
SUMMARY_ROWS = (
    ("Growth", None, None),
    ("days simulated", "days", "{:,}"),
    ("people on the graph", "people", "{:,}"),
    ("members at the end", "members", "{:,}"),
    ("members ever", "ever_members", "{:,}"),
    ("final penetration", "final_penetration", "{:.1%}"),
    ("peak day of joining", "peak_join_day", "{:,}"),
    ("orders", "orders", "{:,}"),
    ("shares received", "exposures", "{:,}"),
    ("Economics", None, None),
    ("GMV (RMB)", "gmv", "{:,.2f}"),
    ("commissions paid (RMB)", "commissions_paid", "{:,.2f}"),
    ("entry fees (RMB)", "fee_revenue", "{:,.2f}"),
    ("platform margin (RMB)", "platform_margin", "{:,.2f}"),
    ("payout ratio", "payout_ratio", "{:.1%}"),
    ("median member net income (RMB)", "median_net_income", "{:,.2f}"),
    ("Compliance", None, None),
    ("recruitment reward share", "recruitment_reward_share", "{:.1%}"),
    ("entry fee share of revenue", "entry_fee_share", "{:.1%}"),
    ("paid depth (levels)", "paid_depth", "{:,}"),
    ("members who lost money", "loss_fraction", "{:.1%}"),
    ("income Gini", "income_gini", "{:.3f}"),
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, f"sharelab: error: {message}\n")


def non_negative(text: str) -> int:
    """An integer ≥ 0, for --steps and --seed."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="sharelab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    run = commands.add_parser("run", help="simulate a scenario and write its results")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--seed", type=non_negative, help="override run.seed")
    run.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a scenario key (repeatable); the value is read as TOML",
    )
    run.add_argument(
        "--out", type=Path, help="results folder (default: results/<scenario>/<run id>/)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_command(args)
    except ScenarioError as err:
        print(f"sharelab: error: {err}", file=sys.stderr)
        return BAD_INPUT


def run_command(args: argparse.Namespace) -> int:
    """`sharelab run`: validate everything, simulate, then write all results at once."""
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    scenario = load_scenario(args.scenario, overrides)
    out = args.out or default_run_dir(Path("results"), scenario.name, scenario.run.seed)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError("--out", None, f"{out} exists and is not empty; choose another")
    model = SocialCommerceModel(scenario)
    with tqdm(
        total=scenario.run.steps,
        desc=scenario.name,
        unit="day",
        disable=args.quiet,
        file=sys.stderr,
    ) as bar:
        model.run(progress=lambda _day: bar.update())
    summary = write_run(model, out)
    print(format_summary(summary))
    print(f"\nresults: {out}")
    return 0


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as an aligned two-column table, grouped by theme."""
    width = max(len(label) for label, _, _ in SUMMARY_ROWS)
    lines = [f"{summary['scenario']} · seed {summary['seed']} · hash {summary['scenario_hash']}"]
    for label, key, fmt in SUMMARY_ROWS:
        if key is None:
            lines += ["", label, "-" * (width + 16)]
        else:
            lines.append(f"{label:<{width}}  {fmt.format(summary[key]):>14}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
