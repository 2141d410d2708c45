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


def growth_figure(timeseries: pd.DataFrame, title: str) -> plt.Figure:
    """Six panels: membership, joining and churn, money, sharing, conversion, trust."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True, layout="constrained")
    for ax, (name, series) in zip(axes.flat, PANELS, strict=True):
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
    for ax in axes[-1]:
        ax.set_xlabel("day")
    axes[1, 2].set_ylim(0, 1)
    fig.suptitle(title)
    return fig


def save_growth_plot(timeseries: pd.DataFrame, title: str, path: Path) -> None:
    """Write the growth figure as a PNG."""
    fig = growth_figure(timeseries, title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
