"""Strategy search: the commission schemes (lever settings) that best trade off a
strategist's objectives, under constraints on any reported figure and on the
compliance flags, found with optuna (TPE or NSGA-II, with constraints) in a resumable
study (`search.Search`), every trial on the same replicate seeds so that candidates
are compared paired.

A trial's value for each objective and constraint is its mean over the replicates; a
trial is feasible when every constraint holds on those means and, for each severity
of flag ruled out, no replicate raised a flag of that severity.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments.analysis import mean_ci
from simulation.experiments.search import Evaluate, Parameter, Search, any_complete
from simulation.mechanisms.compliance import SEVERITIES
from simulation.model import METRICS
from simulation.scenario import Scenario, ScenarioError, scenario_toml, with_overrides

SAMPLERS = ("tpe", "nsga2")
DIRECTIONS = {"max": "maximize", "min": "minimize"}
CONSTRAINT = re.compile(r"\s*(?P<metric>[\w.]+)\s*(?P<compare><=|>=)\s*(?P<bound>\S+)\s*")
SUMMARY_METRICS = frozenset(
    [m.name for m in METRICS if m.kind != "daily"]
    + ["flag_count", *(f"flags_{s}" for s in SEVERITIES)]
)
NOT_SUMMARISED = frozenset({"run_key", "point", "replicate", "seed", "wall_s", "scale"})


@dataclass(frozen=True)
class Objective:
    """A summary metric to maximise or minimise (its mean over replicates)."""

    metric: str
    direction: str

    @property
    def label(self) -> str:
        return f"{self.metric}:{'max' if self.direction == 'maximize' else 'min'}"


@dataclass(frozen=True)
class Constraint:
    """`metric <= bound` or `metric >= bound` on the mean over replicates."""

    metric: str
    compare: str
    bound: float

    @property
    def label(self) -> str:
        return f"{self.metric}{self.compare}{self.bound!r}".removesuffix(".0")

    def excess(self, value: float) -> float:
        """How far the value is past the bound (≤ 0: the constraint holds); an
        undefined value holds nothing."""
        if not math.isfinite(value):
            return math.inf
        return value - self.bound if self.compare == "<=" else self.bound - value


def parse_objective(text: str) -> Objective:
    """`METRIC:max` or `METRIC:min`."""
    metric, sep, way = text.rpartition(":")
    if not sep or way.strip() not in DIRECTIONS or not metric.strip():
        raise ScenarioError("--objective", text, "expected METRIC:max or METRIC:min")
    return Objective(metric.strip(), DIRECTIONS[way.strip()])


def parse_constraint(text: str) -> Constraint:
    """`METRIC<=V` or `METRIC>=V`."""
    match = CONSTRAINT.fullmatch(text)
    if match is None:
        raise ScenarioError("--constraint", text, "expected METRIC<=VALUE or METRIC>=VALUE")
    try:
        bound = float(match["bound"])
    except ValueError:
        raise ScenarioError("--constraint", text, "the bound must be a number") from None
    if not math.isfinite(bound):
        raise ScenarioError("--constraint", text, "the bound must be finite")
    return Constraint(match["metric"], match["compare"], bound)


def parse_flags(text: str) -> list[str]:
    """`administrative,criminal`: severities of compliance flag no replicate may raise."""
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    for severity in chosen:
        if severity not in SEVERITIES:
            raise ScenarioError("--no-flags", severity, f"not a severity; one of {SEVERITIES}")
    return list(dict.fromkeys(chosen))


class Optimisation(Search):
    """Searches `levers` (Parameter, or "KEY=LO:HI[:int][:log]" / "KEY=v1,v2,..."
    text) of `scenario` for the best trade-off of `objectives` ("METRIC:max|min"),
    subject to `constraints` ("METRIC<=V", "METRIC>=V") and to no replicate raising a
    flag of the severities in `no_flags`. `sampler`: "tpe" (multivariate TPE, the
    default: frugal with trials) or "nsga2". `metrics` are the names objectives and
    constraints may use (default: every summary metric and flag count). The other
    options are `search.Search`'s."""

    KIND = "optimisation"
    SOURCE = "--lever"
    NAMES = "levers"

    def __init__(
        self,
        scenario: str | Path | Scenario,
        levers: list[Parameter | str],
        objectives: list[Objective | str],
        *,
        constraints: list[Constraint | str] = (),
        no_flags: list[str] | str = (),
        trials: int = 50,
        replicates: int = 3,
        sampler: str = "tpe",
        metrics: frozenset[str] = SUMMARY_METRICS,
        evaluate: Evaluate | None = None,
        **options: Any,
    ) -> None:
        extra = {"evaluate": evaluate} if evaluate is not None else {}
        super().__init__(scenario, levers, trials=trials, replicates=replicates, **options, **extra)
        self.objectives = [
            o if isinstance(o, Objective) else parse_objective(o) for o in objectives
        ]
        self.constraints = [
            c if isinstance(c, Constraint) else parse_constraint(c) for c in constraints
        ]
        self.no_flags = parse_flags(no_flags if isinstance(no_flags, str) else ",".join(no_flags))
        if sampler not in SAMPLERS:
            raise ScenarioError("--sampler", sampler, f"one of {SAMPLERS}")
        self.sampler = sampler
        self._check_metrics(metrics)

    def _check_metrics(self, metrics: frozenset[str]) -> None:
        if len(set(self.constraint_labels)) < len(self.constraint_labels):
            raise ScenarioError("--constraint", None, "a constraint is given twice")
        if not self.objectives:
            raise ScenarioError("--objective", None, "give at least one METRIC:max or METRIC:min")
        names = [o.metric for o in self.objectives]
        if len(set(names)) < len(names):
            raise ScenarioError("--objective", None, "a metric is given twice")
        for source, metric in [("--objective", n) for n in names] + [
            ("--constraint", c.metric) for c in self.constraints
        ]:
            if metric not in metrics:
                raise ScenarioError(source, metric, "not a summary metric; see docs/model.md §7")

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def manifest(self) -> dict[str, Any]:
        return super().manifest | {
            "objectives": [o.label for o in self.objectives],
            "constraints": [c.label for c in self.constraints],
            "no_flags": self.no_flags,
            "sampler": self.sampler,
        }

    @property
    def constraint_labels(self) -> list[str]:
        return [c.label for c in self.constraints] + [f"no {s} flag" for s in self.no_flags]

    def _sampler(self, optuna: Any, seed: int) -> Any:
        """TPE or NSGA-II; both read each trial's constraints as the trial set them."""
        if self.sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)

    def _standing(self, study: Any) -> str:
        feasible = sum(1 for t in study.trials if t.state.name == "COMPLETE" and _feasible(t))
        return f"feasible={feasible}"

    def _score(self, results: list[tuple[dict[str, Any], pd.DataFrame | None]]) -> dict:
        """Every numeric summary figure's mean over the replicates (undefined if it is in
        any replicate, so that every candidate is judged on every seed), the objectives'
        and constrained figures' 95% intervals, and each constraint's excess."""
        rows = pd.DataFrame([row for row, _ in results])
        needed = [o.metric for o in self.objectives] + [c.metric for c in self.constraints]
        needed += [f"flags_{s}" for s in self.no_flags]
        missing = [name for name in needed if name not in rows.columns]
        if missing:
            return {"error": f"the runs report no {missing[0]}"}
        aside = NOT_SUMMARISED | {p.key for p in self.parameters}
        figures = rows.drop(columns=[c for c in aside if c in rows.columns])
        numeric = figures.select_dtypes(include=["number", "bool"]).astype(float)
        for name in needed:  # a figure that does not apply (None) is undefined, NaN
            numeric[name] = pd.to_numeric(figures[name], errors="coerce").astype(float)
        means = {name: float(value) for name, value in numeric.mean(skipna=False).items()}
        intervals = {name: list(mean_ci(numeric[name].to_numpy())) for name in needed}
        values = [means[o.metric] for o in self.objectives]
        for objective, value in zip(self.objectives, values, strict=True):
            if not math.isfinite(value):
                return {"error": f"{objective.metric} is undefined in a replicate"}
        excess = [c.excess(means[c.metric]) for c in self.constraints]
        excess += [float((numeric[f"flags_{s}"] > 0).mean()) for s in self.no_flags]
        attrs = {"means": means, "intervals": intervals}
        constraints = dict(zip(self.constraint_labels, excess, strict=True))
        return {"values": values, "attrs": attrs, "constraints": constraints}

    def result(self) -> OptimisationResult:
        """The study as it stands: every trial with its objectives, constraints,
        feasibility and place on the front."""
        study = self._load()
        if not any_complete(study):
            errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
            why = f": every trial failed, e.g. {errors[0]}" if errors else " yet"
            raise ScenarioError("--out", str(self.out), f"no trial has completed{why}")
        rows, metrics = [], []
        for trial in study.trials:
            if trial.state.name != "COMPLETE":
                continue
            attrs = trial.user_attrs
            row: dict[str, Any] = {"trial": trial.number, "state": trial.state.name}
            row |= {p.key: trial.params[p.key] for p in self.parameters}
            for objective in self.objectives:
                name = objective.metric
                low, high = attrs["intervals"][name][1:]
                row |= {name: attrs["means"][name], f"{name}_ci_low": low, f"{name}_ci_high": high}
            for constraint in self.constraints:
                row.setdefault(constraint.metric, attrs["means"][constraint.metric])
            for label in self.constraint_labels:
                row[f"constraint: {label}"] = trial.constraints[label]
            row["feasible"] = _feasible(trial)
            rows.append(row)
            metrics.append({"trial": trial.number} | attrs["means"])
        table = pd.DataFrame(rows)
        table["on_front"] = on_front(table, self.objectives)
        return OptimisationResult(
            base=self.base,
            levers=self.parameters,
            objectives=self.objectives,
            constraints=self.constraint_labels,
            pareto=table,
            trials=table[["trial", "state", *(p.key for p in self.parameters)]].merge(
                pd.DataFrame(metrics), on="trial"
            ),
            replicates=self.replicates,
        )


def _feasible(trial: Any) -> bool:
    return all(value <= 0 for value in trial.constraints.values())


def on_front(table: pd.DataFrame, objectives: list[Objective]) -> np.ndarray:
    """Whether each feasible trial is on the Pareto front of the trials' means: no
    other feasible trial is at least as good on every objective and better on one."""
    signs = np.array([1.0 if o.direction == "maximize" else -1.0 for o in objectives])
    scores = table[[o.metric for o in objectives]].to_numpy(dtype=np.float64) * signs
    feasible = table["feasible"].to_numpy(dtype=bool)
    front = np.zeros(len(table), dtype=bool)
    rivals = scores[feasible]
    for i in np.flatnonzero(feasible):
        dominated = np.all(rivals >= scores[i], axis=1) & np.any(rivals > scores[i], axis=1)
        front[i] = not dominated.any()
    return front


@dataclass
class OptimisationResult:
    """Every completed trial (`pareto`: levers, objective means with 95% intervals,
    constrained metrics' means, constraint excesses, feasible, on the front), every
    trial's mean of every summary figure (`trials`), and what makes the scenarios of
    the front."""

    base: Scenario
    levers: list[Parameter]
    objectives: list[Objective]
    constraints: list[str]
    pareto: pd.DataFrame
    trials: pd.DataFrame
    replicates: int

    @property
    def front(self) -> pd.DataFrame:
        """The feasible front, best first on the first objective."""
        first = self.objectives[0]
        front = self.pareto[self.pareto["on_front"]]
        return front.sort_values(first.metric, ascending=first.direction == "minimize")

    def scenario(self, trial: int) -> Scenario:
        """The scenario a trial ran: the base with its lever values."""
        row = self.pareto.set_index("trial").loc[trial]
        return with_overrides(
            self.base, {p.key: p.value(row[p.key]) for p in self.levers}, "--lever"
        )

    def write(self, folder: Path, named: Path | None = None) -> None:
        """pareto.csv, trials.csv, base.toml and best/<rank>.toml (one per point of the
        feasible front) into `folder`, a staging folder the caller renames to `named`
        (the plot: simulation.viz.plots.save_pareto_plot)."""
        (folder / "pareto.csv").write_text(self.pareto.to_csv(index=False), encoding="utf-8")
        (folder / "trials.csv").write_text(self.trials.to_csv(index=False), encoding="utf-8")
        (folder / "base.toml").write_text(scenario_toml(self.base), encoding="utf-8")
        (folder / "best").mkdir()
        for rank, row in enumerate(self.front.to_dict("records"), start=1):
            text = self._header(rank, row, named or folder)
            (folder / "best" / f"{rank}.toml").write_text(
                text + scenario_toml(self.scenario(row["trial"])), encoding="utf-8"
            )

    def _header(self, rank: int, row: dict[str, Any], folder: Path) -> str:
        lines = [f"# Rank {rank} of the feasible front: trial {row['trial']}"]
        lines += [f"# {p.key} = {p.value(row[p.key])!r}" for p in self.levers]
        for o in self.objectives:
            m, low, high = (row[f] for f in (o.metric, f"{o.metric}_ci_low", f"{o.metric}_ci_high"))
            lines.append(f"# {o.label}: {m:.6g} (95% CI {low:.6g} to {high:.6g})")
        lines += [f"# constraint {label}: holds" for label in self.constraints]
        compare = (
            f"sharelab compare {folder / 'base.toml'} {folder / 'best' / f'{rank}.toml'} "
            f"--replicates {max(self.replicates, 2)}"
        )
        if self.replicates == 1:
            lines.append(f"# Reproduce on the search's seed: the first run of {compare}")
        else:
            lines.append(f"# Reproduce on the search's seeds: {compare}")
        return "\n".join(lines) + "\n"
