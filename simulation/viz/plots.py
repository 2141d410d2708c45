"""Plots of a run's daily metrics, for strategists: growth, money and the market."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

PANELS = (
    ("Membership", "people", {"members": "members", "active_members": "active members"}),
    (
        "Joining and churn",
        "people per day",
        {"new_members": "new members", "churned_members": "churned members"},
    ),
    (
        "Money",
        "RMB per day",
        {
            "gmv": "GMV",
            "commissions_paid": "commissions paid",
            "fee_revenue": "entry fees",
            "platform_margin": "platform margin",
        },
    ),
    ("Sharing", "shares received per day", {"exposures": "shares received"}),
    ("Conversion", "orders per share received", {"conversion_rate": "conversion rate"}),
    ("Trust", "mean trust met by a share", {"mean_trust": "mean trust"}),
)
SHARES = {"conversion_rate"}


def growth_figure(timeseries: pd.DataFrame, title: str) -> plt.Figure:
    """Six panels: membership, joining and churn, money, sharing, conversion, trust."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True, layout="constrained")
    for ax, (name, unit, series) in zip(axes.flat, PANELS, strict=True):
        for column, label in series.items():
            ax.plot(timeseries["day"], timeseries[column], label=label)
            if column in SHARES:
                ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(name)
        ax.set_ylabel(unit)
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
