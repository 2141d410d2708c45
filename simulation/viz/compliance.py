"""The compliance dashboard: each rule against its threshold, and indicators over time."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

from simulation.mechanisms.compliance import RULES
from simulation.viz.plots import LABELS, has_data, margins

CJK = re.compile(r"[\u3000-\u9fff\uff08\uff09]+")


def latin(text: str) -> str:
    """The text without Chinese terms (the default plotting fonts have no CJK glyphs)."""
    return CJK.sub("", text).replace("(, ", "(").replace(" ()", "")


SEVERITY_COLOURS = {"criminal": "#8b0000", "administrative": "#d62728", "civil": "#ff7f0e"}
TRENDS = (
    "recruitment_reward_share",
    "entry_fee_share",
    "criminal_threshold_trees",
    "over_direct_selling_cap_share",
    "internal_consumption_share",
    "retail_customers_per_member",
    "unsold_purchase_share",
    "loss_fraction",
)
PANELS = 6
SOURCE_WIDTH = 88  # characters of a rule's source a line: what fits right of x = 0.66


def shown_trends(timeseries: pd.DataFrame) -> list[str]:
    """The indicators worth a panel: those that are ever applicable and not 0 all run,
    at most six, in the order of TRENDS."""
    columns = [c for c in TRENDS if c in timeseries]
    live = [c for c in columns if has_data(timeseries[c])]
    return live[:PANELS]


def draw_thresholds(ax: plt.Axes, indicator: str) -> None:
    """A dashed line at each rule's threshold on this indicator, coloured by severity."""
    for rule in RULES:
        if rule.indicator == indicator:
            ax.axhline(
                rule.threshold,
                linestyle="--",
                linewidth=1,
                color=SEVERITY_COLOURS[rule.severity],
                label=f"flag if {rule.compare} {rule.threshold:.3g} ({rule.severity})",
            )


def compliance_figure(summary: dict[str, Any], timeseries: pd.DataFrame) -> plt.Figure:
    """Top: one line per rule, red when breached; bottom: the indicators that are ever
    applicable and nonzero, day by day, with each rule's threshold."""
    fig = plt.figure(figsize=(15, 10))
    grid = fig.add_gridspec(3, 3, height_ratios=[1.4, 1, 1], **margins(15, 10))
    board = fig.add_subplot(grid[0, :])
    board.set_axis_off()
    board.set_title("Compliance rules at the end of the run", loc="left")
    for row, rule in enumerate(RULES):
        value = summary[rule.indicator]
        breached = rule.breached(value)
        y = 1 - (row + 0.5) / len(RULES)
        colour = SEVERITY_COLOURS[rule.severity] if breached else "#2ca02c"
        if value is None:
            colour = "#bbbbbb"
        board.scatter([0.01], [y], s=120, color=colour, transform=board.transAxes)
        verdict = f"FLAG ({rule.severity})" if breached else "ok"
        if value is None:
            verdict = "not applicable"
        shown = "n/a" if value is None else f"{value:.3g}"
        columns = (
            (0.03, latin(rule.rule), {"fontsize": 9, "weight": "bold"}),
            (0.24, f"{rule.indicator} = {shown}", {"fontsize": 9}),
            (0.47, f"flag if {rule.compare} {rule.threshold:.3g}: {verdict}", {"fontsize": 9}),
            (
                0.66,
                textwrap.fill(latin(rule.source), SOURCE_WIDTH),
                {"fontsize": 7, "color": "#444444"},
            ),
        )
        for x, text, style in columns:
            board.text(x, y, text, va="center", transform=board.transAxes, **style)
    for index, column in enumerate(shown_trends(timeseries)):
        metric = LABELS[column]
        ax = fig.add_subplot(grid[1 + index // 3, index % 3])
        ax.plot(timeseries["day"], timeseries[column], label=metric.label)
        draw_thresholds(ax, column)
        if metric.unit == "share":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(latin(metric.label), fontsize=10)
        ax.set_ylabel(metric.unit)
        ax.set_xlabel("day")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    label = summary.get("label", summary["scenario"])
    fig.suptitle(f"{label} (seed {summary['seed']}): pyramid-selling exposure")
    return fig


def save_compliance_plot(summary: dict[str, Any], timeseries: pd.DataFrame, path: Path) -> None:
    """Write the compliance dashboard as a PNG."""
    fig = compliance_figure(summary, timeseries)
    fig.savefig(path, dpi=100)
    plt.close(fig)
