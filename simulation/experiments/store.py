"""The results store of a sweep: a manifest, one row and one time series per run.

Each finished run is written as it completes — its time series, then its row —
each file staged under a hidden name and renamed into place, so a run whose row
exists is complete, a killed sweep loses at most the runs in flight, and running
the same command again resumes without duplicating any run. One sweep at a time
holds a store (an exclusive lock on DIR/.lock, which the system releases when its
process dies); on opening it clears what killed writers left and moves files that
cannot be read to DIR/quarantine/, so that their runs are done again.
`runs.parquet` gathers the rows, sorted by point and replicate.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.scenario import ScenarioError

LOCK = ".lock"
ROW_COLUMNS = ("run_key", "point", "replicate", "status")
UNREADABLE = (OSError, ValueError, pa.ArrowException)
MANIFEST_KEYS = {"design": dict, "scenario": dict, "scenario_hash": str, "replicates": int}
JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number"}


STAGING = re.compile(r"\.(?:manifest\.json|runs\.parquet)\.(\d+)|\.report\.partial-(\d+)")


class SweepStore:
    """DIR/manifest.json, DIR/rows/<key>.parquet, DIR/timeseries/<key>.parquet,
    DIR/runs.parquet, DIR/quarantine/ (files that could not be read) and DIR/.lock."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.rows = self.root / "rows"
        self.series = self.root / "timeseries"
        self.quarantine = self.root / "quarantine"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def runs_path(self) -> Path:
        return self.root / "runs.parquet"

    def check(self, manifest: dict[str, Any]) -> None:
        """Refuse a folder that is not a store of this design, writing nothing."""
        if self.manifest_path.exists():
            existing = read_json(self.manifest_path)
            if existing.get("design_id") != manifest["design_id"]:
                raise ScenarioError(
                    "--out", None, f"{self.root} holds a different sweep; choose another folder"
                )
        elif self.root.exists() and (
            not self.root.is_dir() or any(not p.name.startswith(".") for p in self.root.iterdir())
        ):
            raise ScenarioError("--out", None, f"{self.root} exists and is not a sweep store")

    @contextmanager
    def opened(self, manifest: dict[str, Any]) -> Iterator[None]:
        """Hold the store for one sweep: start it or reopen one of the same design,
        clear staging debris and quarantine unreadable files; a store that another
        sweep holds is refused."""
        self.check(manifest)
        self.root.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ScenarioError(
                    "--out",
                    None,
                    f"{self.root} is in use by another sweep; wait for it or choose another folder",
                ) from None
            self.check(manifest)
            self._clear_debris()
            if not self.manifest_path.exists():
                atomic_write(self.manifest_path, json.dumps(manifest, indent=2, default=str) + "\n")
            self.rows.mkdir(exist_ok=True)
            self.series.mkdir(exist_ok=True)
            self._set_aside_unreadable()
            yield
        finally:
            os.close(lock)

    def _clear_debris(self) -> None:
        """Delete staging files of killed writers: every hidden file in rows/ and
        timeseries/ (only the lock holder writes there), and the store's own staging
        names (manifest, runs table, report) whose writer, the process named at the
        end, has gone; any other file is the user's and stays."""
        for stale in [*self.rows.glob(".*"), *self.series.glob(".*")]:
            stale.unlink()
        for stale in self.root.glob(".*"):
            writer = STAGING.fullmatch(stale.name)
            if writer is None or alive(int(writer[1] or writer[2])):
                continue
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()

    def _set_aside_unreadable(self) -> None:
        """Move row and time-series files that cannot be read to quarantine/, and drop
        what is left of incomplete runs (a finished run's row without its time series,
        a time series without its row), so that those runs are done again."""
        statuses = {}
        for path in sorted(self.rows.glob("*.parquet")):
            try:
                row = pd.read_parquet(path)
            except UNREADABLE:
                self._move_to_quarantine(path, "not a readable Parquet file")
                continue
            if len(row) != 1 or any(column not in row.columns for column in ROW_COLUMNS):
                self._move_to_quarantine(path, "not a run's row")
            elif row["run_key"].iloc[0] != path.stem:
                self._move_to_quarantine(path, "the row of another run")
            else:
                statuses[path.stem] = row["status"].iloc[0]
        for path in sorted(self.series.glob("*.parquet")):
            try:
                pq.read_metadata(path)
            except UNREADABLE:
                self._move_to_quarantine(path, "not a readable Parquet file")
        series = {path.stem for path in self.series.glob("*.parquet")}
        for key, status in statuses.items():
            if status == "done" and key not in series:
                (self.rows / f"{key}.parquet").unlink()
        rows = self.finished()
        for key in series - rows:
            (self.series / f"{key}.parquet").unlink()

    def _move_to_quarantine(self, path: Path, problem: str) -> None:
        self.quarantine.mkdir(exist_ok=True)
        target = self.quarantine / f"{path.parent.name}-{path.name}"
        copy = 1
        while target.exists():
            target = self.quarantine / f"{path.parent.name}-{path.name}.{copy}"
            copy += 1
        path.replace(target)
        print(
            f"sharelab: {path}: {problem}; moved to {target} and its run will be done again",
            file=sys.stderr,
        )

    def finished(self) -> set[str]:
        """Keys of the runs already recorded."""
        return {path.stem for path in self.rows.glob("*.parquet")}

    def record(self, row: dict[str, Any], timeseries: pd.DataFrame | None) -> None:
        """Write one run: its time series first, then its row; if the row cannot be
        written, the time series goes too, so no run is half there."""
        key = row["run_key"]
        series = self.series / f"{key}.parquet"
        if timeseries is not None:
            atomic_parquet(timeseries, series)
        try:
            atomic_parquet(pd.DataFrame([row]), self.rows / f"{key}.parquet")
        except BaseException:
            series.unlink(missing_ok=True)
            raise

    def gather(self) -> pd.DataFrame:
        """All rows as one table, sorted by point and replicate; written to runs.parquet."""
        parts = [pd.read_parquet(path) for path in sorted(self.rows.glob("*.parquet"))]
        runs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if not runs.empty:
            runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
        atomic_parquet(runs, self.runs_path)
        return runs

    def runs(self) -> pd.DataFrame:
        """runs.parquet; a ScenarioError naming it if it is not one (a file that the
        system cannot read is an OSError, a fault of the machine)."""
        try:
            runs = pd.read_parquet(self.runs_path)
        except ValueError:  # Arrow's ArrowInvalid among them
            raise ScenarioError(
                str(self.runs_path), None, "cannot be read (truncated or not a Parquet file)"
            ) from None
        missing = [column for column in ROW_COLUMNS if column not in runs.columns]
        if missing:
            raise ScenarioError(
                str(self.runs_path), None, f"not a sweep's runs table (no {missing[0]!r} column)"
            )
        return runs

    def timeseries(self, keys: list[str] | None = None) -> pd.DataFrame:
        """The daily rows of the given runs (default: all), with their run_key."""
        paths = sorted(self.series.glob("*.parquet"))
        if keys is not None:
            wanted = set(keys)
            paths = [p for p in paths if p.stem in wanted]
        return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)

    def manifest(self) -> dict[str, Any]:
        """manifest.json; a ScenarioError naming it if it is not a sweep's manifest."""
        manifest = read_json(self.manifest_path)
        for key, kind in MANIFEST_KEYS.items():
            if not isinstance(manifest.get(key), kind):
                raise ScenarioError(str(self.manifest_path), key, "missing or of the wrong kind")
        if not isinstance(manifest["scenario"].get("name"), str):
            raise ScenarioError(str(self.manifest_path), "scenario", "has no name")
        return manifest


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file; if it is not one, a ScenarioError naming the file and
    where the problem is (never quoting the file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(str(path), None, f"not UTF-8 text (byte {err.start})") from None
    if not text.strip():
        raise ScenarioError(str(path), None, "empty; expected a JSON object")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ScenarioError(
            str(path), None, f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})"
        ) from None
    if not isinstance(data, dict):
        kind = JSON_KINDS.get(type(data), "not an object")
        raise ScenarioError(str(path), None, f"expected a JSON object, found {kind}")
    return data


def alive(pid: int) -> bool:
    """Whether a process with this id is running (ours to signal or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write(path: Path, text: str) -> None:
    """Write text under a hidden name, then rename it into place."""
    with staged_file(path) as staging:
        staging.write_text(text, encoding="utf-8")


def atomic_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file under a hidden name, then rename it into place."""
    with staged_file(path) as staging:
        table.to_parquet(staging, index=False)


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """A hidden name to write `path` under: renamed into place if the write succeeds,
    removed if it fails; an OSError names `path` (Arrow's name no file)."""
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        yield staging
        staging.replace(path)
    except OSError as err:
        staging.unlink(missing_ok=True)
        if err.filename:
            raise
        reason = os.strerror(err.errno) if err.errno else "cannot write the file"
        raise OSError(err.errno, reason, str(path)) from err
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
