"""Calibration targets: figures a platform reported, as a run measures them, and the loss
that weighs a model against them.

A target is one row of a CSV file (or one `[[targets]]` table of a TOML file):
`metric`, `day`, `value`, and optionally `weight` (default 1), `period` (days) and
`fit` (default true; false: reported beside the fit, out of sample). `metric` is a
daily metric's name, `A/B` (a ratio of two figures over the same period), or
`growth:A` (the figure over `period` days to `day` / the one to `day − period`).
A figure is a stock's value on `day`, or a flow's ("… per day") sum over the `period`
days to `day` (from day 1 without a period); counts and money are in real units
(× population.scale).
"""

from __future__ import annotations

import csv
import math
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments.analysis import mean_ci
from simulation.mechanisms.base import Metric
from simulation.model import METRICS
from simulation.scenario import ScenarioError

GROWTH = "growth:"
COLUMNS = ("metric", "day", "value", "weight", "period", "fit")
SERIES: dict[str, Metric] = {m.name: m for m in METRICS if m.kind != "final"}
FLOOR = 1e-12  # a model figure at or below zero is taken as this in the log loss


@dataclass(frozen=True)
class Target:
    """One reported figure: what it measures, on which day, its value and weight."""

    metric: str
    day: int
    value: float
    weight: float = 1.0
    period: int | None = None
    fit: bool = True

    @property
    def series(self) -> list[str]:
        """The daily metrics the figure is computed from."""
        return self.metric.removeprefix(GROWTH).split("/")

    @property
    def power(self) -> int:
        """The figure goes as population.scale to this power: +1 for a count or sum of
        money, 0 for a share, a growth multiple or a ratio of two counts, −1 for a
        share over a count."""
        if self.metric.startswith(GROWTH):
            return 0
        top, *bottom = (int(SERIES[name].extensive) for name in self.series)
        return top - sum(bottom)

    @property
    def label(self) -> str:
        period = f", {self.period} days" if self.period else ""
        return f"{self.metric} @ day {self.day}{period}"

    def figure(self, timeseries: pd.DataFrame, scale: float) -> float:
        """This target's figure in one run's daily time series (indexed by day)."""
        if self.metric.startswith(GROWTH):
            name = self.series[0]
            later = _figure(timeseries, name, self.day, self.period, scale)
            earlier = _figure(timeseries, name, self.day - self.period, self.period, scale)
            return _ratio(later, earlier)
        figures = [_figure(timeseries, name, self.day, self.period, scale) for name in self.series]
        return figures[0] if len(figures) == 1 else _ratio(*figures)


def _figure(timeseries: pd.DataFrame, name: str, day: int, period: int | None, scale: float):
    metric = SERIES[name]
    factor = scale if metric.extensive else 1.0
    values = timeseries[name]
    if metric.flow:
        first = day - period + 1 if period else 1
        return float(values.loc[first:day].sum()) * factor
    return float(values.loc[day]) * factor


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def load_targets(path: str | Path) -> list[Target]:
    """The targets of a CSV or TOML file, each row checked (an error names its row)."""
    path = Path(path)
    source = f"--target {path}"
    if path.exists() and not path.is_file():
        raise ScenarioError(source, None, "is not a file")
    try:
        if path.suffix == ".toml":
            rows = tomllib.loads(path.read_text(encoding="utf-8")).get("targets", [])
        elif path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                lines = (line for line in handle if not line.lstrip().startswith("#"))
                rows = list(csv.DictReader(lines))
        else:
            raise ScenarioError(source, None, "expected a .csv or .toml file of targets")
    except FileNotFoundError:
        raise ScenarioError(source, None, "no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, csv.Error, OSError) as err:
        raise ScenarioError(source, None, f"cannot be read: {err}") from None
    if not rows:
        raise ScenarioError(source, None, "holds no targets (rows: metric, day, value, ...)")
    return [_target(row, f"{source}, row {number}") for number, row in enumerate(rows, 1)]


def _target(row: Any, source: str) -> Target:
    if not isinstance(row, dict):
        raise ScenarioError(source, None, "a target is a table of metric, day, value, ...")
    if None in row:
        raise ScenarioError(source, None, "has more cells than the header has columns")
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise ScenarioError(source, unknown[0], f"unknown column; expected {', '.join(COLUMNS)}")
    given = {key: value for key, value in row.items() if value not in ("", None)}
    for key in ("metric", "day", "value"):
        if key not in given:
            raise ScenarioError(source, key, "is missing")
    readers = {"day": _whole, "value": float, "weight": float, "period": _whole, "fit": _flag}
    read: dict[str, Any] = {"metric": str(given["metric"]).replace(" ", "")}
    for key, reader in readers.items():
        if key in given:
            try:
                read[key] = reader(given[key])
            except (ValueError, TypeError):
                raise ScenarioError(source, key, f"{given[key]!r} is not {EXPECTED[key]}") from None
    target = Target(**read)
    _check(target, source)
    return target


EXPECTED = {
    "day": "a whole number of days",
    "value": "a number",
    "weight": "a number",
    "period": "a whole number of days",
    "fit": "true or false",
}


def _whole(value: Any) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(value)
    return text in ("true", "1", "yes")


def _check(target: Target, source: str) -> None:
    if target.metric.startswith(GROWTH) and "/" in target.metric:
        raise ScenarioError(source, target.metric, "growth: takes one metric, not a ratio")
    if len(target.series) > 2:
        raise ScenarioError(source, target.metric, "a ratio has one numerator, one denominator")
    for name in target.series:
        if name not in SERIES:
            raise ScenarioError(
                source, target.metric, f"{name!r} is not a daily metric (see: sharelab keys)"
            )
    if not (math.isfinite(target.value) and target.value > 0):
        raise ScenarioError(source, "value", f"{target.value}: must be a positive number")
    if not (math.isfinite(target.weight) and target.weight >= 0):
        raise ScenarioError(source, "weight", f"{target.weight}: must be zero or more")
    if target.day < 1:
        raise ScenarioError(source, "day", f"{target.day}: days start at 1")
    if target.period is not None and target.period < 1:
        raise ScenarioError(source, "period", f"{target.period}: must be at least one day")
    if target.metric.startswith(GROWTH):
        if target.period is None:
            raise ScenarioError(source, "period", "growth: needs the period it grows over")
        flow = SERIES[target.series[0]].flow
        earliest = target.day - (2 if flow else 1) * target.period + (1 if flow else 0)
        if earliest < 1:
            raise ScenarioError(source, "day", "growth: the earlier period starts before day 1")
    elif target.period is not None:
        if not any(SERIES[name].flow for name in target.series):
            raise ScenarioError(source, "period", "a stock is taken on its day: no period")
        if target.day - target.period < 0:
            raise ScenarioError(source, "period", "the period starts before day 1")


def check_reach(targets: list[Target], steps: int) -> None:
    """Every target's day within the run; at least one target fitted."""
    late = [t for t in targets if t.day > steps]
    if late:
        raise ScenarioError(
            "--target", late[0].label, f"is after the run's last day ({steps}): raise run.steps"
        )
    if not any(t.fit and t.weight > 0 for t in targets):
        raise ScenarioError("--target", None, "no target is fitted (fit = true, weight > 0)")


def figures(targets: list[Target], runs: list[pd.DataFrame], scale: float) -> np.ndarray:
    """Each target's figure in each run: an array of targets × runs."""
    indexed = [run.set_index("day") if "day" in run.columns else run for run in runs]
    return np.array([[t.figure(run, scale) for run in indexed] for t in targets])


def means(values: np.ndarray) -> np.ndarray:
    """Each row's mean over the replicates where the figure is defined (a ratio's
    denominator is not 0); NaN for a row with none."""
    defined = np.isfinite(values)
    counts = defined.sum(axis=1)
    sums = np.where(defined, values, 0.0).sum(axis=1)
    return np.divide(sums, counts, out=np.full(len(values), np.nan), where=counts > 0)


def best_scale(targets: list[Target], unscaled: np.ndarray) -> float:
    """The population.scale that minimises the loss given the runs' figures at scale 1.
    A fitted target going as k to the power e (`Target.power`) adds w (e ln k + ln x̄ −
    ln y)² to it, so ln k = Σ w e (ln y − ln x̄) / Σ w e² over those with e ≠ 0 and a
    positive mean x̄ (the others do not depend on k); NaN if there are none."""
    averaged = means(unscaled)
    rows = [
        i for i, t in enumerate(targets) if t.fit and t.weight > 0 and t.power and averaged[i] > 0
    ]
    if not rows:
        return math.nan
    weights = np.array([targets[i].weight for i in rows])
    powers = np.array([targets[i].power for i in rows], dtype=np.float64)
    gaps = np.array([math.log(targets[i].value) - math.log(averaged[i]) for i in rows])
    return float(math.exp(np.dot(weights * powers, gaps) / np.dot(weights, powers**2)))


def log_loss(targets: list[Target], values: np.ndarray) -> float:
    """The loss: the weighted mean, over fitted targets, of the squared log error of the
    model's mean figure over replicates, (ln mean − ln reported)²; the mean is over the
    replicates where the figure is defined (a ratio's denominator is not 0), and a mean
    at or below zero, or with none defined, counts as 1e-12."""
    fitted = [i for i, t in enumerate(targets) if t.fit and t.weight > 0]
    weights = np.array([targets[i].weight for i in fitted])
    averaged = np.nan_to_num(means(values[fitted]), nan=FLOOR)
    observed = np.array([targets[i].value for i in fitted])
    errors = np.log(np.maximum(averaged, FLOOR)) - np.log(observed)
    return float(np.sum(weights * errors**2) / weights.sum())


def comparison(targets: list[Target], values: np.ndarray) -> pd.DataFrame:
    """Each target against the model: reported value, model mean over replicates with
    its 95% confidence interval, and the relative error of the mean."""
    rows = []
    for target, row in zip(targets, values, strict=True):
        mean, low, high = mean_ci(row[np.isfinite(row)])
        rows.append(
            asdict(target)
            | {"model_mean": mean, "ci_low": low, "ci_high": high}
            | {"error": mean / target.value - 1 if math.isfinite(mean) else math.nan}
        )
    return pd.DataFrame(rows)
