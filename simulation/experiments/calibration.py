"""Calibration: the scenario keys that bring a run closest to a platform's reported
figures, searched with optuna's TPE sampler.

Every trial runs the same replicate seeds (common random numbers), so two trials
differ by their parameters only. The study lives in SQLite under `out`: a calibration
stopped at any point, even by `kill -9`, resumes where it was, and a trial that was
running then is run again with the same parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from simulation.experiments.design import field_type
from simulation.experiments.executors import executor
from simulation.experiments.provenance import utc_stamp, versions
from simulation.experiments.runner import RunTask, simulate
from simulation.experiments.seeds import replicate_seed, run_key
from simulation.experiments.store import atomic_write, read_json
from simulation.experiments.targets import (
    Target,
    best_scale,
    check_reach,
    comparison,
    figures,
    load_targets,
    log_loss,
)
from simulation.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_hash,
    scenario_toml,
    with_overrides,
)
from simulation.world.footprint import check_fits

STUDY = "calibration"
MANIFEST = "calibration.json"
MAX_TRIALS = 10_000


@dataclass(frozen=True)
class Parameter:
    """A scenario key searched between `low` and `high`, on a log scale if asked."""

    key: str
    low: float
    high: float
    log: bool = False

    @property
    def whole(self) -> bool:
        return field_type(self.key) is int


def parse_parameter(text: str) -> Parameter:
    """`KEY=LO:HI` or `KEY=LO:HI:log`, checked (an error names the text)."""
    key, sep, bounds = text.partition("=")
    parts = bounds.split(":")
    if not sep or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
        raise ScenarioError("--param", text, "expected KEY=LO:HI or KEY=LO:HI:log")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ScenarioError("--param", text, "LO and HI must be numbers") from None
    return Parameter(key.strip(), low, high, len(parts) == 3)


class Calibration:
    """Fits `parameters` (Parameter, or "KEY=LO:HI[:log]" text) of `scenario` to
    `targets` (a file, or Target rows) by minimising `targets.log_loss`: `trials`
    trials of `replicates` runs each, on `workers` local processes (or Dask).
    `start` ({key: value}) is the first trial. With `fit_scale`, each trial's
    population.scale is the one that fits it best (`targets.best_scale`, closed form),
    so the searched keys fit the shapes and ratios and the scale the levels.
    Everything is checked before anything runs; the study goes under `out`."""

    def __init__(
        self,
        scenario: str | Path | Scenario,
        targets: str | Path | list[Target],
        parameters: list[Parameter | str],
        *,
        trials: int = 50,
        replicates: int = 2,
        workers: int = 1,
        dask: str | None = None,
        out: str | Path | None = None,
        overrides: dict[str, Any] | None = None,
        start: dict[str, Any] | None = None,
        seed: int = 0,
        progress: bool = True,
        fit_scale: bool = False,
    ) -> None:
        if isinstance(scenario, Scenario):
            base = with_overrides(scenario, overrides or {})
        else:
            base = load_scenario(scenario, overrides or {})
        self.base = base
        self.targets = load_targets(targets) if isinstance(targets, str | Path) else list(targets)
        check_reach(self.targets, base.run.steps)
        self.parameters = [
            p if isinstance(p, Parameter) else parse_parameter(p) for p in parameters
        ]
        self._check_parameters()
        for name, count, least in (("--trials", trials, 1), ("--replicates", replicates, 1)):
            if not least <= count <= MAX_TRIALS:
                raise ScenarioError(name, str(count), f"must be from {least} to {MAX_TRIALS:,}")
        self.trials, self.replicates = trials, replicates
        self.workers, self.dask, self.seed, self.progress = workers, dask, seed, progress
        self.fit_scale = fit_scale
        if fit_scale:
            self._check_scale_fit()
        self.start = dict(start or {})
        self._check_start()
        self.base_hash = scenario_hash(base)
        self.out = Path(out) if out else Path("results") / "calibrations" / base.name
        self._check_out()

    def _check_parameters(self) -> None:
        if not self.parameters:
            raise ScenarioError("--param", None, "give at least one KEY=LO:HI to fit")
        keys = [p.key for p in self.parameters]
        if len(set(keys)) != len(keys):
            raise ScenarioError("--param", None, "a key is given twice")
        for parameter in self.parameters:
            bounds = f"{parameter.low:g}:{parameter.high:g}"
            if not (math.isfinite(parameter.low) and math.isfinite(parameter.high)):
                raise ScenarioError("--param", parameter.key, f"{bounds}: bounds must be finite")
            if parameter.low >= parameter.high:
                raise ScenarioError("--param", parameter.key, f"{bounds}: LO must be below HI")
            if parameter.log and parameter.low <= 0:
                raise ScenarioError("--param", parameter.key, f"{bounds}: a log scale needs LO > 0")
            if field_type(parameter.key) not in (int, float):
                raise ScenarioError("--param", parameter.key, "is not a numeric scenario key")
            if parameter.whole and round(parameter.low) >= round(parameter.high):
                raise ScenarioError("--param", parameter.key, f"{bounds}: no whole number between")
            if parameter.whole and parameter.log and round(parameter.low) < 1:
                raise ScenarioError(
                    "--param", parameter.key, f"{bounds}: a whole-number log scale needs LO ≥ 1"
                )
            for value in (parameter.low, parameter.high):
                changed = {parameter.key: self._cast(parameter, value)}
                check_fits(with_overrides(self.base, changed, "--param"))

    def _check_out(self) -> None:
        """`out` is a folder that is absent, empty, or holds a calibration."""
        for folder in (self.out, *self.out.absolute().parents):
            if folder.exists() and not folder.is_dir():
                raise ScenarioError("--out", str(self.out), f"{folder} is a file, not a folder")
        if self.out.is_dir() and any(self.out.iterdir()) and not (self.out / MANIFEST).is_file():
            raise ScenarioError(
                "--out", str(self.out), "holds something other than a calibration; choose another"
            )

    @property
    def storage(self) -> str:
        """The study's SQLite address."""
        return f"sqlite:///{(self.out / 'study.db').resolve()}"

    def _check_scale_fit(self) -> None:
        """Fitting the scale needs a fitted target in people, orders, shares or money,
        and the scale must not also be searched."""
        if any(p.key == "population.scale" for p in self.parameters):
            raise ScenarioError(
                "--param", "population.scale", "is fitted by --fit-scale: give one or the other"
            )
        if not any(t.fit and t.weight > 0 and t.power for t in self.targets):
            raise ScenarioError(
                "--fit-scale",
                None,
                "needs a fitted target counting people, orders or money (not a ratio)",
            )

    def _check_start(self) -> None:
        """The first trial sets every fitted key, each within its range."""
        if not self.start:
            return
        ranges = {p.key: p for p in self.parameters}
        if set(self.start) != set(ranges):
            raise ScenarioError("start", None, f"must set exactly the fitted keys: {list(ranges)}")
        for key, value in self.start.items():
            if not ranges[key].low <= value <= ranges[key].high:
                raise ScenarioError("start", key, f"{value} is outside its range")

    @staticmethod
    def _cast(parameter: Parameter, value: float) -> float | int:
        return round(value) if parameter.whole else float(value)

    @property
    def manifest(self) -> dict[str, Any]:
        """What makes this calibration itself: a study under `out` must match it."""
        return {
            "scenario": self.base.model_dump(mode="json"),
            "scenario_hash": self.base_hash,
            "targets": [t.__dict__ for t in self.targets],
            "parameters": [p.__dict__ for p in self.parameters],
            "replicates": self.replicates,
            "seed": self.seed,
            "start": self.start,
            "fit_scale": self.fit_scale,
            "loss": "weighted mean over fitted targets of (ln model mean − ln reported)²",
        }

    def seeds(self) -> list[int]:
        """The replicate seeds every trial runs on."""
        return [replicate_seed(self.base_hash, r) for r in range(self.replicates)]

    def run(self, on_trial: Callable[[dict[str, Any]], None] | None = None) -> CalibrationResult:
        """Run the trials not yet in the study (up to `trials` in all); return the best."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = self._study(optuna)
        done = self._finished(study)
        batch = max(1, self.workers // self.replicates)
        workers = min(self.workers, batch * self.replicates)
        with (
            executor(workers, self.dask) as pool,
            tqdm(
                total=self.trials,
                initial=min(done, self.trials),
                unit="trial",
                disable=not self.progress,
                desc=f"calibrating {self.base.name}",
            ) as bar,
        ):
            while done < self.trials:
                count = min(batch, self.trials - done)
                asked = [study.ask(self._distributions(optuna)) for _ in range(count)]
                for trial, record in zip(asked, self._evaluate(pool, asked), strict=True):
                    self._tell(study, optuna, trial, record)
                    done += 1
                    bar.update()
                    bar.set_postfix(best=f"{study.best_value:.4g}" if _any_complete(study) else "-")
                    if on_trial is not None:
                        on_trial(record)
        return self.result()

    def _study(self, optuna: Any) -> Any:
        """The study under `out`, created or resumed; trials a killed run left running are
        marked failed and queued again with their parameters. A resumed study's sampler
        is seeded with the seed plus the trials so far, so it does not replay its draws."""
        self.out.mkdir(parents=True, exist_ok=True)
        manifest_path = self.out / MANIFEST
        if manifest_path.exists():
            recorded = read_json(manifest_path)
            if {k: recorded.get(k) for k in self.manifest} != json.loads(
                json.dumps(self.manifest, default=str)
            ):
                raise ScenarioError(
                    "--out",
                    str(self.out),
                    "holds another calibration (scenario, targets, parameters, replicates, "
                    "seed, start or --fit-scale differ): choose another --out",
                )
        else:
            stamped = self.manifest | {"created": utc_stamp(), "versions": versions()}
            atomic_write(manifest_path, json.dumps(stamped, indent=2, default=str))
        study = optuna.create_study(
            study_name=STUDY,
            storage=self.storage,
            sampler=optuna.samplers.TPESampler(seed=self.seed, multivariate=True),
            direction="minimize",
            load_if_exists=True,
        )
        if study.trials:
            study.sampler = optuna.samplers.TPESampler(
                seed=self.seed + len(study.trials), multivariate=True
            )
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        for trial in running:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=False)
        if not study.trials and self.start:
            study.enqueue_trial(self.start)
        return study

    def _finished(self, study: Any) -> int:
        """Trials done: completed, or failed with an error (not those a kill cut short,
        which have no error and were queued again)."""
        return sum(1 for t in study.trials if t.state.name == "COMPLETE" or "error" in t.user_attrs)

    def _distributions(self, optuna: Any) -> dict[str, Any]:
        dists = {}
        for p in self.parameters:
            if p.whole:
                dists[p.key] = optuna.distributions.IntDistribution(
                    round(p.low), round(p.high), log=p.log
                )
            else:
                dists[p.key] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
        return dists

    def _evaluate(self, pool: Executor, trials: list[Any]) -> list[dict[str, Any]]:
        """Run every replicate of every trial of a batch; each trial's record: its
        parameters, its targets' figures per replicate, the loss, or the error."""
        base = self.base.model_dump(mode="json")
        chosen = [
            {p.key: self._cast(p, trial.params[p.key]) for p in self.parameters} for trial in trials
        ]
        futures = [
            [
                pool.submit(
                    simulate, RunTask(run_key(self.base_hash, params, r), 0, r, seed, params, base)
                )
                for r, seed in enumerate(self.seeds())
            ]
            for params in chosen
        ]
        records = []
        for trial, params, runs in zip(trials, chosen, futures, strict=True):
            results = [future.result() for future in runs]
            failed = [row["error"] for row, _ in results if row["status"] != "done"]
            record: dict[str, Any] = {"trial": trial.number, "params": params}
            if failed:
                records.append(record | {"error": failed[0]})
                continue
            daily = [series for _, series in results]
            scale = float(params.get("population.scale", self.base.population.scale))
            if self.fit_scale:
                scale = best_scale(self.targets, figures(self.targets, daily, 1.0))
                if not math.isfinite(scale):
                    records.append(record | {"error": "no simulated level to fit the scale to"})
                    continue
            values = figures(self.targets, daily, scale)
            records.append(
                record
                | {"figures": values.tolist(), "loss": log_loss(self.targets, values)}
                | ({"scale": scale} if self.fit_scale else {})
            )
        return records

    def _tell(self, study: Any, optuna: Any, trial: Any, record: dict[str, Any]) -> None:
        if "error" in record:
            trial.set_user_attr("error", record["error"])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        trial.set_user_attr("figures", record["figures"])
        if "scale" in record:
            trial.set_user_attr("scale", record["scale"])
        study.tell(trial, record["loss"] if math.isfinite(record["loss"]) else math.inf)

    def result(self) -> CalibrationResult:
        """The study as it stands: every trial, the best one and its targets table."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if not (self.out / "study.db").is_file():
            raise ScenarioError("--out", str(self.out), "holds no calibration study yet")
        study = optuna.load_study(study_name=STUDY, storage=self.storage)
        history = study.trials_dataframe(
            attrs=("number", "state", "value", "params", "user_attrs")
        ).drop(columns=["user_attrs_figures"], errors="ignore")
        history = history.rename(
            columns=lambda c: c.removeprefix("params_").removeprefix("user_attrs_")
        ).rename(columns={"value": "loss"})
        if not _any_complete(study):
            errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
            why = f": every run failed, e.g. {errors[0]}" if errors else " yet"
            raise ScenarioError("--out", str(self.out), f"no trial has completed{why}")
        best = study.best_trial
        params = {p.key: self._cast(p, best.params[p.key]) for p in self.parameters}
        if self.fit_scale:
            params["population.scale"] = float(best.user_attrs["scale"])
        table = comparison(self.targets, np.array(best.user_attrs["figures"]))
        return CalibrationResult(
            scenario=with_overrides(self.base, params, "--param"),
            params=params,
            loss=float(best.value),
            trial=best.number,
            targets=table,
            history=history,
            replicates=self.replicates,
        )


def _any_complete(study: Any) -> bool:
    return any(t.state.name == "COMPLETE" for t in study.trials)


@dataclass
class CalibrationResult:
    """The best trial: its parameters and loss, the scenario they make, every target
    against the model there (mean and 95% CI over replicates), and every trial."""

    scenario: Scenario
    params: dict[str, Any]
    loss: float
    trial: int
    targets: pd.DataFrame
    history: pd.DataFrame
    replicates: int

    def write(self, folder: Path) -> None:
        """best.toml (loadable), targets.csv and trials.csv into `folder`, each written
        whole or not at all (plots: simulation.viz.plots.save_calibration_plots)."""
        header = (
            f"# Calibrated: trial {self.trial}, loss {self.loss:.6g} (weighted mean squared log "
            f"error), {self.replicates} replicates\n"
            + "".join(f"# {key} = {value!r}\n" for key, value in self.params.items())
        )
        atomic_write(folder / "best.toml", header + scenario_toml(self.scenario))
        atomic_write(folder / "targets.csv", self.targets.to_csv(index=False))
        atomic_write(folder / "trials.csv", self.history.to_csv(index=False))
