"""Writing a run's results: all files appear together or not at all.

Files go to a hidden sibling folder first and are moved into place with one
rename, so an interrupted run never leaves a folder that looks complete; the next
write into the same folder removes what a killed run left.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulation.experiments.provenance import utc_stamp, versions
from simulation.experiments.store import alive
from simulation.model import SocialCommerceModel
from simulation.scenario.loading import scenario_toml
from simulation.viz.compliance import save_compliance_plot
from simulation.viz.plots import save_growth_plot


def default_run_dir(root: Path, scenario_name: str, seed: int) -> Path:
    """`root/<scenario name>/<UTC time>-seed<seed>`."""
    return root / scenario_name / f"{utc_stamp()}-seed{seed}"


def write_files(out: Path, files: dict[str, str]) -> None:
    """Write text files into `out` all at once (staged, then moved into place)."""
    with staged(out) as staging:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")


@contextmanager
def staged(out: Path, replace: bool = False) -> Iterator[Path]:
    """A hidden sibling folder to write into; renamed to `out` only if all went well
    (replacing an existing `out` when `replace`, else only an empty one)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_staging(out.parent)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        if out.exists():
            shutil.rmtree(out) if replace else out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def remove_dead_staging(folder: Path) -> None:
    """Remove staging folders in `folder` left by processes that died before moving
    them into place (killed runs); only names `staged` makes are touched."""
    for staging in folder.glob(".*.partial-*"):
        pid = staging.name.rpartition("-")[2]
        if staging.is_dir() and pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def write_run(
    model: SocialCommerceModel, out: Path, changes: list[str] | None = None
) -> dict[str, Any]:
    """Write timeseries.parquet, summary.json, scenario.toml, growth.png and
    compliance.png into `out`; the run's `label`, its scenario's name and the
    `changes` made to it from the command line, names it in titles and comparisons."""
    label = model.config.name + (f" with {'; '.join(changes)}" if changes else "")
    summary = model.summary() | {
        "label": label,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    timeseries = model.datacollector.get_model_vars_dataframe()
    with staged(out) as staging:
        timeseries.to_parquet(staging / "timeseries.parquet", index=False)
        (staging / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (staging / "scenario.toml").write_text(scenario_toml(model.config), encoding="utf-8")
        title = f"{label} (seed {summary['seed']})"
        save_growth_plot(timeseries, title, staging / "growth.png")
        save_compliance_plot(summary, timeseries, staging / "compliance.png")
    return summary
