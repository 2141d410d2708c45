"""Plots of a run's daily metrics, for strategists: growth, money and the market."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def growth_figure(timeseries: pd.DataFrame, title: str) -> plt.Figure:
    """Four panels: membership, joining and churn, money per day, sharing and trust."""
    day = timeseries["day"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True, layout="constrained")
    ax = axes[0, 0]
    ax.plot(day, timeseries["members"], label="members")
    ax.plot(day, timeseries["active_members"], label="active members")
    ax.set_ylabel("people")
    ax.set_title("Membership")
    ax.legend()
    ax = axes[0, 1]
    ax.plot(day, timeseries["new_members"], label="new members")
    ax.plot(day, timeseries["churned_members"], label="churned members")
    ax.set_ylabel("people per day")
    ax.set_title("Joining and churn")
    ax.legend()
    ax = axes[1, 0]
    ax.plot(day, timeseries["gmv"], label="GMV")
    ax.plot(day, timeseries["commissions_paid"], label="commissions paid")
    ax.plot(day, timeseries["fee_revenue"], label="entry fees")
    ax.plot(day, timeseries["platform_margin"], label="platform margin")
    ax.set_ylabel("RMB per day")
    ax.set_xlabel("day")
    ax.set_title("Money")
    ax.legend()
    ax = axes[1, 1]
    ax.plot(day, timeseries["exposures"], color="tab:blue", label="shares received")
    ax.set_ylabel("shares per day", color="tab:blue")
    ax.set_xlabel("day")
    ax.set_title("Sharing, conversion and trust")
    right = ax.twinx()
    right.plot(day, timeseries["conversion_rate"], color="tab:orange", label="conversion rate")
    right.plot(day, timeseries["mean_trust"], color="tab:green", label="mean trust met")
    right.set_ylim(0, 1)
    right.set_ylabel("share (0–1)")
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper left")
    fig.suptitle(title)
    return fig


def save_growth_plot(timeseries: pd.DataFrame, title: str, path: Path) -> None:
    """Write the growth figure as a PNG."""
    fig = growth_figure(timeseries, title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
