"""The `sharelab` command: run a scenario, audit a scheme, compare runs.

One error boundary (`main`): bad input ends with exit status 2 and one line naming
the file and the key, a fault of the machine (a full disk, a file that cannot be
written, memory) with exit status 1 and one line naming what and where, and nothing
half-written either way; a traceback only with `--debug`.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from tqdm import tqdm

from simulation.experiments import analysis
from simulation.experiments.calibration import Calibration
from simulation.experiments.design import Design, parse_ranges, parse_vary
from simulation.experiments.discovery import discover
from simulation.experiments.optimisation import Optimisation
from simulation.experiments.provenance import versions
from simulation.experiments.runner import Sweep
from simulation.experiments.search import Search
from simulation.experiments.store import SweepStore, read_json
from simulation.mechanisms.commission.auditor import audit
from simulation.model import METRICS, SocialCommerceModel
from simulation.results import default_run_dir, staged, utc_stamp, write_files, write_run
from simulation.scenario import ScenarioError, load_scenario, parse_override, scenario_hash
from simulation.scenario.reference import keys, presets
from simulation.viz.plots import save_calibration_plots, save_discovery_plot, save_pareto_plot
from simulation.viz.report import write_report
from simulation.viz.tables import (
    candidate_table,
    comparison_table,
    format_audit,
    format_summary,
    markdown_table,
    paired_table,
    readable_summary,
    target_table,
)
from simulation.world.footprint import check_fits

BAD_INPUT = 2
FAULT = 1
INTERRUPTED = 130
DEBUG_HELP = "show the traceback of an error"
LONG_RUN_SECONDS = 60
MIN_FREE_BYTES = 20 * 2**20  # a run's files take a few MiB at most
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4  # mallopt options (glibc malloc.h)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, f"sharelab: error: {message}\n")


class DefaultsShown(argparse.HelpFormatter):
    """Help that states an option's default where it has one worth stating."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        unstated = action.default in (None, False, [], argparse.SUPPRESS)
        if unstated or "default" in text or action.option_strings == []:
            return text
        return f"{text} (default: %(default)s)"


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
    parser = OneLineParser(
        prog="sharelab",
        description=__doc__.splitlines()[0],
        formatter_class=DefaultsShown,
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument("--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    commands.add_parser = with_debug(commands.add_parser)
    listing = commands.add_parser("presets", help="list the shipped scenarios")
    listing.add_argument(
        "--root", type=Path, default=None, help="folder to look in (default: ./scenarios)"
    )
    schema = commands.add_parser("keys", help="every scenario key: type, default, meaning")
    schema.add_argument("section", nargs="?", help="one section only (e.g. commission)")
    run = commands.add_parser("run", help="simulate a scenario and write its results")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--seed", type=non_negative, help="override run.seed")
    run.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    add_overrides(run)
    run.add_argument(
        "--out", type=Path, help="results folder (default: results/<scenario>/<run id>/)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument(
        "--replicates",
        type=non_negative,
        default=1,
        help="runs on different seeds, stored like a sweep of one point, with 95%% intervals",
    )
    run.add_argument(
        "--workers", type=non_negative, default=1, help="local processes, for --replicates"
    )
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
    sweep.add_argument(
        "--workers",
        type=non_negative,
        default=1,
        help="local processes, at most one per CPU (more are capped, with a note); "
        "with a --dask address, the cluster's workers (twice as many runs kept in flight)",
    )
    sweep.add_argument(
        "--dask",
        metavar="local|tcp://HOST:PORT|tls://HOST:PORT",
        help="run on a Dask LocalCluster, or join a running cluster; join only a cluster "
        "you trust: Dask unpickles what its scheduler sends, which can run any code here",
    )
    sweep.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    add_overrides(sweep)
    sweep.add_argument("--out", type=Path, required=True, help="the sweep's store folder")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--metrics", metavar="NAME,NAME", help="the metrics to summarise")
    report = commands.add_parser("report", help="Markdown report of a sweep's store")
    report.add_argument("store", type=Path, help="a sweep's --out folder")
    report.add_argument("--metrics", metavar="NAME,NAME", help="the metrics to report")
    report.add_argument(
        "--reference",
        type=non_negative,
        default=0,
        help="the point other points are compared with (paired differences)",
    )
    calibrate = commands.add_parser(
        "calibrate", help="fit scenario keys to reported figures (optuna; resumable)"
    )
    calibrate.add_argument("scenario", type=Path, help="scenario TOML file")
    calibrate.add_argument(
        "--target",
        type=Path,
        required=True,
        help="CSV or TOML of targets: metric, day, value[, weight, period, fit]",
    )
    calibrate.add_argument(
        "--param",
        dest="params",
        action="append",
        required=True,
        metavar="KEY=LO:HI[:int][:log]",
        help="a key to fit and its range (repeatable); :log searches on a log scale, "
        ":int in whole numbers; KEY=v1,v2,... searches listed values",
    )
    add_search_options(calibrate, replicates=2)
    calibrate.add_argument(
        "--seed", type=non_negative, default=0, help="seed of the sampler (optuna's TPE)"
    )
    calibrate.add_argument(
        "--fit-scale",
        action="store_true",
        help="fit population.scale to the targets in people, orders or money, for each "
        "trial in closed form (the searched keys then fit shapes and ratios)",
    )
    calibrate.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    add_overrides(calibrate)
    calibrate.add_argument(
        "--out",
        type=Path,
        help="the calibration's folder; the same command resumes it "
        "(default: results/calibrations/<scenario>)",
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")
    optimise = commands.add_parser(
        "optimise",
        help="search levers for the best schemes under constraints (optuna; resumable)",
    )
    optimise.add_argument("scenario", type=Path, help="scenario TOML file")
    optimise.add_argument(
        "--lever",
        dest="levers",
        action="append",
        required=True,
        metavar="KEY=LO:HI[:int][:log] | KEY=v1,v2,...",
        help="a key to search (repeatable): a range (:int in whole numbers, :log on a "
        "log scale) or listed values (TOML, e.g. [30,20] for a list)",
    )
    optimise.add_argument(
        "--objective",
        dest="objectives",
        action="append",
        required=True,
        metavar="METRIC:max|min",
        help="a summary metric to maximise or minimise (repeatable: a Pareto front)",
    )
    optimise.add_argument(
        "--constraint",
        dest="constraints",
        action="append",
        default=[],
        metavar="METRIC<=V|METRIC>=V",
        help="a bound on a summary metric's mean over replicates (repeatable)",
    )
    optimise.add_argument(
        "--no-flags",
        default="",
        metavar="SEVERITY,...",
        help="severities of compliance flag no replicate may raise: administrative, "
        "civil, criminal",
    )
    add_search_options(optimise, replicates=3)
    optimise.add_argument(
        "--dask",
        metavar="local|tcp://HOST:PORT",
        help="run on Dask: a local cluster, or join one (which then runs this code: "
        "join only clusters you trust)",
    )
    optimise.add_argument(
        "--sampler", choices=("tpe", "nsga2"), default="tpe", help="optuna's sampler"
    )
    optimise.add_argument("--seed", type=non_negative, default=0, help="seed of the sampler")
    optimise.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    add_overrides(optimise)
    optimise.add_argument(
        "--out",
        type=Path,
        help="the search's folder; the same command resumes it "
        "(default: results/optimisations/<scenario>)",
    )
    optimise.add_argument("--quiet", action="store_true", help="no progress bar")
    discover = commands.add_parser(
        "discover", help="which boxes of parameter space give an outcome (PRIM)"
    )
    discover.add_argument(
        "store", type=Path, help="a sweep's store, or an optimisation's --out folder"
    )
    discover.add_argument(
        "--where",
        required=True,
        metavar="EXPR",
        help='the outcome of interest, e.g. "criminal_threshold_trees > 0"',
    )
    discover.add_argument(
        "--min-density", type=float, help="the least share of the box's runs with the outcome"
    )
    discover.add_argument(
        "--min-coverage", type=float, help="the least share of the outcome's runs in the box"
    )
    discover.add_argument(
        "--out", type=Path, help="folder for boxes.csv and tradeoff.png (default: STORE/discovery)"
    )
    compare = commands.add_parser(
        "compare",
        help="run folders side by side, or a scenario against a change to it, replicated",
    )
    compare.add_argument(
        "runs",
        type=Path,
        nargs="+",
        metavar="RUN_DIR|SCENARIO",
        help="run folders; sweep stores (every point, with 95%% intervals); or one "
        "scenario file, compared with --change",
    )
    compare.add_argument(
        "--change",
        dest="changes",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="with a scenario: a change to it (repeatable; all are made together)",
    )
    compare.add_argument(
        "--replicates", type=non_negative, default=5, help="with a scenario: runs of each"
    )
    compare.add_argument(
        "--workers", type=non_negative, default=1, help="local processes, at most one per CPU"
    )
    compare.add_argument("--steps", type=non_negative, help="override run.steps (days)")
    add_overrides(compare)
    compare.add_argument(
        "--metrics", metavar="NAME,NAME", help="with a scenario or stores: the metrics to show"
    )
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    compare.add_argument(
        "--out", type=Path, help="folder for the tables (default: results/comparisons/<time>/)"
    )
    dashboard = commands.add_parser(
        "dashboard", help="watch a scenario run in the browser (needs the viz extra)"
    )
    dashboard.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=Path("scenarios/baseline.toml"),
        help="scenario TOML file (default: scenarios/baseline.toml)",
    )
    dashboard.add_argument("--port", type=non_negative, default=8765, help="port to serve on")
    dashboard.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (0.0.0.0: every interface)"
    )
    add_overrides(dashboard)
    return parser


def with_debug(
    add_parser: Callable[..., argparse.ArgumentParser],
) -> Callable[..., argparse.ArgumentParser]:
    """Subcommands take `--debug` too (after the command), without undoing it before."""

    def add(*args, **kwargs) -> argparse.ArgumentParser:
        kwargs.setdefault("formatter_class", DefaultsShown)
        command = add_parser(*args, **kwargs)
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
        return command

    return add


def add_search_options(command: argparse.ArgumentParser, replicates: int) -> None:
    """--trials, --replicates and --workers, as calibrate and optimise take them."""
    command.add_argument("--trials", type=non_negative, default=50, help="trials in all")
    command.add_argument(
        "--replicates",
        type=non_negative,
        default=replicates,
        help="runs per trial, on the same seeds",
    )
    command.add_argument(
        "--workers", type=non_negative, default=1, help="local processes, at most one per CPU"
    )


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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return BAD_INPUT
    commands = {
        "presets": presets_command,
        "keys": keys_command,
        "run": run_command,
        "audit": audit_command,
        "compare": compare_command,
        "sweep": sweep_command,
        "report": report_command,
        "calibrate": calibrate_command,
        "optimise": optimise_command,
        "discover": discover_command,
        "dashboard": dashboard_command,
    }
    try:
        return commands[args.command](args)
    except Exception as err:
        if args.debug:
            raise
        return report_error(err)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("sharelab: interrupted; nothing half-written was kept", file=sys.stderr)
        return INTERRUPTED


def report_error(err: Exception) -> int:
    """One line on stderr for an error; exit status 2 for bad input, 1 for a fault."""
    if isinstance(err, BrokenPipeError):
        quiet_stdout()
        return FAULT
    if isinstance(err, ScenarioError):
        print(f"sharelab: error: {err}", file=sys.stderr)
        return BAD_INPUT
    if isinstance(err, OSError):
        where = f": {err.filename}" if err.filename else ""
        reason = err.strerror or type(err).__name__
        print(f"sharelab: error: {reason}{where}", file=sys.stderr)
        return FAULT
    if isinstance(err, MemoryError):
        print("sharelab: error: out of memory; try fewer people or days", file=sys.stderr)
        return FAULT
    print(
        f"sharelab: internal error: {type(err).__name__}: {err} (--debug shows where)",
        file=sys.stderr,
    )
    return FAULT


def quiet_stdout() -> None:
    """After the reader of stdout has gone (`| head`), send what is left to nowhere so
    that Python's flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run_command(args: argparse.Namespace) -> int:
    """`sharelab run`: validate everything, simulate, then write all results at once."""
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    if args.replicates > 1:
        return replicated_run(args, overrides)
    scenario = load_scenario(args.scenario, overrides)
    out = args.out or default_run_dir(Path("results"), scenario.name, scenario.run.seed)
    refuse_to_overwrite(out)
    require_space(out)
    try:
        expected = check_fits(scenario)
    except ScenarioError as err:
        sized = any(key.split(".")[0] in ("population", "graph") for key in overrides)
        source = "--set" if sized else str(args.scenario)
        raise ScenarioError(source, err.key, err.message) from None
    if expected.seconds > LONG_RUN_SECONDS:
        print(
            f"sharelab: this run will take about {expected.seconds / 60:,.0f} minutes",
            file=sys.stderr,
        )
    reuse_freed_memory()
    model = SocialCommerceModel(scenario)
    with tqdm(
        total=scenario.run.steps,
        desc=scenario.name,
        unit="day",
        disable=args.quiet,
        file=sys.stderr,
    ) as bar:
        model.run(progress=lambda _day: bar.update())
    summary = write_run(model, out, changes_made(args))
    if args.json:
        print(json.dumps(summary | {"results": str(out)}, indent=2, ensure_ascii=False))
    else:
        print(format_summary(summary))
        print(f"\nresults: {out}")
    return 0


def reuse_freed_memory() -> None:
    """Ask glibc's allocator to serve every array from its heap and keep what is freed
    (no fresh mmap per large array): a run's daily temporaries then reuse pages
    instead of faulting new zeroed ones in, about 10% of a large run's time. The
    process keeps its peak memory until it exits, which suits one run; a no-op where
    the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    for option, value in ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**30), (M_TOP_PAD, 2**28)):
        libc.mallopt(option, value)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside the block SIGTERM raises KeyboardInterrupt, as Ctrl-C does, so a stopped
    sweep or search ends the same way (what is done kept); the old handler after."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def changes_made(args: argparse.Namespace) -> list[str]:
    """What the command line changed in the scenario (`--set`, `--steps`), for the
    run's label; the seed is named beside it anyway."""
    return [*args.overrides, *([f"run.steps={args.steps}"] if args.steps is not None else [])]


def replicated_run(args: argparse.Namespace, overrides: dict) -> int:
    """`sharelab run SCENARIO --replicates R`: R runs of the scenario, each on its own
    seed, into a store (a sweep of one point); each metric's mean and 95% interval."""
    if args.json:
        raise ScenarioError("--json", None, "prints one run's summary; not with --replicates")
    overrides.pop("run.seed", None)
    name = load_scenario(args.scenario, overrides).name
    out = args.out or Path("results") / name / f"{utc_stamp()}-x{args.replicates}"
    refuse_to_overwrite(out)
    require_space(out)
    sweep = Sweep(
        args.scenario,
        replicates=args.replicates,
        workers=capped_workers(args.workers),
        out=out,
        overrides=overrides,
        progress=not args.quiet,
    )
    runs = sweep.run()
    failed = runs[runs["status"] != "done"]
    summary = analysis.point_summary(runs, [])
    print(f"{name}: {len(runs) - len(failed)} of {args.replicates} runs done\n")
    print(as_text(readable_summary(summary, [])))
    print(f"\nruns: {out} (sharelab report {out} for plots)")
    name_failed(failed)
    return FAULT if len(failed) else 0


VIZ_MISSING = 'sharelab: error: the dashboard needs the viz extra: pip install ".[viz]"'
CULL_TIMEOUT = "2s"  # a closed browser tab's model is dropped this soon after


def dashboard_command(args: argparse.Namespace) -> int:
    """`sharelab dashboard [SCENARIO]`: serve the live dashboard (Solara, Mesa's
    SolaraViz) of a scenario until Ctrl-C; each browser session runs its own model."""
    if not all(importlib.util.find_spec(name) for name in ("solara", "solara_assets")):
        print(VIZ_MISSING, file=sys.stderr)
        return FAULT
    overrides = dict(parse_override(text) for text in args.overrides)
    scenario = load_scenario(args.scenario, overrides)  # bad input ends here, in one line
    from simulation.viz import dashboard

    env = os.environ | {
        dashboard.SCENARIO_ENV: str(args.scenario.resolve()),
        dashboard.OVERRIDES_ENV: json.dumps(overrides),
        "SOLARA_KERNEL_CULL_TIMEOUT": os.environ.get("SOLARA_KERNEL_CULL_TIMEOUT", CULL_TIMEOUT),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    }
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        dashboard.__name__,
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-open",
    ]
    print(
        f"sharelab: dashboard of {scenario.name} at http://{args.host}:{args.port}/ "
        "(Ctrl-C stops it)",
        file=sys.stderr,
    )
    server = subprocess.Popen(command, env=env)
    try:
        return server.wait()
    except KeyboardInterrupt:  # the server has the Ctrl-C too: let it stop
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        return 0


def presets_command(args: argparse.Namespace) -> int:
    """`sharelab presets`: each shipped scenario with its one-line description."""
    root = args.root or Path("scenarios")
    if not root.is_dir():
        raise ScenarioError(str(root), None, "no scenarios folder here; give --root")
    found = presets(root)
    width = max((len(str(path)) for path, _ in found), default=0)
    for path, description in found:
        print(f"{str(path):<{width}}  {description}")
    return 0


def keys_command(args: argparse.Namespace) -> int:
    """`sharelab keys [SECTION]`: every key with its type, default, scope and meaning."""
    rows = keys(args.section)
    if not rows:
        sections = ", ".join(
            dict.fromkeys(row["key"].split(".")[0] for row in keys() if "." in row["key"])
        )
        raise ScenarioError("keys", args.section, f"no such section; one of {sections}")
    table = [(r["key"], r["type"], str(r["default"]), r["scope"], r["meaning"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        print("  ".join(cells) + f"  {row[4]}")
    return 0


def version_line() -> str:
    """`sharelab --version`: this package's version and what it runs on."""
    found = versions()
    return f"sharelab {found['sharelab']} (Python {found['python']}, Mesa {found['mesa']})"


def audit_command(args: argparse.Namespace) -> int:
    """`sharelab audit`: the scheme's static properties, as a table or JSON."""
    overrides = dict(parse_override(text) for text in args.overrides)
    report = audit(load_scenario(args.scenario, overrides))
    print(json.dumps(report, indent=2) if args.json else format_audit(report))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """`sharelab compare`: runs side by side, printed and written as CSV and Markdown.
    The output folder and every summary are checked before anything is written."""
    out = args.out or Path("results") / "comparisons" / utc_stamp()
    refuse_to_overwrite(out)
    if args.runs[0].suffix == ".toml":
        return compare_scenarios(args, out)
    if args.changes:
        raise ScenarioError("--change", None, "changes a scenario: give a .toml file to compare")
    stores = [SweepStore(folder).manifest_path.is_file() for folder in args.runs]
    if any(stores):
        if not all(stores):
            raise ScenarioError("compare", None, "give run folders or sweep stores, not both")
        return compare_stores(args, out)
    summaries = []
    for run_dir in args.runs:
        path = run_dir / "summary.json"
        if not path.is_file():
            raise ScenarioError(str(run_dir), None, "not a run folder (no summary.json)")
        summary = read_json(path)
        if not isinstance(summary.get("scenario"), str):
            raise ScenarioError(str(path), "scenario", "missing or not a name; not a run summary")
        try:
            comparison_table([summary], [run_dir.name])
        except KeyError as err:
            raise ScenarioError(str(path), str(err.args[0]), "missing; not a run summary") from None
        except (TypeError, ValueError, AttributeError):
            raise ScenarioError(
                str(path), None, "a value of the wrong kind; not a run summary"
            ) from None
        summaries.append(summary)
    names = [s.get("label", s["scenario"]) for s in summaries]
    if len(set(names)) < len(names):
        names = [f"{name} ({d.name})" for name, d in zip(names, args.runs, strict=True)]
    table = comparison_table(summaries, names)
    write_files(out, {"comparison.csv": table.to_csv(), "comparison.md": markdown_table(table)})
    print(table.drop(index="flags").to_string())
    print("\nflags")
    for name, flags in table.loc["flags"].items():
        print(f"  {name}: {flags}")
    print(f"\ncomparison: {out}")
    return 0


def compare_stores(args: argparse.Namespace, out: Path) -> int:
    """`sharelab compare STORE ...`: every point of every sweep store side by side, each
    metric's mean and 95% interval over the point's replicates."""
    columns = {}
    for folder in args.runs:
        store = SweepStore(folder)
        design = store_design(store)
        summary = analysis.point_summary(store.runs(), design.parameters, chosen_metrics(args))
        table = readable_summary(summary, design.parameters)
        for index, row in table.iterrows():
            point, *values = index if isinstance(index, tuple) else (index,)
            where = ", ".join(
                f"{key}={analysis.scalar(value)}"
                for key, value in zip(design.parameters, values, strict=True)
            )
            columns[f"{folder.name}: {where or f'point {point}'}"] = row
    table = pd.DataFrame(columns)
    write_files(out, {"comparison.csv": table.to_csv(), "comparison.md": markdown_table(table)})
    print((table.T if len(table.columns) > 3 else table).to_string())
    print(f"\ncomparison: {out}")
    return 0


def compare_scenarios(args: argparse.Namespace, out: Path) -> int:
    """`sharelab compare A.toml [B.toml ...] [--change KEY=VALUE ...]`: several
    scenarios, or one scenario as it is and with every change made together, each run
    --replicates times on the same seeds; each metric's mean and 95% interval, and each
    one's paired difference from the first with its 95% interval."""
    if any(path.suffix != ".toml" for path in args.runs):
        raise ScenarioError("compare", None, "give scenario files or run folders, not both")
    if len(args.runs) > 1 and args.changes:
        raise ScenarioError("--change", None, "changes one scenario: give a single file")
    metrics = chosen_metrics(args)
    if args.replicates < 2:
        raise ScenarioError("--replicates", None, "at least 2, for an interval")
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    workers = capped_workers(args.workers)
    if args.changes:
        changes = dict(parse_override(text) for text in args.changes)
        names = [args.runs[0].stem, f"{args.runs[0].stem} with {'; '.join(args.changes)}"]
        sweeps = [
            Sweep(
                args.runs[0],
                changes=changes,
                replicates=args.replicates,
                workers=workers,
                out=out / "runs",
                overrides=overrides,
                progress=not args.quiet,
            )
        ]
    else:
        if len(args.runs) < 2:
            raise ScenarioError("--change", None, "give at least one KEY=VALUE to compare against")
        names = [path.stem for path in args.runs]
        seeds = scenario_hash(load_scenario(args.runs[0], overrides))
        sweeps = [
            Sweep(
                path,
                replicates=args.replicates,
                workers=workers,
                out=out / "runs" / f"{index}-{path.stem}",
                overrides=overrides,
                progress=not args.quiet,
                seed_key=seeds,
            )
            for index, path in enumerate(args.runs)
        ]
    parts = [sweep.run() for sweep in sweeps]
    if len(parts) > 1:
        parts = [part.assign(point=index) for index, part in enumerate(parts)]
    runs = pd.concat(parts, ignore_index=True)
    failed = runs[runs["status"] != "done"]
    if not failed.empty:
        print(
            f"sharelab: error: {len(failed)} of {len(runs)} runs failed (first: "
            f"{failed['error'].iloc[0]}); their rows are in {out / 'runs'}",
            file=sys.stderr,
        )
        return FAULT
    table = paired_table(runs, names, metrics)
    named = table.set_axis([*names, *table.columns[len(names) :]], axis=1)
    write_files(
        out / "tables",
        {"comparison.csv": named.to_csv(), "comparison.md": markdown_table(named)},
    )
    for letter, name in zip(table.columns, names, strict=False):
        print(f"{letter}: {name}")
    print(f"{args.replicates} runs of each, on the same seeds\n")
    print(table.to_string())
    print(f"\ncomparison: {out / 'tables'}")
    return 0


def chosen_metrics(args: argparse.Namespace) -> list[str] | None:
    """The metrics `--metrics` names (checked against the declarations), or None for
    the default set."""
    if not args.metrics:
        return None
    declared = {m.name for m in METRICS}
    chosen = [name.strip() for name in args.metrics.split(",") if name.strip()]
    for name in chosen:
        if name not in declared:
            raise ScenarioError("--metrics", name, "not a metric; see docs/model.md §7.9")
    return chosen


def as_text(table: pd.DataFrame) -> str:
    """A summary table as text: metrics down the side when there are few points."""
    if len(table) == 1:
        return table.T.set_axis(["mean (95% CI)"], axis=1).to_string()
    return (table.T if len(table) <= 6 else table).to_string()


def name_failed(failed: pd.DataFrame) -> None:
    """One stderr line per failed run of a store: its point, replicate and error."""
    for row in failed.itertuples():
        print(
            f"sharelab: run failed: point {row.point}, replicate {row.replicate}: {row.error}",
            file=sys.stderr,
        )


def capped_workers(requested: int) -> int:
    """Local worker processes: as asked, but at most one per CPU (with a note)."""
    cpus = os.cpu_count() or 1
    workers = min(max(requested, 1), cpus)
    if workers < requested:
        print(
            f"sharelab: --workers {requested} is more than the {cpus} CPUs here; using {workers}",
            file=sys.stderr,
        )
    return workers


def sweep_command(args: argparse.Namespace) -> int:
    """`sharelab sweep`: run or resume a sweep; Ctrl-C or SIGTERM keeps what finished
    and stops the workers. Local workers beyond one per CPU are capped, with a note."""
    if bool(args.vary) == bool(args.sample):
        raise ScenarioError("sweep", None, "give either --vary or --sample (with --range)")
    if args.replicates < 1:
        raise ScenarioError("--replicates", None, "must be at least 1")
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    local = args.dask in (None, "local")
    workers = capped_workers(args.workers) if local else max(args.workers, 1)
    sweep = Sweep(
        args.scenario,
        vary=parse_vary(args.vary),
        sample=args.sample,
        ranges=parse_ranges(args.ranges),
        replicates=args.replicates,
        workers=workers,
        dask=args.dask,
        out=args.out,
        overrides=overrides,
        progress=not args.quiet,
    )
    try:
        with terminate_as_interrupt():
            runs = sweep.run()
    except KeyboardInterrupt:
        done = len(sweep.store.finished())
        print(
            f"sharelab: interrupted with {done} runs stored in {args.out}; "
            "run the same command to resume",
            file=sys.stderr,
        )
        return INTERRUPTED
    failed = runs[runs["status"] != "done"]
    expected = len(sweep.tasks())
    print(f"{len(runs)} of {expected} runs done ({len(failed)} failed) in {args.out}")
    summary = analysis.point_summary(runs, sweep.design.parameters, chosen_metrics(args))
    print(as_text(readable_summary(summary, sweep.design.parameters)))
    if len(failed) or len(runs) < expected:
        name_failed(failed)
        return FAULT
    return 0


def calibrate_command(args: argparse.Namespace) -> int:
    """`sharelab calibrate`: run or resume a calibration, then write its fit (best
    scenario, targets table, trials, plots) into OUT/fit all at once."""
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    name = load_scenario(args.scenario, overrides).name
    out = args.out or Path("results") / "calibrations" / name
    require_space(out)
    calibration = Calibration(
        args.scenario,
        args.target,
        args.params,
        trials=args.trials,
        replicates=args.replicates,
        workers=capped_workers(args.workers),
        out=out,
        overrides=overrides,
        seed=args.seed,
        progress=not args.quiet,
        fit_scale=args.fit_scale,
    )
    result = run_search(calibration, out)
    if result is None:
        return INTERRUPTED
    with staged(out / "fit", replace=True) as staging:
        result.write(staging)
        save_calibration_plots(result.targets, result.history, staging)
    completed = int((result.history["state"] == "COMPLETE").sum())
    print(
        f"{name}: best of {completed} completed trials is trial {result.trial}, loss "
        f"{result.loss:.4g} (weighted mean squared log error)\n"
    )
    for key, value in result.params.items():
        print(f"  {key} = {value:.6g}")
    print()
    print(target_table(result.targets).to_string(index=False))
    print(f"\nfit: {out / 'fit'} (best.toml, targets.csv, trials.csv, targets.png, history.png)")
    return 0


def run_search(search: Search, out: Path) -> Any:
    """Run or resume a calibration or optimisation; Ctrl-C or SIGTERM keeps the trials
    done and returns None (with a line saying how to resume)."""
    try:
        with terminate_as_interrupt():
            return search.run()
    except KeyboardInterrupt:
        print(
            f"sharelab: interrupted; the trials done are kept in {out}: "
            "run the same command to resume",
            file=sys.stderr,
        )
        return None


def optimise_command(args: argparse.Namespace) -> int:
    """`sharelab optimise`: run or resume a strategy search, then write its front
    (pareto.csv, pareto.png, trials.csv, base.toml, best/<rank>.toml) into OUT/front
    all at once and print the best candidates."""
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["run.steps"] = args.steps
    name = load_scenario(args.scenario, overrides).name
    out = args.out or Path("results") / "optimisations" / name
    require_space(out)
    local = args.dask in (None, "local")
    search = Optimisation(
        args.scenario,
        args.levers,
        args.objectives,
        constraints=args.constraints,
        no_flags=args.no_flags,
        trials=args.trials,
        replicates=args.replicates,
        sampler=args.sampler,
        workers=capped_workers(args.workers) if local else max(args.workers, 1),
        dask=args.dask,
        out=out,
        overrides=overrides,
        seed=args.seed,
        progress=not args.quiet,
    )
    result = run_search(search, out)
    if result is None:
        return INTERRUPTED
    front = out / "front"
    with staged(front, replace=True) as staging:
        result.write(staging, front)
        objectives = [(o.metric, o.direction) for o in result.objectives]
        save_pareto_plot(result.pareto, objectives, staging)
    feasible = int(result.pareto["feasible"].sum())
    print(
        f"{name}: {len(result.pareto)} completed trials, {feasible} feasible, "
        f"{len(result.front)} on the feasible front\n"
    )
    if len(result.front):
        table = candidate_table(
            result.front, [p.key for p in result.levers], [o.metric for o in result.objectives]
        )
        print(table.to_string(index=False))
    else:
        print("no trial met every constraint; see pareto.csv for how far each missed")
    print(f"\nfront: {front} (pareto.csv, pareto.png, trials.csv, base.toml, best/)")
    return 0


def discover_command(args: argparse.Namespace) -> int:
    """`sharelab discover`: PRIM over a sweep's runs or an optimisation's trials; the
    peeling trajectory and the chosen box in plain words, boxes.csv and tradeoff.png."""
    found = discover(
        args.store, args.where, min_density=args.min_density, min_coverage=args.min_coverage
    )
    out = args.out or args.store / "discovery"
    table = found.table()
    with staged(out, replace=True) as staging:
        found.write(staging)
        save_discovery_plot(table, staging)
    shown = table[["step", "coverage", "density", "mass", "restricted"]]
    print(f"where {args.where}: peeling trajectory\n")
    print(shown.to_string(index=False, float_format="{:.3f}".format))
    chosen = table[table["chosen"]].iloc[0]
    print(
        f"\nchosen box (step {chosen['step']}: coverage {chosen['coverage']:.0%}, "
        f"density {chosen['density']:.0%}): {chosen['restrictions']}"
    )
    print(f"\nboxes: {out} (boxes.csv, tradeoff.png)")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """`sharelab report`: write STORE/report/report.md with tables and plots."""
    store = SweepStore(args.store)
    if not store.runs_path.is_file() or not store.manifest_path.is_file():
        raise ScenarioError(str(args.store), None, "not a sweep store (no runs.parquet)")
    manifest = store.manifest()
    design = store_design(store)
    runs = store.runs()
    folder = args.store / "report"
    with staged(folder, replace=True) as staging:
        write_report(runs, design, manifest, staging, chosen_metrics(args), args.reference)
    print(f"report: {folder / 'report.md'}")
    return 0


def store_design(store: SweepStore) -> Design:
    """The design a sweep store's manifest records; an error naming the manifest if it
    does not hold one."""
    try:
        return Design.from_dict(store.manifest()["design"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise ScenarioError(str(store.manifest_path), "design", "not a sweep's design") from None


def refuse_to_overwrite(out: Path) -> None:
    """Results never replace what is already in a folder, and go only where a folder
    can be made."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError("--out", None, f"{out} exists and is not empty; choose another")
    for parent in out.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise ScenarioError("--out", None, f"{parent} is a file, not a folder")


def require_space(out: Path) -> None:
    """Refuse before simulating when the disk that will hold `out` is all but full."""
    existing = next(p for p in out.absolute().parents if p.exists())
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise OSError(
            errno.ENOSPC,
            f"only {free / 2**20:,.0f} MiB free for the results, "
            f"{MIN_FREE_BYTES / 2**20:,.0f} MiB needed",
            str(existing),
        )


if __name__ == "__main__":
    sys.exit(main())
