"""Writing a run's results: all files appear together or not at all.

Files go to a hidden sibling folder first and are moved into place with one
rename, so an interrupted run never leaves a folder that looks complete.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from simulation.model import SocialCommerceModel
from simulation.scenario.loading import scenario_toml
from simulation.viz.plots import save_growth_plot

PACKAGES = ("sharelab", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def default_run_dir(root: Path, scenario_name: str, seed: int) -> Path:
    """`root/<scenario name>/<UTC time>-seed<seed>`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / scenario_name / f"{stamp}-seed{seed}"


def write_run(model: SocialCommerceModel, out: Path) -> dict[str, Any]:
    """Write timeseries.parquet, summary.json, scenario.toml and growth.png into `out`."""
    summary = model.summary() | {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    timeseries = model.datacollector.get_model_vars_dataframe()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        timeseries.to_parquet(staging / "timeseries.parquet", index=False)
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (staging / "scenario.toml").write_text(scenario_toml(model.scenario))
        save_growth_plot(
            timeseries, f"{model.scenario.name} (seed {summary['seed']})", staging / "growth.png"
        )
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary
