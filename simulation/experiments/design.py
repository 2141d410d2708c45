"""Experimental designs: which parameter points a sweep visits.

A factorial design crosses listed values (`--vary key=v1,v2`); a sampled design
draws points in ranges (`--sample lhs:N|sobol:N|morris:N --range key=lo:hi`) with
SALib, so that the same design feeds its sensitivity analysis.
"""

from __future__ import annotations

import itertools
import typing
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.scenario import ScenarioError, parse_override
from simulation.scenario.schema import Scenario

SAMPLERS = ("lhs", "sobol", "morris")
MORRIS_LEVELS = 4
VARY_SOURCE = "--vary"
WHOLE_NUMBER_LIMIT = 2**53  # the largest whole number a sampled float holds exactly
MAX_RUNS = 1_000_000


@dataclass(frozen=True)
class Design:
    """The points of a sweep: one row per point, one column per parameter."""

    method: str
    points: pd.DataFrame
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        return list(self.points.columns)

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem of a sampled design."""
        return {
            "num_vars": len(self.ranges),
            "names": list(self.ranges),
            "bounds": [list(bounds) for bounds in self.ranges.values()],
        }

    def overrides(self, point: int) -> dict[str, Any]:
        """The scenario overrides of one point, as plain Python values."""
        return {key: _plain(self.points[key].iloc[point]) for key in self.points.columns}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Design:
        """The design recorded in a sweep's manifest."""
        points = pd.DataFrame(data["points"]) if data["points"] and data["points"][0] else None
        if points is None:
            points = pd.DataFrame(index=range(len(data["points"])))
        ranges = {key: (low, high) for key, (low, high) in data["ranges"].items()}
        return cls(data["method"], points, ranges)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "points": [self.overrides(i) for i in range(len(self.points))],
        }


def factorial(vary: dict[str, list[Any]]) -> Design:
    """Every combination of the listed values; a value listed twice is refused (its
    runs would be the same runs)."""
    if not vary:
        return Design("single", pd.DataFrame(index=range(1)))
    for key, values in vary.items():
        if not values:
            raise ScenarioError(VARY_SOURCE, key, "needs at least one value")
        for i, value in enumerate(values):
            if value in values[:i]:
                raise ScenarioError(VARY_SOURCE, key, f"value {value!r} is listed twice")
    rows = list(itertools.product(*vary.values()))
    return Design("factorial", pd.DataFrame(rows, columns=list(vary)))


def variants(base: Scenario, changes: dict[str, Any]) -> Design:
    """Two points: the base scenario as it is, and with all `changes` made together (a
    policy and its reform); point 0 holds the base's own values of the changed keys."""
    if not changes:
        raise ScenarioError("--change", None, "give at least one KEY=VALUE to compare against")
    dumped = base.model_dump(mode="json")
    before = {key: value_at(dumped, key) for key in changes}
    points = pd.DataFrame([before, dict(changes)], columns=list(changes), dtype=object)
    return Design("variants", points)


def value_at(table: Any, key: str) -> Any:
    """The value of a dotted key (list entries by index) in a dumped scenario; None
    where the scenario does not have it."""
    for part in key.split("."):
        if isinstance(table, list) and part.isdigit() and int(part) < len(table):
            table = table[int(part)]
        elif isinstance(table, dict) and part in table:
            table = table[part]
        else:
            return None
    return table


def sampled(
    method: str, n: int, ranges: dict[str, tuple[float, float]], seed: int, integers=()
) -> Design:
    """Points drawn by SALib: Latin hypercube, Sobol' (Saltelli) or Morris trajectories.

    For Sobol' `n` is the base sample (n·(2D + 2) points); for Morris the number of
    trajectories (n·(D + 1) points); for LHS the number of points. Points may
    coincide (Morris trajectories cross, integer keys round together); each is kept.
    """
    if method not in SAMPLERS:
        raise ScenarioError("--sample", None, f"unknown sampler {method!r}; use {SAMPLERS}")
    if not ranges:
        raise ScenarioError("--range", None, "a sampled design needs at least one --range")
    from SALib.sample import latin, morris, sobol  # here: SALib and SciPy's stats load slowly

    problem = Design(method, pd.DataFrame(), dict(ranges)).problem
    if method == "sobol":
        matrix = sobol.sample(problem, n, calc_second_order=True, seed=seed)
    elif method == "morris":
        matrix = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        matrix = latin.sample(problem, n, seed=seed)
    points = pd.DataFrame(matrix, columns=list(ranges))
    for key in integers:
        if max(abs(bound) for bound in ranges[key]) > WHOLE_NUMBER_LIMIT:
            raise ScenarioError(
                "--range", key, "a whole-number key: its range must be within ±2^53"
            )
        points[key] = points[key].round().astype(int)
    return Design(method, points, dict(ranges))


def sample_size(method: str, n: int, dimensions: int) -> int:
    """How many points `sampled` draws, known before drawing them."""
    if method == "sobol":
        return n * (2 * dimensions + 2)
    if method == "morris":
        return n * (dimensions + 1)
    return n


def check_size(points: int, replicates: int, source: str) -> None:
    """Refuse a sweep of more than MAX_RUNS runs before its design is built."""
    if points * replicates > MAX_RUNS:
        raise ScenarioError(
            source,
            None,
            f"{points:,} points × {replicates:,} replicates is {points * replicates:,} runs; "
            f"a sweep takes at most {MAX_RUNS:,}",
        )


def parse_vary(texts: list[str]) -> dict[str, list[Any]]:
    """`key=v1,v2,...` strings to {key: [values]}; values read as TOML. A key given
    twice is refused rather than one of them dropped."""
    vary = {}
    for text in texts:
        key, sep, values = text.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ScenarioError(VARY_SOURCE, text, "expected section.key=v1,v2,...")
        if key.strip() in vary:
            raise ScenarioError(VARY_SOURCE, key.strip(), "given twice; list all its values once")
        vary[key.strip()] = [parse_override(f"v={value}")[1] for value in split_values(values)]
    return vary


def parse_ranges(texts: list[str]) -> dict[str, tuple[float, float]]:
    """`key=lo:hi` strings to {key: (lo, hi)}; a key given twice is refused."""
    ranges = {}
    for text in texts:
        key, _, bounds = text.partition("=")
        if key.strip() in ranges:
            raise ScenarioError("--range", key.strip(), "given twice; give one range per key")
        lo, sep, hi = bounds.partition(":")
        try:
            low, high = float(lo), float(hi)
        except ValueError:
            raise ScenarioError("--range", text, "expected section.key=low:high") from None
        if not sep or not low < high:
            raise ScenarioError("--range", text, "expected section.key=low:high with low < high")
        ranges[key.strip()] = (low, high)
    return ranges


def parse_sample(text: str) -> tuple[str, int]:
    """`method:N` to (method, N)."""
    method, _, count = text.partition(":")
    if method not in SAMPLERS or not (count.isascii() and count.isdigit()) or int(count) < 1:
        raise ScenarioError(
            "--sample", text, f"expected one of {SAMPLERS} and a count, e.g. sobol:64"
        )
    return method, int(count)


def integer_keys(keys: list[str]) -> list[str]:
    """The keys whose scenario field is an integer (sampled values are rounded), list
    entries included (`tiers.1.min_team`)."""
    return [key for key in keys if field_type(key) is int]


def field_type(key: str) -> Any:
    """The type of the scenario field a dotted key names (None if there is none)."""
    model: Any = Scenario
    annotation: Any = None
    for part in key.split("."):
        if part.isdigit() and typing.get_origin(annotation) is list:
            model = annotation = typing.get_args(annotation)[0]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = annotation = field.annotation
    return annotation


def split_values(values: str) -> list[str]:
    """Split on commas outside brackets, so list values like [0.1,0.05] stay whole."""
    parts, depth, current = [], 0, ""
    for char in values:
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, for TOML, JSON and pydantic's strict types."""
    return value.item() if isinstance(value, np.generic) else value
