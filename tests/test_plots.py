"""The plots a strategist reads: panels with data only, each rule's threshold drawn."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from simulation.mechanisms.compliance import RULES
from simulation.viz.compliance import TRENDS, compliance_figure


def test_compliance_panels_show_live_indicators_with_their_thresholds():
    days = np.arange(1, 11)
    series = {column: np.zeros(10) for column in TRENDS}
    series["loss_fraction"] = np.linspace(0.1, 0.7, 10)
    series["recruitment_reward_share"] = np.full(10, 0.4)
    series["retail_customers_per_member"] = np.full(10, np.nan)
    timeseries = pd.DataFrame({"day": days, **series})
    summary = {rule.indicator: 0.0 for rule in RULES} | {"scenario": "s", "seed": 1}
    figure = compliance_figure(summary, timeseries)
    panels = figure.axes[1:]
    assert [ax.get_title() for ax in panels] == [
        "recruitment reward share",
        "members who lost money (goods at need-weighted value)",
    ]
    thresholds = [
        sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
        for ax in panels
    ]
    assert thresholds == [[0.0, 1 / 3], [0.5]]


def test_every_line_of_the_rules_board_fits_inside_the_saved_figure():
    days = np.arange(1, 4)
    timeseries = pd.DataFrame({"day": days} | {column: np.zeros(3) for column in TRENDS})
    summary = {rule.indicator: 0.123456 for rule in RULES} | {"scenario": "s", "seed": 1}
    figure = compliance_figure(summary, timeseries)
    figure.set_dpi(100)
    renderer = figure.canvas.get_renderer()
    board = figure.axes[0]
    right = max(text.get_window_extent(renderer).x1 for text in board.texts)
    assert len(board.texts) == 4 * len(RULES)
    assert right <= figure.bbox.width
    assert all(text.get_text().count("\n") <= 1 for text in board.texts)


def test_report_legends_name_each_other_parameter_and_its_value():
    from simulation.viz.report import legend_label

    assert legend_label(["population.size"], (5000,)) == "population.size = 5000"
    assert legend_label(["a", "b"], ("[0.03]", 2)) == "a = [0.03], b = 2"
    assert legend_label(["a"], 0.5) == "a = 0.5"


def test_growth_panels_with_nothing_to_show_are_left_out():
    from simulation.viz.plots import PANELS, growth_figure

    columns = {c for _, series in PANELS for c in series}
    timeseries = pd.DataFrame({"day": np.arange(1, 6)} | {c: np.zeros(5) for c in columns})
    timeseries["members"] = [1, 2, 3, 4, 5]
    timeseries["gmv"] = [0, 10, 20, 30, 40]
    timeseries["conversion_rate"] = np.nan
    figure = growth_figure(timeseries, "bass")
    shown = [ax.get_title() for ax in figure.axes if ax.axison]
    assert shown == ["Membership", "Money"]


def test_a_varied_key_is_labelled_with_its_meaning():
    from simulation.viz.report import parameter_label

    assert parameter_label("population.size") == "population.size: people on the social graph"
    assert parameter_label("tiers.0.direct_rate").startswith("tiers.0.direct_rate: share of")
    assert parameter_label("nope") == "nope"
