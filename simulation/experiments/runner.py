"""Sweeps: many runs of a scenario over a design and replicates, streamed to a store.

`simulate` runs one task in whatever process the executor chose and never raises:
a run that fails comes back as a row with status "failed" and its error, and the
sweep goes on.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from simulation.experiments import analysis, sensitivity
from simulation.experiments.design import (
    check_size,
    factorial,
    integer_keys,
    parse_sample,
    sample_size,
    sampled,
    variants,
)
from simulation.experiments.executors import dask_address, executor
from simulation.experiments.provenance import utc_stamp, versions
from simulation.experiments.seeds import replicate_seed, run_key
from simulation.experiments.store import SweepStore
from simulation.mechanisms.compliance import SEVERITIES
from simulation.model import SocialCommerceModel
from simulation.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_hash,
    with_overrides,
)
from simulation.world.footprint import check_fits

SUMMARY_TEXT = ("scenario", "scenario_hash")


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep: which point, which replicate, which seed, from which base."""

    key: str
    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    base: dict[str, Any]


def simulate(task: RunTask) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Run one task; return its row (parameters, seed, status, wall time, final
    metrics) and its daily time series (None if it failed)."""
    start = time.perf_counter()
    row: dict[str, Any] = {
        "run_key": task.key,
        "point": task.point,
        "replicate": task.replicate,
        "seed": task.seed,
        **task.overrides,
    }
    timeseries = None
    try:
        scenario = with_overrides(Scenario.model_validate(task.base), task.overrides, "--vary")
        model = SocialCommerceModel(scenario, rng=task.seed)
        model.run()
        summary = model.summary()
        flags = summary.pop("flags")
        for key in SUMMARY_TEXT:
            summary.pop(key)
        row |= {"status": "done", "error": ""} | summary
        row |= {"flag_count": len(flags), "flags": "; ".join(f["rule"] for f in flags)}
        row |= {
            f"flags_{severity}": sum(f["severity"] == severity for f in flags)
            for severity in SEVERITIES
        }
        timeseries = model.datacollector.get_model_vars_dataframe()
        timeseries.insert(0, "run_key", task.key)
    except Exception as err:  # noqa: BLE001 - a failed run is recorded, not raised
        row |= {"status": "failed", "error": f"{type(err).__name__}: {err}"}
    row["wall_s"] = time.perf_counter() - start
    return row, timeseries


class Sweep:
    """Replicated runs of a scenario over a factorial or sampled design.

    `scenario` is a path or a Scenario; `vary` maps keys to lists of values
    (factorial), or `sample` ("sobol:64", "morris:10", "lhs:50") with `ranges`
    ({key: (low, high)}) draws points, or `changes` ({key: value}) makes two points, the
    scenario as it is and with every change made together. Replicate r runs on the same
    seed at every point, drawn from `seed_key` (default: the scenario's hash; give two
    sweeps one key to compare them on common random numbers). Results stream into the
    store at `out`; running the same sweep again resumes it. Everything is checked before anything
    starts: the design (at most MAX_RUNS runs), every point, the Dask address.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario,
        *,
        vary: dict[str, list[Any]] | None = None,
        sample: str | None = None,
        ranges: dict[str, tuple[float, float]] | None = None,
        replicates: int = 1,
        workers: int = 1,
        dask: str | None = None,
        out: str | Path | None = None,
        overrides: dict[str, Any] | None = None,
        design_seed: int = 0,
        progress: bool = True,
        changes: dict[str, Any] | None = None,
        seed_key: str | None = None,
    ) -> None:
        if isinstance(scenario, Scenario):
            base = with_overrides(scenario, overrides or {})
        else:
            base = load_scenario(scenario, overrides or {})
        if replicates < 1:
            raise ValueError(f"replicates must be at least 1, got {replicates}")
        if sample is not None and vary:
            raise ScenarioError("sweep", None, "give either --vary or --sample, not both")
        if sample is None and ranges:
            raise ScenarioError("--range", None, "a range is sampled: give --sample with it")
        self.base = base
        self.base_hash = scenario_hash(base)
        self.seed_key = seed_key or self.base_hash
        if changes is not None:
            if sample is not None or vary:
                raise ScenarioError(
                    "--change", None, "compares two variants: no --vary or --sample"
                )
            check_size(2, replicates, "--replicates")
            self.design = variants(base, changes)
        elif sample is not None:
            method, count = parse_sample(sample)
            ranges = dict(ranges or {})
            check_size(sample_size(method, count, len(ranges)), replicates, "--sample")
            self.design = sampled(method, count, ranges, design_seed, integer_keys(list(ranges)))
        else:
            vary = dict(vary or {})
            check_size(math.prod(len(values) for values in vary.values()), replicates, "--vary")
            self.design = factorial(vary)
        source = "--change" if changes is not None else "--vary"
        for point in range(len(self.design.points)):
            scenario = with_overrides(base, self.design.overrides(point), source)
            try:
                check_fits(scenario)
            except ScenarioError as err:
                raise ScenarioError(source, err.key, err.message) from None
        self.replicates = replicates
        self.workers = workers
        self.dask = dask if dask is None else dask_address(dask)
        self.progress = progress
        self.store = SweepStore(
            Path(out) if out else Path("results") / "sweeps" / f"{base.name}-{utc_stamp()}"
        )

    @property
    def manifest(self) -> dict[str, Any]:
        design = self.design.as_dict()
        identity = json.dumps(
            [self.base_hash, design, self.replicates]
            + ([self.seed_key] if self.seed_key != self.base_hash else []),
            sort_keys=True,
            default=str,
        )
        return {
            "design_id": hashlib.sha256(identity.encode()).hexdigest()[:16],
            "scenario": self.base.model_dump(mode="json"),
            "scenario_hash": self.base_hash,
            "design": design,
            "replicates": self.replicates,
            "created": utc_stamp(),
            "versions": versions(),
        }

    def tasks(self) -> list[RunTask]:
        """Every run of the sweep; a point that repeats an earlier one (sampled points
        can coincide) gets keys of its own, so that every point keeps its runs."""
        base = self.base.model_dump(mode="json")
        tasks = []
        seen: Counter[str] = Counter()
        for point in range(len(self.design.points)):
            overrides = self.design.overrides(point)
            identity = json.dumps(overrides, sort_keys=True, default=str)
            repeat = seen[identity]
            seen[identity] += 1
            for replicate in range(self.replicates):
                key = run_key(self.base_hash, overrides, replicate)
                tasks.append(
                    RunTask(
                        key=key if repeat == 0 else run_key(key, {"repeat": repeat}, replicate),
                        point=point,
                        replicate=replicate,
                        seed=replicate_seed(self.seed_key, replicate),
                        overrides=overrides,
                        base=base,
                    )
                )
        return tasks

    def run(self, on_run: Callable[[dict[str, Any]], None] | None = None) -> pd.DataFrame:
        """Run every task not yet in the store; return all runs, one row each.

        At most a few tasks per worker are in flight, and each result is written and
        dropped as it arrives, so memory stays flat however many runs there are. The
        store is held for the whole sweep and written only once the executor is up
        (a cluster that cannot be reached leaves nothing behind); no more local
        processes start than there are runs to do.
        """
        manifest = self.manifest
        tasks = self.tasks()
        self.store.check(manifest)
        pending = [task for task in tasks if task.key not in self.store.finished()]
        workers = self.workers if self.dask else min(self.workers, max(len(pending), 1))
        with executor(workers, self.dask) as pool, self.store.opened(manifest):
            done = self.store.finished()
            pending = [task for task in tasks if task.key not in done]
            self._run_pending(pool, max(2 * workers, 4), pending, len(tasks), on_run)
            return self.store.gather()

    def _run_pending(
        self,
        pool: Executor,
        window: int,
        pending: list[RunTask],
        total: int,
        on_run: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        """Keep up to `window` pending tasks in flight and record each as it finishes.
        An interrupt cancels nothing here: the executor's shutdown stops what is in
        flight (loky kills its workers, Dask's client cancels), whereas cancelling a
        future loky has already handed to a worker fails in its manager thread when
        the result comes back."""
        with tqdm(
            total=total,
            initial=total - len(pending),
            unit="run",
            disable=not self.progress,
            desc=self.base.name,
        ) as bar:
            queue = iter(pending)
            in_flight: set = set()
            while True:
                while len(in_flight) < window and (task := next(queue, None)) is not None:
                    in_flight.add(pool.submit(simulate, task))
                if not in_flight:
                    break
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    row, timeseries = future.result()
                    self.store.record(row, timeseries)
                    bar.update()
                    if on_run is not None:
                        on_run(row)

    def runs(self) -> pd.DataFrame:
        """One row per run: parameters, seed, status, wall time, final metrics."""
        return self.store.runs()

    def timeseries(self, keys: list[str] | None = None) -> pd.DataFrame:
        """Daily metrics of the given runs (default: all)."""
        return self.store.timeseries(keys)

    def summary(self, metrics: list[str] | None = None) -> pd.DataFrame:
        """Per point: mean and 95% confidence interval of each metric over replicates."""
        return analysis.point_summary(self.runs(), self.design.parameters, metrics)

    def compare(self, metric: str, reference: int = 0) -> pd.DataFrame:
        """Each point against the reference point: paired and unpaired differences."""
        return analysis.paired_differences(self.runs(), metric, reference)

    def sensitivity(self, metric: str) -> pd.DataFrame:
        """Sobol' or Morris indices of `metric` over a sampled design."""
        return sensitivity.analyse(self.design, analysis.point_means(self.runs(), metric))
