"""Scenario discovery with PRIM (Friedman & Fisher 1999): which boxes of parameter
space hold the runs where a condition holds, e.g. `criminal_threshold_trees > 0`.

PRIM peels a box down from the whole space, each time cutting off the sliver (a share
alpha of the box's points) whose loss most raises the share of cases inside (density),
and records every box on the way; pasting then grows each box back wherever that
raises its density further. The analyst picks a box on the trade-off between density
and coverage (the share of all cases that the box holds).
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments.analysis import scalar
from simulation.experiments.design import Design
from simulation.experiments.store import SweepStore, atomic_write, read_json
from simulation.scenario import ScenarioError
from simulation.scenario.reference import keys

# A box worth reporting holds mostly cases (EMA Workbench's default threshold too)
# and at least half of them: a box with less explains too little to act on.
MIN_DENSITY = 0.8
MIN_COVERAGE = 0.5
SHOWN_COLUMNS = 12
ALLOWED = "column names, numbers, comparisons, and/or/not, + - * / and parentheses"
COMPARISONS = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
ARITHMETIC = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}

Limit = tuple[float, float] | frozenset
Box = dict[str, Limit]


@dataclass(frozen=True)
class Trajectory:
    """The boxes PRIM passed through, the whole space first: `table` has one row per
    box (step, coverage, density, mass, restricted), `boxes` each box's restrictions
    (numeric: inclusive (low, high), ±inf where open; categorical: the kept values)."""

    table: pd.DataFrame
    boxes: list[Box]


def features(table: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """The inputs PRIM peels: numeric parameters as they are, a list of numbers as its
    number of entries (`<key> levels`) and their sum (`<key> total`), anything else as
    categories; a feature with one value only is left out (there is nothing to peel)."""
    columns: dict[str, pd.Series] = {}
    for key in parameters:
        column = table[key]
        entries = column.map(_entries)
        if entries.notna().all():
            columns[f"{key} levels"] = entries.map(len)
            columns[f"{key} total"] = entries.map(sum).astype(float)
        elif _numeric(column):
            columns[key] = column
        else:
            columns[key] = column.map(scalar)
    varied = {name: column for name, column in columns.items() if column.nunique() > 1}
    return pd.DataFrame(varied, index=table.index)


def _entries(value: object) -> list[float] | None:
    """The entries of a list of numbers, given as a list or as its text ("[30, 20]");
    None for anything else."""
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, list | tuple | np.ndarray) and all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in value
    ):
        return [float(v) for v in value]
    return None


def _numeric(column: pd.Series) -> bool:
    """Whether a column is peeled as numbers (true/false values are categories)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def prim(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    paste: bool = True,
) -> Trajectory:
    """Peel boxes top-down: at each step cut off, for a numeric feature, the lowest or
    highest alpha share of the box's points (at least one, tied values together) or,
    for a categorical one, one category, keeping the cut that leaves the highest density
    (ties: the smaller cut); stop when no cut raises density or keeps `min_mass` of all
    points. With `paste`, each box is then grown back while that raises its density."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("PRIM needs points where y holds and points where it does not")
    columns = {
        name: x[name].to_numpy(dtype=float if _numeric(x[name]) else object) for name in x.columns
    }
    box: Box = {
        name: frozenset(values) if values.dtype == object else (-np.inf, np.inf)
        for name, values in columns.items()
    }
    boxes = [box]
    inside = np.ones(len(y), dtype=bool)
    while (peeled := _peel(columns, y, box, inside, alpha, min_mass)) is not None:
        box, inside = peeled
        boxes.append(box)
    if paste:
        boxes = [_paste(columns, y, box, alpha) for box in boxes]
    boxes = [_restrictions(columns, box) for box in boxes]
    insides = [_inside(columns, box, len(y)) for box in boxes]
    table = pd.DataFrame(
        {
            "step": range(len(boxes)),
            "coverage": [y[inside].sum() / y.sum() for inside in insides],
            "density": [y[inside].mean() for inside in insides],
            "mass": [inside.mean() for inside in insides],
            "restricted": [len(box) for box in boxes],
        }
    )
    return Trajectory(table, boxes)


def _member(values: np.ndarray, limit: Limit) -> np.ndarray:
    """Which points one restriction keeps."""
    if isinstance(limit, frozenset):
        return pd.Series(values).isin(list(limit)).to_numpy()
    return (values >= limit[0]) & (values <= limit[1])


def _inside(columns: dict[str, np.ndarray], box: Box, size: int) -> np.ndarray:
    """Which points every restriction of a box keeps."""
    inside = np.ones(size, dtype=bool)
    for name, limit in box.items():
        inside &= _member(columns[name], limit)
    return inside


def _peels(values: np.ndarray, limit: Limit, inside: np.ndarray, alpha: float) -> Iterator[Limit]:
    """The restrictions one peel of a feature can leave: without the lowest or the
    highest alpha share of the box's points (ties go together), or without a category."""
    here = values[inside]
    if isinstance(limit, frozenset):
        present = sorted(set(here), key=str)
        for category in present if len(present) > 1 else ():
            yield limit - {category}
        return
    ordered = np.sort(here)
    cut = max(1, int(alpha * len(ordered)))
    above = ordered[ordered > ordered[cut - 1]]
    if above.size:
        yield (above[0], limit[1])
    below = ordered[ordered < ordered[-cut]]
    if below.size:
        yield (limit[0], below[-1])


def _peel(
    columns: dict[str, np.ndarray],
    y: np.ndarray,
    box: Box,
    inside: np.ndarray,
    alpha: float,
    min_mass: float,
) -> tuple[Box, np.ndarray] | None:
    """The next box down and its points, or None when no peel that keeps `min_mass`
    raises density."""
    density = y[inside].mean()
    best = None
    for name, values in columns.items():
        for limit in _peels(values, box[name], inside, alpha):
            kept = inside & _member(values, limit)
            rank = (y[kept].mean(), kept.sum())
            if (
                rank[1] >= min_mass * len(y)
                and rank[0] > density
                and (best is None or rank > best[0])
            ):
                best = (rank, {**box, name: limit}, kept)
    return None if best is None else best[1:]


def _paste(columns: dict[str, np.ndarray], y: np.ndarray, box: Box, alpha: float) -> Box:
    """Grow a box back while that raises its density: each round adds, beyond one bound,
    the alpha share (of the box) of nearest points that the other restrictions keep,
    or one category left out; the addition leaving the highest density wins."""
    while True:
        inside = _inside(columns, box, len(y))
        cut = max(1, int(alpha * inside.sum()))
        best = None
        for name, values in columns.items():
            others = _inside(columns, {n: box[n] for n in columns if n != name}, len(y))
            for limit in _pastes(values, box[name], others & ~inside, cut):
                density = y[others & _member(values, limit)].mean()
                if density > y[inside].mean() and (best is None or density > best[0]):
                    best = (density, name, limit)
        if best is None:
            return box
        box = {**box, best[1]: best[2]}


def _pastes(values: np.ndarray, limit: Limit, outside: np.ndarray, cut: int) -> Iterator[Limit]:
    """The restrictions one paste of a feature can make: a bound moved out past the
    `cut` nearest outside points (ties go together), or one category added back."""
    if isinstance(limit, frozenset):
        for category in sorted(set(values[outside]), key=str):
            yield limit | {category}
        return
    lower = np.sort(values[outside & (values < limit[0])])
    if lower.size:
        yield (lower[-min(cut, lower.size)], limit[1])
    higher = np.sort(values[outside & (values > limit[1])])
    if higher.size:
        yield (limit[0], higher[min(cut, higher.size) - 1])


def _restrictions(columns: dict[str, np.ndarray], box: Box) -> Box:
    """Only the features a box restricts, an end that keeps every point open (±inf)."""
    restricted: Box = {}
    for name, limit in box.items():
        values = columns[name]
        if isinstance(limit, frozenset):
            if not set(values) <= limit:
                restricted[name] = limit
            continue
        low = float(limit[0]) if limit[0] > values.min() else -np.inf
        high = float(limit[1]) if limit[1] < values.max() else np.inf
        if (low, high) != (-np.inf, np.inf):
            restricted[name] = (low, high)
    return restricted


def choose(
    trajectory: Trajectory, min_density: float | None = None, min_coverage: float | None = None
) -> int:
    """The step to report: of the boxes with at least `min_density` (default
    MIN_DENSITY) and `min_coverage` (default MIN_COVERAGE), the one covering most cases
    (ties: fewer restrictions, then higher density)."""
    density = MIN_DENSITY if min_density is None else min_density
    coverage = MIN_COVERAGE if min_coverage is None else min_coverage
    for option, value in (("--min-density", density), ("--min-coverage", coverage)):
        if not 0 <= value <= 1:
            raise ScenarioError(option, None, f"must be between 0 and 1, got {value:g}")
    table = trajectory.table
    fit = table[(table["density"] >= density) & (table["coverage"] >= coverage)]
    if fit.empty:
        reach = table[table["coverage"] >= coverage]  # the whole space covers every case
        best = reach.loc[reach["density"].idxmax()]
        raise ScenarioError(
            "--min-density",
            None,
            f"no box reaches density {density:g} with coverage {coverage:g} or more; the "
            f"best there is {best['density']:.3g} (step {best['step']:g})",
        )
    order = fit.sort_values(
        ["coverage", "restricted", "density"], ascending=[False, True, False], kind="stable"
    )
    return int(order["step"].iloc[0])


def describe(box: Box, words: dict[str, str] | None = None) -> str:
    """A box's restrictions in plain words, e.g. "commission.entry_fee (RMB paid to
    the platform on joining) at least 120 and commission.recruiting_bonus paid at 2 or
    more levels"; `words` gives a feature (or its parameter) a label of its own."""
    if not box:
        return "everywhere (no restriction)"
    return " and ".join(_phrase(feature, limit, words or {}) for feature, limit in box.items())


def _phrase(feature: str, limit: Limit, words: dict[str, str]) -> str:
    """One restriction in words; bounds are inclusive ("at least", "up to")."""
    key, _, part = feature.rpartition(" ")
    if part not in ("levels", "total"):
        key, part = feature, ""
    label = words.get(feature) or _label(key, part, words)
    if isinstance(limit, frozenset):
        return f"{label} one of {', '.join(sorted(map(str, limit)))}"
    low, high = limit
    if part == "levels":
        if high == 0:
            return f"{label} not paid"
        if high == np.inf:
            return f"{label} paid at {low:g} or more levels"
        if low == -np.inf:
            return f"{label} paid at up to {high:g} level{'s' if high > 1 else ''}"
        return f"{label} paid at {low:g} to {high:g} levels"
    if high == np.inf:
        return f"{label} at least {low:g}"
    if low == -np.inf:
        return f"{label} up to {high:g}"
    if low == high:
        return f"{label} at {low:g}"
    return f"{label} from {low:g} to {high:g}"


def _label(key: str, part: str, words: dict[str, str]) -> str:
    """A parameter's label: the one in `words`, else the key with its meaning from the
    reference (left out for a count of levels, where "d levels up" would confuse)."""
    label = words.get(key, key) + (" summed over levels" if part == "total" else "")
    meaning = None if key in words or part == "levels" else _meanings().get(key)
    return f"{label} ({meaning})" if meaning else label


@functools.cache
def _meanings() -> dict[str, str]:
    """Each scenario key's meaning, from the reference."""
    return {row["key"]: row["meaning"] for row in keys()}


def condition(table: pd.DataFrame, where: str) -> np.ndarray:
    """Whether `where` (e.g. "loss_fraction > 0.5 and gmv < 1e6") holds on each row:
    column names, numbers, comparisons, and/or/not, + - * / only; a comparison with
    NaN is false. It must hold on some rows and fail on others."""
    try:
        tree = ast.parse(where.strip(), mode="eval")
    except SyntaxError as err:
        raise ScenarioError("--where", None, f"not an expression ({err.msg})") from None
    with np.errstate(divide="ignore", invalid="ignore"):
        result = _evaluate(tree.body, table)
    if not isinstance(result, np.ndarray) or result.dtype != bool:
        raise ScenarioError("--where", None, "not a condition: compare with <, <=, >, >=, == or !=")
    count = int(result.sum())
    if count in (0, len(result)):
        raise ScenarioError(
            "--where",
            None,
            f"holds for {count} of {len(result)} rows; PRIM needs rows where it holds "
            "and rows where it does not",
        )
    return result


def _evaluate(node: ast.AST, table: pd.DataFrame) -> Any:
    """The value of one node of a --where expression: an array with one entry a row,
    or a number; any other kind of node is refused."""
    match node:
        case ast.Name(id=name):
            return _column(table, name)
        case ast.Constant(value=int() | float() as value) if not isinstance(value, bool):
            return value
        case ast.BoolOp(op=op, values=values):
            parts = [_truth(value, _evaluate(value, table)) for value in values]
            join = np.logical_and if isinstance(op, ast.And) else np.logical_or
            return join.reduce(parts)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return ~_truth(operand, _evaluate(operand, table))
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -np.asarray(_evaluate(operand, table), dtype=float)
        case ast.BinOp(op=op, left=left, right=right) if type(op) in ARITHMETIC:
            operands = (np.asarray(_evaluate(side, table), dtype=float) for side in (left, right))
            return ARITHMETIC[type(op)](*operands)
        case ast.Compare(left=left, ops=ops, comparators=comparators) if all(
            type(op) in COMPARISONS for op in ops
        ):
            sides = [
                np.asarray(_evaluate(side, table), dtype=float) for side in (left, *comparators)
            ]
            result = np.ones(len(table), dtype=bool)
            for op, a, b in zip(ops, sides, sides[1:], strict=False):
                result &= COMPARISONS[type(op)](a, b) & ~np.isnan(a) & ~np.isnan(b)
            return result
    raise ScenarioError("--where", None, f"{ast.unparse(node)!r} is not allowed; use {ALLOWED}")


def _truth(node: ast.AST, value: Any) -> np.ndarray:
    """A part joined by and/or/not, which must be a condition itself."""
    if not isinstance(value, np.ndarray) or value.dtype != bool:
        raise ScenarioError(
            "--where", None, f"and/or/not join comparisons; {ast.unparse(node)!r} is not one"
        )
    return value


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    """A column's numbers; a name that is no column of numbers is refused, listing some."""
    if name not in table.columns:
        usable = [
            c for c in table.columns if str(c).isidentifier() and _numbers(table[c]) is not None
        ]
        shown = ", ".join(usable[:SHOWN_COLUMNS])
        more = f" and {len(usable) - SHOWN_COLUMNS} more" if len(usable) > SHOWN_COLUMNS else ""
        raise ScenarioError("--where", name, f"not a column; columns are: {shown}{more}")
    values = _numbers(table[name])
    if values is None:
        raise ScenarioError("--where", name, "is not a column of numbers")
    return values


def _numbers(column: pd.Series) -> np.ndarray | None:
    """A column as floats (missing values NaN), or None if it holds anything else."""
    try:
        return pd.to_numeric(column).to_numpy(dtype=float)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Discovery:
    """What `discover` found: the condition, the features peeled, which runs are cases
    (`y`), the peeling trajectory and the step chosen."""

    where: str
    features: list[str]
    y: np.ndarray
    trajectory: Trajectory
    step: int

    @property
    def box(self) -> Box:
        """The chosen box's restrictions."""
        return self.trajectory.boxes[self.step]

    @property
    def description(self) -> str:
        """The chosen box in words."""
        return describe(self.box)

    def table(self) -> pd.DataFrame:
        """The trajectory with a `chosen` column and each box's restrictions in words."""
        table = self.trajectory.table
        return table.assign(
            chosen=table["step"] == self.step,
            restrictions=[describe(box) for box in self.trajectory.boxes],
        )

    def write(self, folder: Path) -> Path:
        """Write boxes.csv (the table) into `folder`; return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "boxes.csv"
        atomic_write(path, self.table().to_csv(index=False))
        return path


def discover(
    source: str | Path,
    where: str,
    *,
    min_density: float | None = None,
    min_coverage: float | None = None,
    alpha: float = 0.05,
) -> Discovery:
    """PRIM over a sweep store's finished runs or an optimisation's complete trials:
    the boxes of parameter space where `where` holds."""
    folder = Path(source)
    if (folder / "optimisation.json").is_file():
        table, parameters = _trials(folder)
    elif (folder / "manifest.json").is_file():
        table, parameters = _runs(folder)
    else:
        raise ScenarioError(str(source), None, "not a sweep store or an optimisation folder")
    if table.empty:
        raise ScenarioError(str(source), None, "holds no finished run or complete trial")
    x = features(table, parameters)
    if x.columns.empty:
        raise ScenarioError(str(source), None, "no parameter takes two values: nothing to peel")
    y = condition(table, where)
    trajectory = prim(x, y, alpha=alpha)
    return Discovery(
        where, list(x.columns), y, trajectory, choose(trajectory, min_density, min_coverage)
    )


def _runs(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """A sweep store's finished runs and the parameters its design varies."""
    store = SweepStore(folder)
    manifest = store.manifest()
    try:
        parameters = Design.from_dict(manifest["design"]).parameters
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise ScenarioError(str(store.manifest_path), "design", "not a sweep's design") from None
    runs = store.runs()
    return runs[runs["status"] == "done"].reset_index(drop=True), parameters


def _trials(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """An optimisation's complete trials (front/trials.csv: one column per lever and
    per metric) and its levers."""
    manifest = folder / "optimisation.json"
    levers = read_json(manifest).get("levers")
    if not isinstance(levers, list) or not all(
        isinstance(lever, dict) and isinstance(lever.get("key"), str) for lever in levers
    ):
        raise ScenarioError(str(manifest), "levers", "missing or not a list of levers with keys")
    path = folder / "front" / "trials.csv"
    try:
        trials = pd.read_csv(path)
    except FileNotFoundError:
        raise ScenarioError(str(path), None, "missing: run the optimisation to the end") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        raise ScenarioError(str(path), None, "cannot be read as a CSV table") from None
    parameters = [lever["key"] for lever in levers]
    missing = [column for column in ("state", *parameters) if column not in trials.columns]
    if missing:
        raise ScenarioError(str(path), None, f"no {missing[0]!r} column")
    return trials[trials["state"] == "COMPLETE"].reset_index(drop=True), parameters
