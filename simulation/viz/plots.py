"""Plots of a run's daily metrics, for strategists: growth, money and the market."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

from simulation.model import METRICS
from simulation.viz.tables import DECLARED, labelled

LABELS = {m.name: m for m in METRICS if m.kind != "final"}
PANELS = (
    ("Membership", ("members", "active_members")),
    ("Joining and churn", ("new_members", "churned_members")),
    ("Money", ("gmv", "commissions_paid", "fee_revenue", "platform_margin")),
    ("Sharing", ("exposures",)),
    ("Conversion", ("conversion_rate",)),
    ("Trust", ("mean_trust",)),
)


def has_data(series: pd.Series) -> bool:
    """Whether a daily series is ever something other than 0 or NaN."""
    return bool(series.fillna(0).abs().gt(0).any())


def live_panels(timeseries: pd.DataFrame) -> list[tuple[str, tuple[str, ...]]]:
    """The panels with something to show: at least one series not 0 or NaN all run."""
    return [
        (name, series)
        for name, series in PANELS
        if any(has_data(timeseries[column]) for column in series)
    ]


def growth_figure(timeseries: pd.DataFrame, title: str) -> plt.Figure:
    """Up to six panels — membership, joining and churn, money, sharing, conversion,
    trust — leaving out those with nothing to show (no sharing in a Bass run)."""
    panels = live_panels(timeseries) or list(PANELS[:1])
    rows = -(-len(panels) // 3)
    height = 4 * rows
    fig, axes = plt.subplots(
        rows, 3, figsize=(15, height), sharex=True, squeeze=False, gridspec_kw=margins(15, height)
    )
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    for ax, (name, series) in zip(axes.flat, panels, strict=False):
        for column in series:
            metric = LABELS[column]
            ax.plot(timeseries["day"], timeseries[column], label=metric.label)
            if metric.fmt.endswith("%}"):
                ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(name)
        ax.set_ylabel(LABELS[series[0]].unit)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend()
        ax.set_xlabel("day")
        if name == "Trust":
            ax.set_ylim(0, 1)
    fig.suptitle(title)
    return fig


def margins(width: float, height: float) -> dict[str, float]:
    """Fixed room, in inches, for tick labels, axis labels, titles and a figure title
    (a constrained layout would draw the figure twice to measure them: 0.3 s a plot)."""
    return {
        "left": 0.85 / width,
        "right": 1 - 0.2 / width,
        "bottom": 0.55 / height,
        "top": 1 - 0.75 / height,
        "wspace": 0.28,
        "hspace": 0.3,
    }


def save_growth_plot(timeseries: pd.DataFrame, title: str, path: Path) -> None:
    """Write the growth figure as a PNG."""
    fig = growth_figure(timeseries, title)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def axis_label(name: str) -> str:
    """A metric's label and unit from its declaration (the name if it has none)."""
    return labelled(DECLARED[name]) if name in DECLARED else name


def pareto_figure(pareto: pd.DataFrame, objectives: list[tuple[str, str]]) -> plt.Figure:
    """Every completed trial on the first two objectives (`(metric, "maximize" |
    "minimize")`), feasible ones filled, infeasible ones as grey crosses, and the
    feasible front joined and numbered by rank (one objective: value by trial)."""
    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    feasible = pareto[pareto["feasible"].astype(bool)]
    infeasible = pareto[~pareto["feasible"].astype(bool)]
    first = objectives[0][0]
    if len(objectives) == 1:
        x, y, xlabel = "trial", first, "trial"
    else:
        x, y, xlabel = first, objectives[1][0], axis_label(first)
    ax.scatter(infeasible[x], infeasible[y], marker="x", color="0.6", label="infeasible")
    ax.scatter(feasible[x], feasible[y], s=22, color="C0", alpha=0.7, label="feasible")
    ascending = objectives[0][1] == "minimize"
    front = pareto[pareto["on_front"].astype(bool)].sort_values(first, ascending=ascending)
    ax.plot(front[x], front[y], "o-", color="C3", label="feasible front")
    for rank, (fx, fy) in enumerate(zip(front[x], front[y], strict=True), start=1):
        ax.annotate(str(rank), (fx, fy), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(axis_label(y))
    ways = ", ".join(f"{m} ({'max' if d == 'maximize' else 'min'})" for m, d in objectives)
    ax.set_title(f"Trials and the feasible front: {ways}", fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def save_pareto_plot(pareto: pd.DataFrame, objectives: list[tuple[str, str]], folder: Path) -> None:
    """pareto.png into `folder`."""
    fig = pareto_figure(pareto, objectives)
    fig.savefig(folder / "pareto.png", dpi=100)
    plt.close(fig)


def calibration_figure(targets: pd.DataFrame) -> plt.Figure:
    """One panel per target metric: the reported values (filled where fitted, hollow
    where held out) and the calibrated model's mean with its 95% interval, by day."""
    metrics = list(dict.fromkeys(targets["metric"]))
    columns = min(3, len(metrics))
    rows = -(-len(metrics) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(5 * columns, 3.6 * rows), layout="constrained", squeeze=False
    )
    for ax in axes.flat[len(metrics) :]:
        ax.set_axis_off()
    for ax, metric in zip(axes.flat, metrics, strict=False):
        rows_of = targets[targets["metric"] == metric]
        low = (rows_of["model_mean"] - rows_of["ci_low"]).fillna(0).clip(lower=0)
        high = (rows_of["ci_high"] - rows_of["model_mean"]).fillna(0).clip(lower=0)
        ax.errorbar(
            rows_of["day"],
            rows_of["model_mean"],
            yerr=[low, high],
            fmt="s-",
            color="C0",
            capsize=4,
            label="model: mean, 95% CI",
        )
        for fitted, face, name in (
            (True, "C3", "reported, fitted"),
            (False, "none", "reported, held out"),
        ):
            chosen = rows_of[rows_of["fit"] == fitted]
            if len(chosen):
                ax.scatter(
                    chosen["day"],
                    chosen["value"],
                    s=60,
                    facecolors=face,
                    edgecolors="C3",
                    zorder=3,
                    label=name,
                )
        ax.set_title(metric)
        ax.set_xlabel("day")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def history_figure(history: pd.DataFrame) -> plt.Figure:
    """Each trial's loss and the best loss so far, by trial number (log scale)."""
    done = history[history["state"] == "COMPLETE"].sort_values("number")
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.scatter(done["number"], done["loss"], s=14, alpha=0.6, label="trial")
    ax.step(done["number"], done["loss"].cummin(), where="post", color="C3", label="best so far")
    if (done["loss"] > 0).all() and len(done):
        ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss (weighted mean squared log error)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def save_calibration_plots(targets: pd.DataFrame, history: pd.DataFrame, folder: Path) -> None:
    """targets.png and history.png into `folder`."""
    for name, fig in (
        ("targets.png", calibration_figure(targets)),
        ("history.png", history_figure(history)),
    ):
        fig.savefig(folder / name, dpi=100)
        plt.close(fig)


def save_discovery_plot(table: pd.DataFrame, folder: Path) -> Path:
    """tradeoff.png in `folder`: coverage against density of every box on a PRIM
    peeling trajectory, coloured by how many parameters it restricts, the chosen box
    ringed and labelled, so the analyst sees what each restriction buys."""
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.plot(table["coverage"], table["density"], color="0.75", linewidth=1, zorder=1)
    boxes = ax.scatter(
        table["coverage"], table["density"], c=table["restricted"], cmap="viridis", s=24, zorder=2
    )
    most = int(table["restricted"].max())
    fig.colorbar(boxes, ax=ax, label="parameters restricted", ticks=range(most + 1))
    chosen = table[table["chosen"]]
    ax.scatter(
        chosen["coverage"],
        chosen["density"],
        s=180,
        facecolors="none",
        edgecolors="C3",
        linewidths=2,
        zorder=3,
        label="chosen box",
    )
    for box in chosen.itertuples():
        ax.annotate(
            f"step {box.step}: coverage {box.coverage:.2f}, density {box.density:.2f}",
            (box.coverage, box.density),
            xytext=(-10, -16),
            textcoords="offset points",
            ha="right",
            color="C3",
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of the box's runs that are cases)")
    ax.set_title("PRIM peeling trajectory: coverage against density")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    path = folder / "tradeoff.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
