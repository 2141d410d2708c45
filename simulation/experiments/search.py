"""The study behind calibration and strategy search: optuna trials over scenario keys,
each trial run on the same replicate seeds (common random numbers), stored in SQLite
under a folder so that a search stopped at any point, even by `kill -9`, resumes
where it was, and a trial that was running then is run again with its parameters.

A subclass says what a trial's runs are worth (`_score`: a loss, or objectives and
constraints) and which way each value should go (`directions`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from simulation.experiments.design import field_type, split_values
from simulation.experiments.executors import dask_address, executor
from simulation.experiments.provenance import utc_stamp, versions
from simulation.experiments.runner import RunTask, simulate
from simulation.experiments.seeds import replicate_seed, run_key
from simulation.experiments.store import atomic_write, read_json
from simulation.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_override,
    scenario_hash,
    with_overrides,
)
from simulation.world.footprint import check_fits

MAX_TRIALS = 10_000
MODIFIERS = ("int", "log")
Evaluate = Callable[[RunTask], tuple[dict[str, Any], pd.DataFrame | None]]


@dataclass(frozen=True)
class Parameter:
    """A scenario key searched between `low` and `high` (whole numbers if the key is
    one or `integer` is asked; on a log scale if `log`), or over listed `choices`
    (each the TOML text of a value, e.g. "[30, 20]")."""

    key: str
    low: float = math.nan
    high: float = math.nan
    log: bool = False
    integer: bool = False
    choices: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        return self.integer or field_type(self.key) is int

    def value(self, raw: Any) -> Any:
        """The scenario value of what the sampler drew."""
        if self.choices:
            return parse_override(f"v={raw}")[1]
        return round(raw) if self.whole else float(raw)

    def record(self) -> dict[str, Any]:
        """What identifies the parameter in a study's manifest."""
        if self.choices:
            return {"key": self.key, "choices": list(self.choices)}
        extra = {"integer": True} if self.integer else {}
        return {"key": self.key, "low": self.low, "high": self.high, "log": self.log} | extra

    def distribution(self, optuna: Any) -> Any:
        if self.choices:
            return optuna.distributions.CategoricalDistribution(self.choices)
        if self.whole:
            return optuna.distributions.IntDistribution(
                round(self.low), round(self.high), log=self.log
            )
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)

    def contains(self, value: Any) -> bool:
        if self.choices:
            return any(parse_override(f"v={c}")[1] == value for c in self.choices)
        return self.low <= value <= self.high


def parse_parameter(text: str, source: str = "--param") -> Parameter:
    """`KEY=LO:HI`, optionally followed by `:int` and/or `:log`, or `KEY=v1,v2,...`
    (values read as TOML; brackets keep a list whole); an error names the text."""
    key, sep, spec = text.partition("=")
    key = key.strip()
    if not sep or not key or not spec.strip():
        raise ScenarioError(source, text, "expected KEY=LO:HI[:int][:log] or KEY=v1,v2,...")
    parts = spec.split(":")
    if len(parts) >= 2 and "," not in spec and "[" not in spec:
        modifiers = [part.strip() for part in parts[2:]]
        if any(m not in MODIFIERS for m in modifiers) or len(set(modifiers)) < len(modifiers):
            raise ScenarioError(source, text, "after LO:HI only :int and :log may follow")
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise ScenarioError(source, text, "LO and HI must be numbers") from None
        return Parameter(key, low, high, "log" in modifiers, "int" in modifiers)
    choices = tuple(choice.strip() for choice in split_values(spec))
    if len(choices) < 2 or not all(choices):
        raise ScenarioError(source, text, "list at least two values, or give a range LO:HI")
    return Parameter(key, choices=choices)


class Search:
    """Trials over `parameters` of `scenario`, `replicates` runs each on the same seeds,
    on `workers` local processes (or Dask); `start` ({key: value}) is the first trial.
    Everything is checked before anything runs; the study goes under `out`, which must
    be absent, empty, or a study of the same kind. `evaluate` runs one replicate
    (default: the simulation; tests give a cheap function of the same shape)."""

    KIND = "search"
    SOURCE = "--param"
    NAMES = "parameters"  # what the manifest calls the searched keys

    def __init__(
        self,
        scenario: str | Path | Scenario,
        parameters: list[Parameter | str],
        *,
        trials: int,
        replicates: int,
        workers: int = 1,
        dask: str | None = None,
        out: str | Path | None = None,
        overrides: dict[str, Any] | None = None,
        start: dict[str, Any] | None = None,
        seed: int = 0,
        progress: bool = True,
        evaluate: Evaluate = simulate,
    ) -> None:
        if isinstance(scenario, Scenario):
            self.base = with_overrides(scenario, overrides or {})
        else:
            self.base = load_scenario(scenario, overrides or {})
        self.parameters = [
            p if isinstance(p, Parameter) else parse_parameter(p, self.SOURCE) for p in parameters
        ]
        self._check_parameters()
        for name, count in (("--trials", trials), ("--replicates", replicates)):
            if not 1 <= count <= MAX_TRIALS:
                raise ScenarioError(name, str(count), f"must be from 1 to {MAX_TRIALS:,}")
        self.trials, self.replicates = trials, replicates
        self.workers, self.seed, self.progress = workers, seed, progress
        self.dask = dask if dask is None else dask_address(dask)
        self.evaluate = evaluate
        self.start = dict(start or {})
        self._check_start()
        self.base_hash = scenario_hash(self.base)
        self.out = Path(out) if out else Path("results") / f"{self.KIND}s" / self.base.name
        self._check_out()

    @property
    def manifest_path(self) -> Path:
        return self.out / f"{self.KIND}.json"

    @property
    def storage(self) -> str:
        """The study's SQLite address."""
        return f"sqlite:///{(self.out / 'study.db').resolve()}"

    @property
    def directions(self) -> list[str]:
        raise NotImplementedError

    @property
    def manifest(self) -> dict[str, Any]:
        """What makes the search itself: a study under `out` must match it."""
        return {
            "scenario": self.base.model_dump(mode="json"),
            "scenario_hash": self.base_hash,
            self.NAMES: [p.record() for p in self.parameters],
            "replicates": self.replicates,
            "seed": self.seed,
            "start": self.start,
        }

    def _check_parameters(self) -> None:
        source = self.SOURCE
        if not self.parameters:
            raise ScenarioError(source, None, "give at least one key to search")
        keys = [p.key for p in self.parameters]
        if len(set(keys)) != len(keys):
            raise ScenarioError(source, None, "a key is given twice")
        for p in self.parameters:
            values = [p.value(c) for c in p.choices] if p.choices else self._check_range(p)
            if p.choices and len({json.dumps(v) for v in values}) < len(values):
                raise ScenarioError(source, p.key, "a value is listed twice")
            for value in values:
                check_fits(with_overrides(self.base, {p.key: value}, source))

    def _check_range(self, p: Parameter) -> list[float | int]:
        """A range's bounds as scenario values, once the range itself is checked."""
        source, bounds = self.SOURCE, f"{p.low:g}:{p.high:g}"
        if not (math.isfinite(p.low) and math.isfinite(p.high)):
            raise ScenarioError(source, p.key, f"{bounds}: bounds must be finite")
        if p.low >= p.high:
            raise ScenarioError(source, p.key, f"{bounds}: LO must be below HI")
        if p.log and p.low <= 0:
            raise ScenarioError(source, p.key, f"{bounds}: a log scale needs LO > 0")
        if field_type(p.key) not in (int, float):
            raise ScenarioError(source, p.key, "is not a numeric scenario key")
        if p.whole and round(p.low) >= round(p.high):
            raise ScenarioError(source, p.key, f"{bounds}: no whole number between")
        if p.whole and p.log and round(p.low) < 1:
            raise ScenarioError(source, p.key, f"{bounds}: a whole-number log scale needs LO ≥ 1")
        return [p.value(p.low), p.value(p.high)]

    def _check_start(self) -> None:
        """The first trial sets every searched key, each within its range."""
        if not self.start:
            return
        ranges = {p.key: p for p in self.parameters}
        if set(self.start) != set(ranges):
            raise ScenarioError("start", None, f"must set exactly these keys: {list(ranges)}")
        for key, value in self.start.items():
            if not ranges[key].contains(value):
                raise ScenarioError("start", key, f"{value} is outside its range")

    def _check_out(self) -> None:
        """`out` is a folder that is absent, empty, or holds a search of this kind."""
        for folder in (self.out, *self.out.absolute().parents):
            if folder.exists() and not folder.is_dir():
                raise ScenarioError("--out", str(self.out), f"{folder} is a file, not a folder")
        if self.out.is_dir() and any(self.out.iterdir()) and not self.manifest_path.is_file():
            raise ScenarioError(
                "--out", str(self.out), f"holds something other than a {self.KIND}; choose another"
            )

    def seeds(self) -> list[int]:
        """The replicate seeds every trial runs on."""
        return [replicate_seed(self.base_hash, r) for r in range(self.replicates)]

    def run(self, on_trial: Callable[[dict[str, Any]], None] | None = None) -> Any:
        """Run the trials not yet in the study (up to `trials` in all); return the result."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = self._study(optuna)
        done = self._finished(study)
        batch = max(1, self.workers // self.replicates)
        workers = min(self.workers, batch * self.replicates)
        distributions = {p.key: p.distribution(optuna) for p in self.parameters}
        with (
            executor(workers, self.dask) as pool,
            tqdm(
                total=self.trials,
                initial=min(done, self.trials),
                unit="trial",
                disable=not self.progress,
                desc=f"{self.KIND} of {self.base.name}",
            ) as bar,
        ):
            while done < self.trials:
                count = min(batch, self.trials - done)
                asked = [study.ask(distributions) for _ in range(count)]
                for trial, record in zip(asked, self._evaluate(pool, asked), strict=True):
                    self._tell(study, optuna, trial, record)
                    done += 1
                    bar.update()
                    bar.set_postfix_str(self._standing(study), refresh=False)
                    if on_trial is not None:
                        on_trial(record)
        return self.result()

    def _standing(self, study: Any) -> str:
        """How the search stands, for the progress bar."""
        return ""

    def _sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)

    def _study(self, optuna: Any) -> Any:
        """The study under `out`, created or resumed; trials a killed run left running are
        marked failed and queued again with their parameters. A resumed study's sampler
        is seeded with the seed plus the trials so far, so it does not replay its draws."""
        self.out.mkdir(parents=True, exist_ok=True)
        if self.manifest_path.exists():
            recorded = read_json(self.manifest_path)
            if {k: recorded.get(k) for k in self.manifest} != json.loads(
                json.dumps(self.manifest, default=str)
            ):
                raise ScenarioError(
                    "--out",
                    str(self.out),
                    f"holds another {self.KIND} (its scenario or settings differ): "
                    "choose another --out",
                )
        else:
            stamped = self.manifest | {"created": utc_stamp(), "versions": versions()}
            atomic_write(self.manifest_path, json.dumps(stamped, indent=2, default=str))
        study = optuna.create_study(
            study_name=self.KIND,
            storage=self.storage,
            sampler=self._sampler(optuna, self.seed),
            directions=self.directions,
            load_if_exists=True,
        )
        if study.trials:
            study.sampler = self._sampler(optuna, self.seed + len(study.trials))
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        for trial in running:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=False)
        if not study.trials and self.start:
            study.enqueue_trial(self._drawn(self.start))
        return study

    def _drawn(self, values: dict[str, Any]) -> dict[str, Any]:
        """Scenario values as the sampler draws them (a choice by its text)."""
        drawn = dict(values)
        for p in self.parameters:
            if p.choices:
                drawn[p.key] = next(c for c in p.choices if p.value(c) == values[p.key])
        return drawn

    @staticmethod
    def _finished(study: Any) -> int:
        """Trials done: completed, or failed with an error (not those a kill cut short,
        which have no error and were queued again)."""
        return sum(1 for t in study.trials if t.state.name == "COMPLETE" or "error" in t.user_attrs)

    def params(self, trial: Any) -> dict[str, Any]:
        """A trial's scenario values."""
        return {p.key: p.value(trial.params[p.key]) for p in self.parameters}

    def _evaluate(self, pool: Executor, trials: list[Any]) -> list[dict[str, Any]]:
        """Run every replicate of every trial of a batch; each trial's record: its
        number and parameters, then what `_score` makes of its runs, or the error."""
        base = self.base.model_dump(mode="json")
        chosen = [self.params(trial) for trial in trials]
        futures = [
            [
                pool.submit(
                    self.evaluate,
                    RunTask(run_key(self.base_hash, params, r), 0, r, seed, params, base),
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
            records.append(record | ({"error": failed[0]} if failed else self._score(results)))
        return records

    def _score(self, results: list[tuple[dict[str, Any], pd.DataFrame | None]]) -> dict:
        """What a trial's runs are worth: `values` (one per direction), user
        attributes to keep (`attrs`) and constraints ({label: excess, ≤ 0 holds}), or an
        `error`."""
        raise NotImplementedError

    def _tell(self, study: Any, optuna: Any, trial: Any, record: dict[str, Any]) -> None:
        if "error" in record:
            trial.set_user_attr("error", record["error"])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        for name, value in record["attrs"].items():
            trial.set_user_attr(name, value)
        for label, value in record.get("constraints", {}).items():
            trial.set_constraint(label, value)
        study.tell(trial, [v if math.isfinite(v) else math.inf for v in record["values"]])

    def result(self) -> Any:
        raise NotImplementedError

    def _load(self) -> Any:
        """The study under `out`; a one-line error if there is none."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if not (self.out / "study.db").is_file():
            raise ScenarioError("--out", str(self.out), f"holds no {self.KIND} study yet")
        return optuna.load_study(study_name=self.KIND, storage=self.storage)


def any_complete(study: Any) -> bool:
    return any(t.state.name == "COMPLETE" for t in study.trials)
