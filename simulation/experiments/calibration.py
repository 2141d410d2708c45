"""Calibration: the scenario keys that bring a run closest to a platform's reported
figures, searched with optuna's TPE sampler in a resumable study (`search.Search`),
every trial on the same replicate seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments.search import Parameter, Search, any_complete, parse_parameter
from simulation.experiments.store import atomic_write
from simulation.experiments.targets import (
    Target,
    best_scale,
    check_reach,
    comparison,
    figures,
    load_targets,
    log_loss,
)
from simulation.scenario import Scenario, ScenarioError, scenario_toml, with_overrides

__all__ = ["Calibration", "CalibrationResult", "Parameter", "parse_parameter"]


class Calibration(Search):
    """Fits `parameters` (Parameter, or "KEY=LO:HI[:log]" text) of `scenario` to
    `targets` (a file, or Target rows) by minimising `targets.log_loss`: `trials`
    trials of `replicates` runs each, on `workers` local processes (or Dask).
    `start` ({key: value}) is the first trial. With `fit_scale`, each trial's
    population.scale is the one that fits it best (`targets.best_scale`, closed form),
    so the searched keys fit the shapes and ratios and the scale the levels.
    Everything is checked before anything runs; the study goes under `out`."""

    KIND = "calibration"

    def __init__(
        self,
        scenario: str | Path | Scenario,
        targets: str | Path | list[Target],
        parameters: list[Parameter | str],
        *,
        trials: int = 50,
        replicates: int = 2,
        fit_scale: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(scenario, parameters, trials=trials, replicates=replicates, **options)
        self.targets = load_targets(targets) if isinstance(targets, str | Path) else list(targets)
        check_reach(self.targets, self.base.run.steps)
        self.fit_scale = fit_scale
        if fit_scale:
            self._check_scale_fit()

    @property
    def directions(self) -> list[str]:
        return ["minimize"]

    @property
    def manifest(self) -> dict[str, Any]:
        return super().manifest | {
            "targets": [t.__dict__ for t in self.targets],
            "fit_scale": self.fit_scale,
            "loss": "weighted mean over fitted targets of (ln model mean − ln reported)²",
        }

    def _standing(self, study: Any) -> str:
        return f"best={study.best_value:.4g}" if any_complete(study) else "best=-"

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

    def _score(self, results: list[tuple[dict[str, Any], pd.DataFrame | None]]) -> dict:
        """The trial's targets' figures (mean over replicates), its loss, and its fitted
        scale with --fit-scale."""
        daily = [series for _, series in results]
        scale = float(results[0][0].get("scale", self.base.population.scale))
        if self.fit_scale:
            scale = best_scale(self.targets, figures(self.targets, daily, 1.0))
            if not math.isfinite(scale):
                return {"error": "no simulated level to fit the scale to"}
        values = figures(self.targets, daily, scale)
        attrs = {"figures": values.tolist()} | ({"scale": scale} if self.fit_scale else {})
        return {"values": [log_loss(self.targets, values)], "attrs": attrs}

    def result(self) -> CalibrationResult:
        """The study as it stands: every trial, the best one and its targets table."""
        study = self._load()
        history = study.trials_dataframe(
            attrs=("number", "state", "value", "params", "user_attrs")
        ).drop(columns=["user_attrs_figures"], errors="ignore")
        history = history.rename(
            columns=lambda c: c.removeprefix("params_").removeprefix("user_attrs_")
        ).rename(columns={"value": "loss"})
        if not any_complete(study):
            errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
            why = f": every trial failed, e.g. {errors[0]}" if errors else " yet"
            raise ScenarioError("--out", str(self.out), f"no trial has completed{why}")
        best = study.best_trial
        params = self.params(best)
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
