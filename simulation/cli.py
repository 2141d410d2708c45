"""The `sharelab` command: run a scenario, audit a scheme, compare runs.

Bad input ends with exit status 2 and one line naming the file and the key;
nothing is written in that case.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from simulation.experiments import analysis
from simulation.experiments.design import Design, parse_ranges, parse_vary
from simulation.experiments.runner import Sweep
from simulation.experiments.store import SweepStore
from simulation.mechanisms.commission.auditor import audit
from simulation.model import SocialCommerceModel
from simulation.results import default_run_dir, staged, utc_stamp, write_files, write_run
from simulation.scenario import ScenarioError, load_scenario, parse_override
from simulation.viz.report import write_report
from simulation.viz.tables import comparison_table, format_audit, format_summary, markdown_table

BAD_INPUT = 2


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
    add_overrides(run)
    run.add_argument(
        "--out", type=Path, help="results folder (default: results/<scenario>/<run id>/)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    check = commands.add_parser("audit", help="static properties of a scenario's scheme")
    check.add_argument("scenario", type=Path, help="scenario TOML file")
    add_overrides(check)
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sweep = commands.add_parser("sweep", help="replicated runs over a design, into a store")
    sweep.add_argument("scenario", type=Path, help="scenario TOML file")
    sweep.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="values to cross (repeatable; factorial design)",
    )
    sweep.add_argument("--sample", metavar="METHOD:N", help="lhs:N, sobol:N or morris:N")
    sweep.add_argument(
        "--range",
        dest="ranges",
        action="append",
        default=[],
        metavar="KEY=LOW:HIGH",
        help="a sampled parameter's range (repeatable)",
    )
    sweep.add_argument("--replicates", type=non_negative, default=1, help="runs per point")
    sweep.add_argument("--workers", type=non_negative, default=1, help="local processes")
    sweep.add_argument(
        "--dask",
        metavar="local|tcp://HOST:PORT",
        help="run on a Dask LocalCluster or an existing cluster",
    )
    sweep.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    add_overrides(sweep)
    sweep.add_argument("--out", type=Path, required=True, help="the sweep's store folder")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    report = commands.add_parser("report", help="Markdown report of a sweep's store")
    report.add_argument("store", type=Path, help="a sweep's --out folder")
    compare = commands.add_parser("compare", help="runs side by side (table, CSV, Markdown)")
    compare.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR", help="run folders")
    compare.add_argument(
        "--out", type=Path, help="folder for the tables (default: results/comparisons/<time>/)"
    )
    return parser


def add_overrides(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a scenario key (repeatable); the value is read as TOML",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "run": run_command,
        "audit": audit_command,
        "compare": compare_command,
        "sweep": sweep_command,
        "report": report_command,
    }
    try:
        return commands[args.command](args)
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
    refuse_to_overwrite(out)
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


def audit_command(args: argparse.Namespace) -> int:
    """`sharelab audit`: the scheme's static properties, as a table or JSON."""
    overrides = dict(parse_override(text) for text in args.overrides)
    report = audit(load_scenario(args.scenario, overrides))
    print(json.dumps(report, indent=2) if args.json else format_audit(report))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """`sharelab compare`: runs side by side, printed and written as CSV and Markdown."""
    summaries = []
    for run_dir in args.runs:
        path = run_dir / "summary.json"
        if not path.is_file():
            raise ScenarioError(str(run_dir), None, "not a run folder (no summary.json)")
        summaries.append(json.loads(path.read_text(encoding="utf-8")))
    names = [s["scenario"] for s in summaries]
    if len(set(names)) < len(names):
        names = [f"{s['scenario']} ({d.name})" for s, d in zip(summaries, args.runs, strict=True)]
    table = comparison_table(summaries, names)
    out = args.out or Path("results") / "comparisons" / utc_stamp()
    refuse_to_overwrite(out)
    write_files(out, {"comparison.csv": table.to_csv(), "comparison.md": markdown_table(table)})
    print(table.drop(index="flags").to_string())
    print("\nflags")
    for name, flags in table.loc["flags"].items():
        print(f"  {name}: {flags}")
    print(f"\ncomparison: {out}")
    return 0


def sweep_command(args: argparse.Namespace) -> int:
    """`sharelab sweep`: run or resume a sweep; Ctrl-C keeps what finished."""
    if bool(args.vary) == bool(args.sample):
        raise ScenarioError("sweep", None, "give either --vary or --sample (with --range)")
    if args.replicates < 1:
        raise ScenarioError("--replicates", None, "must be at least 1")
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    sweep = Sweep(
        args.scenario,
        vary=parse_vary(args.vary),
        sample=args.sample,
        ranges=parse_ranges(args.ranges),
        replicates=args.replicates,
        workers=max(args.workers, 1),
        dask=args.dask,
        out=args.out,
        overrides=overrides,
        progress=not args.quiet,
    )
    try:
        runs = sweep.run()
    except KeyboardInterrupt:
        done = len(sweep.store.finished())
        print(
            f"sharelab: interrupted with {done} runs stored in {args.out}; "
            "run the same command to resume",
            file=sys.stderr,
        )
        return 130
    failed = int((runs["status"] != "done").sum())
    print(f"{len(runs)} runs ({failed} failed) in {args.out}")
    print(analysis.point_summary(runs, sweep.design.parameters).to_string(index=False))
    return 0


def report_command(args: argparse.Namespace) -> int:
    """`sharelab report`: write STORE/report/report.md with tables and plots."""
    store = SweepStore(args.store)
    if not (args.store / "runs.parquet").is_file() or not store.manifest_path.is_file():
        raise ScenarioError(str(args.store), None, "not a sweep store (no runs.parquet)")
    manifest = store.manifest()
    design = Design.from_dict(manifest["design"])
    folder = args.store / "report"
    with staged(folder, replace=True) as staging:
        write_report(store.runs(), design, manifest, staging)
    print(f"report: {folder / 'report.md'}")
    return 0


def refuse_to_overwrite(out: Path) -> None:
    """Results never replace what is already in a folder."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError("--out", None, f"{out} exists and is not empty; choose another")


if __name__ == "__main__":
    sys.exit(main())
