"""The results store of a sweep: a manifest, one row and one time series per run.

Each finished run is written as it completes — its time series, then its row —
each file staged under a hidden name and renamed into place, so a run whose row
exists is complete, a killed sweep loses at most the runs in flight, and running
the same command again resumes without duplicating any run. `runs.parquet`
gathers the rows, sorted by point and replicate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.scenario import ScenarioError


class SweepStore:
    """DIR/manifest.json, DIR/rows/<key>.parquet, DIR/timeseries/<key>.parquet,
    DIR/runs.parquet."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.rows = self.root / "rows"
        self.series = self.root / "timeseries"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def open(self, manifest: dict[str, Any]) -> None:
        """Start a new store, or reopen one that holds the same design."""
        if self.manifest_path.exists():
            existing = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if existing.get("design_id") != manifest["design_id"]:
                raise ScenarioError(
                    "--out", None, f"{self.root} holds a different sweep; choose another folder"
                )
        elif self.root.exists() and any(self.root.iterdir()):
            raise ScenarioError("--out", None, f"{self.root} exists and is not a sweep store")
        self.rows.mkdir(parents=True, exist_ok=True)
        self.series.mkdir(parents=True, exist_ok=True)
        for stale in [*self.rows.glob(".*"), *self.series.glob(".*")]:
            stale.unlink()
        if not self.manifest_path.exists():
            atomic_write(self.manifest_path, json.dumps(manifest, indent=2, default=str) + "\n")

    def finished(self) -> set[str]:
        """Keys of the runs already recorded."""
        return {path.stem for path in self.rows.glob("*.parquet")}

    def record(self, row: dict[str, Any], timeseries: pd.DataFrame | None) -> None:
        """Write one run: its time series first, then its row."""
        key = row["run_key"]
        if timeseries is not None:
            atomic_parquet(timeseries, self.series / f"{key}.parquet")
        atomic_parquet(pd.DataFrame([row]), self.rows / f"{key}.parquet")

    def gather(self) -> pd.DataFrame:
        """All rows as one table, sorted by point and replicate; written to runs.parquet."""
        parts = [pd.read_parquet(path) for path in sorted(self.rows.glob("*.parquet"))]
        runs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if not runs.empty:
            runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
        atomic_parquet(runs, self.root / "runs.parquet")
        return runs

    def runs(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / "runs.parquet")

    def timeseries(self, keys: list[str] | None = None) -> pd.DataFrame:
        """The daily rows of the given runs (default: all), with their run_key."""
        paths = sorted(self.series.glob("*.parquet"))
        if keys is not None:
            wanted = set(keys)
            paths = [p for p in paths if p.stem in wanted]
        return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))


def atomic_write(path: Path, text: str) -> None:
    """Write text under a hidden name, then rename it into place."""
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text, encoding="utf-8")
    staging.replace(path)


def atomic_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file under a hidden name, then rename it into place."""
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    table.to_parquet(staging, index=False)
    staging.replace(path)
