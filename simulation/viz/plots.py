"""Plots of a run's daily metrics, for strategists: growth, money and the market."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

from simulation.model import METRICS

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
    fig, axes = plt.subplots(
        rows, 3, figsize=(15, 4 * rows), sharex=True, layout="constrained", squeeze=False
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


def save_growth_plot(timeseries: pd.DataFrame, title: str, path: Path) -> None:
    """Write the growth figure as a PNG."""
    fig = growth_figure(timeseries, title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
