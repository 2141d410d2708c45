"""Analysis of replicated runs: means with 95% confidence intervals per point, and
paired differences between points (common random numbers make them tight)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from simulation.experiments.design import Design

LEVEL = 0.95
KEY_METRICS = (
    "ever_members",
    "final_penetration",
    "gmv",
    "brushed_gmv",
    "brushed_order_share",
    "platform_margin",
    "payout_ratio",
    "recruitment_reward_share",
    "loss_fraction",
    "income_gini",
    "bass_p",
    "bass_q",
    "retention_90",
)


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and the bounds of its 95% Student-t confidence interval (NaN bounds for n < 2)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if values.size else float("nan")
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = t_quantile(values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return mean, mean - half, mean + half


def scalar(value: object) -> object:
    """A parameter value as a number or, for a list (of rates, or of whole tables such
    as tiers), as its text."""
    if isinstance(value, list | tuple | np.ndarray):
        if all(isinstance(v, int | float | np.number) for v in value):
            return "[" + ", ".join(f"{v:g}" for v in value) + "]"
        return json.dumps(list(value), ensure_ascii=False, separators=(", ", ": "), default=str)
    return value.item() if isinstance(value, np.generic) else value


def completed(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "done"]


def point_summary(
    runs: pd.DataFrame, parameters: list[str], metrics: list[str] | None = None
) -> pd.DataFrame:
    """One row per point and metric: the point's parameters, n, mean, ci_low, ci_high."""
    metrics = [m for m in (metrics or KEY_METRICS) if m in runs.columns]
    rows = []
    for point, group in completed(runs).groupby("point", sort=True):
        first = group.iloc[0]
        for metric in metrics:
            mean, low, high = mean_ci(group[metric].to_numpy())
            rows.append(
                {
                    "point": point,
                    **{p: scalar(first[p]) for p in parameters},
                    "metric": metric,
                    "n": len(group),
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)


def point_means(runs: pd.DataFrame, metric: str) -> np.ndarray:
    """The mean of `metric` over replicates, for every point in order (NaN if none ran)."""
    means = completed(runs).groupby("point")[metric].mean()
    index = np.arange(int(runs["point"].max()) + 1)
    return means.reindex(index).to_numpy(dtype=np.float64)


def main_effects(
    runs: pd.DataFrame, design: Design, parameter: str, metrics: list[str]
) -> pd.DataFrame:
    """For each level of `parameter` in a factorial design, each metric's mean over the
    points at that level (every combination of the other parameters weighs the same)."""
    points = design.points.map(scalar)
    means = completed(runs).groupby("point")[metrics].mean()
    table = points[[parameter]].join(means, how="inner")
    return table.groupby(parameter, sort=False)[metrics].mean()


def interaction(
    runs: pd.DataFrame, design: Design, first: str, second: str, metric: str
) -> pd.DataFrame:
    """A factorial design's two-way table of `metric`: its mean at each pair of levels of
    `first` (rows) and `second` (columns), over the other parameters and replicates."""
    points = design.points.map(scalar)
    means = completed(runs).groupby("point")[metric].mean()
    table = points[[first, second]].join(means, how="inner")
    return table.pivot_table(index=first, columns=second, values=metric, aggfunc="mean", sort=False)


def paired_differences(runs: pd.DataFrame, metric: str, reference: int = 0) -> pd.DataFrame:
    """Each point's difference from the reference point in `metric`, with the 95% CI
    of the paired difference (replicate by replicate) and of the unpaired one (Welch)."""
    done = completed(runs).pivot_table(
        index="replicate", columns="point", values=metric, dropna=False
    )
    base = done[reference]
    rows = []
    for point in done.columns:
        if point == reference:
            continue
        both = done[[reference, point]].dropna()
        diff = both[point] - both[reference]
        mean, low, high = mean_ci(diff.to_numpy())
        a, b = done[point].dropna(), base.dropna()
        welch = _welch_half_width(a.to_numpy(), b.to_numpy())
        rows.append(
            {
                "point": point,
                "reference": reference,
                "metric": metric,
                "n_pairs": len(both),
                "difference": mean,
                "paired_ci_low": low,
                "paired_ci_high": high,
                "unpaired_ci_low": (a.mean() - b.mean()) - welch,
                "unpaired_ci_high": (a.mean() - b.mean()) + welch,
            }
        )
    return pd.DataFrame(rows)


def _welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    """Half-width of the 95% Welch interval for a difference of two independent means."""
    if a.size < 2 or b.size < 2:
        return float("nan")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0:
        return 0.0
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(t_quantile(dof) * np.sqrt(va + vb))


def t_quantile(dof: float) -> float:
    """Student's t quantile of the two-sided LEVEL interval with `dof` degrees of freedom
    (scipy.stats imported here: it costs a single run 0.7 s it does not need)."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + LEVEL / 2, dof))
