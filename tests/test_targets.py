"""Calibration targets: figures computed by hand on a made-up time series, the log loss
in closed form, the comparison table, and every way a targets file can be wrong."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.experiments.targets import (
    FLOOR,
    Target,
    check_reach,
    comparison,
    figures,
    load_targets,
    log_loss,
)
from simulation.scenario import ScenarioError

DAYS = 10


@pytest.fixture
def series() -> pd.DataFrame:
    """A run's daily rows as the data collector gives them: a 0-based index and a
    `day` column 1..10."""
    day = np.arange(1, DAYS + 1)
    return pd.DataFrame(
        {
            "day": day,
            "cumulative_members": 100 * day,  # stock, people
            "members": 50 + 5 * day,  # stock, people
            "placed_orders": day**2,  # flow, orders per day: 1, 4, 9, ..., 100
            "placed_gmv": 10.0 * day,  # flow, RMB per day
            "penetration": day / 100,  # stock, share
        }
    )


def by_day(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("day")


def figure(target: Target, frame: pd.DataFrame, scale: float = 1.0) -> float:
    return target.figure(by_day(frame), scale)


def test_a_stock_is_its_value_on_the_day(series):
    assert figure(Target("cumulative_members", 7, 1.0), series) == 700
    assert figure(Target("members", 1, 1.0), series) == 55
    # a period does not turn a stock into a sum
    assert figure(Target("members", 10, 1.0, period=3), series) == 100


def test_a_flow_is_summed_over_its_period_or_from_day_one(series):
    assert figure(Target("placed_orders", 10, 1.0, period=3), series) == 64 + 81 + 100
    assert figure(Target("placed_orders", 4, 1.0), series) == 1 + 4 + 9 + 16
    assert figure(Target("placed_orders", 5, 1.0, period=1), series) == 25
    assert figure(Target("placed_orders", 5, 1.0, period=5), series) == 55
    assert figure(Target("placed_gmv", 10, 1.0), series) == pytest.approx(550.0)


def test_a_ratio_divides_two_figures_over_the_same_period(series, tmp_path):
    ratio = Target("placed_orders/cumulative_members", 10, 1.0, period=2)
    assert figure(ratio, series) == pytest.approx((81 + 100) / 1000)
    stocks = Target("members/cumulative_members", 4, 1.0)
    assert figure(stocks, series) == pytest.approx(70 / 400)
    path = tmp_path / "spaced.csv"
    path.write_text("metric,day,value\nplaced_orders / members,10,5\n")
    (spaced,) = load_targets(path)
    assert spaced.metric == "placed_orders/members"
    assert figure(spaced, series) == pytest.approx(385 / 100)


def test_a_ratio_over_nothing_is_nan(series):
    zero = series.assign(members=0)
    assert math.isnan(figure(Target("placed_orders/members", 5, 1.0), zero))


def test_growth_of_a_stock_and_of_a_flow(series):
    stock = Target("growth:cumulative_members", 10, 1.0, period=4)
    assert figure(stock, series) == pytest.approx(1000 / 600)
    flow = Target("growth:placed_orders", 10, 1.0, period=3)
    assert figure(flow, series) == pytest.approx((64 + 81 + 100) / (25 + 36 + 49))
    earliest = Target("growth:placed_orders", 10, 1.0, period=5)
    assert figure(earliest, series) == pytest.approx((36 + 49 + 64 + 81 + 100) / 55)


def test_scale_multiplies_counts_and_money_only(series):
    scale = 250.0
    assert figure(Target("cumulative_members", 3, 1.0), series, scale) == 300 * scale
    flow = Target("placed_gmv", 10, 1.0, period=2)
    assert figure(flow, series, scale) == pytest.approx(190.0 * scale)
    share = Target("penetration", 6, 1.0)
    assert figure(share, series, scale) == pytest.approx(0.06)
    ratio = Target("placed_orders/members", 10, 1.0, period=1)
    assert figure(ratio, series, scale) == pytest.approx(100 / 100)
    growth = Target("growth:members", 10, 1.0, period=5)
    assert figure(growth, series, scale) == pytest.approx(100 / 75)
    mixed = Target("placed_orders/penetration", 10, 1.0, period=1)
    assert figure(mixed, series, scale) == pytest.approx(100 * scale / 0.10)


def test_figures_are_targets_by_runs_and_accept_the_collectors_frame(series):
    other = series.assign(cumulative_members=series["cumulative_members"] * 2)
    targets = [Target("cumulative_members", 5, 1.0), Target("placed_orders", 3, 1.0)]
    values = figures(targets, [series, other, by_day(series)], 2.0)
    assert values.shape == (2, 3)
    np.testing.assert_allclose(values, [[1000, 2000, 1000], [28, 28, 28]])


TARGETS = [
    Target("cumulative_members", 10, 10.0),
    Target("placed_orders", 10, 4.0, weight=3.0),
    Target("members", 10, 100.0, fit=False),
    Target("placed_gmv", 10, 7.0, weight=0.0),
]


def test_the_log_loss_is_the_weighted_mean_squared_log_error_of_fitted_means():
    values = np.array([[9.0, 13.0], [2.0, 4.0], [1.0, 1.0], [1.0, 1.0]])
    expected = (1 * math.log(11 / 10) ** 2 + 3 * math.log(3 / 4) ** 2) / (1 + 3)
    assert log_loss(TARGETS, values) == pytest.approx(expected, rel=1e-12)
    held_out = values.copy()
    held_out[2:] = [[1e9, 1e9], [1e-3, 1e-3]]
    assert log_loss(TARGETS, held_out) == pytest.approx(expected, rel=1e-12)
    exact = np.array([[10.0, 10.0], [4.0, 4.0], [5.0, 5.0], [5.0, 5.0]])
    assert log_loss(TARGETS, exact) == 0.0


def test_the_mean_is_over_the_replicates_where_the_figure_is_defined():
    values = np.array([[10.0, 10.0], [np.nan, 4.0], [1.0, 1.0], [1.0, 1.0]])
    assert log_loss(TARGETS, values) == 0.0


@pytest.mark.parametrize("model", [[0.0, 0.0], [-3.0, 1.0], [np.nan, np.nan]])
def test_a_mean_at_or_below_zero_or_undefined_counts_as_the_floor(model):
    values = np.array([[10.0, 10.0], model, [1.0, 1.0], [1.0, 1.0]])
    expected = 3 * (math.log(FLOOR) - math.log(4.0)) ** 2 / 4
    assert FLOOR == 1e-12
    assert log_loss(TARGETS, values) == pytest.approx(expected, rel=1e-12)


def test_comparison_reports_mean_interval_and_relative_error():
    values = np.array([[9.0, 13.0], [2.0, np.nan], [5.0, 5.0], [7.0, 7.0]])
    table = comparison(TARGETS, values)
    assert list(table["metric"]) == [t.metric for t in TARGETS]
    assert list(table["fit"]) == [True, True, False, True]
    assert table["model_mean"].tolist() == [11.0, 2.0, 5.0, 7.0]
    np.testing.assert_allclose(table["error"], [11 / 10 - 1, 2 / 4 - 1, 5 / 100 - 1, 0.0])
    half = stats.t.ppf(0.975, 1) * 2.0  # n = 2: sd / sqrt(n) = |13 − 9| / 2
    assert table.loc[0, "ci_low"] == pytest.approx(11 - half)
    assert table.loc[0, "ci_high"] == pytest.approx(11 + half)
    assert math.isnan(table.loc[1, "ci_low"])  # one finite replicate: no interval
    assert table.loc[2, "ci_low"] == table.loc[2, "ci_high"] == 5.0
    everything_nan = comparison(TARGETS[:1], np.array([[np.nan, np.nan]]))
    assert math.isnan(everything_nan.loc[0, "model_mean"])
    assert math.isnan(everything_nan.loc[0, "error"])


CSV = """\
# Reported figures, made up for the test
metric,day,value,weight,period,fit
# members first
cumulative_members,100,5000,,,
placed_orders,100,1200,2,30,
  # an indented comment
placed_orders / annual_buyers,100,1.5,,,false
growth:placed_orders,100,1.1,,30,true
members,90,3000.0,0,,1
"""

EXPECTED = [
    Target("cumulative_members", 100, 5000.0),
    Target("placed_orders", 100, 1200.0, weight=2.0, period=30),
    Target("placed_orders/annual_buyers", 100, 1.5, fit=False),
    Target("growth:placed_orders", 100, 1.1, period=30),
    Target("members", 90, 3000.0, weight=0.0),
]


def test_targets_load_from_csv_with_comments_and_blank_cells(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text(CSV, encoding="utf-8")
    assert load_targets(path) == EXPECTED
    assert load_targets(str(path)) == EXPECTED


def test_targets_load_from_toml(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[targets]]\nmetric = "cumulative_members"\nday = 100\nvalue = 5000\n\n'
        '[[targets]]\nmetric = "placed_orders"\nday = 100\nvalue = 1200.0\nweight = 2\n'
        "period = 30\n\n"
        '[[targets]]\nmetric = "placed_orders / annual_buyers"\nday = 100\nvalue = 1.5\n'
        "fit = false\n\n"
        '[[targets]]\nmetric = "growth:placed_orders"\nday = 100.0\nvalue = 1.1\nperiod = 30\n'
        'fit = "true"\n\n'
        '[[targets]]\nmetric = "members"\nday = 90\nvalue = 3000\nweight = 0.0\nfit = 1\n',
        encoding="utf-8",
    )
    assert load_targets(path) == EXPECTED


HEADER = "metric,day,value,weight,period,fit\n"
GOOD = "cumulative_members,10,500,,,\n"


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("no_such_metric,10,5,,,", "'no_such_metric' is not a daily metric"),
        ("ever_members,10,5,,,", "'ever_members' is not a daily metric"),
        ("placed_orders/no_such,10,5,,,", "'no_such' is not a daily metric"),
        ("cumulative_members,10,-5,,,", "must be a positive number"),
        ("cumulative_members,10,0,,,", "must be a positive number"),
        ("cumulative_members,10,nan,,,", "must be a positive number"),
        ("cumulative_members,10,5,-1,,", "must be zero or more"),
        ("growth:placed_orders,10,1.1,,,", "growth: needs the period"),
        ("growth:cumulative_members,10,1.1,,10,", "earlier period starts before day 1"),
        ("growth:placed_orders,10,1.1,,6,", "earlier period starts before day 1"),
        ("growth:placed_orders/members,10,1.1,,3,", "takes one metric, not a ratio"),
        ("placed_orders/members/buyers,10,1,,,", "one numerator, one denominator"),
        ("placed_orders,5,1,,6,", "the period starts before day 1"),
        ("placed_orders,5,1,,0,", "must be at least one day"),
        ("cumulative_members,,5,,,", "day: is missing"),
        ("cumulative_members,10,,,,", "value: is missing"),
        (",10,5,,,", "metric: is missing"),
        ("cumulative_members,10.5,5,,,", "'10.5' is not a whole number of days"),
        ("cumulative_members,ten,5,,,", "day: 'ten' is not a whole number of days"),
        ("cumulative_members,10,abc,,,", "value: 'abc' is not a number"),
        ("cumulative_members,10,5,,30,", "a stock is taken on its day: no period"),
        ("cumulative_members,0,5,,,", "days start at 1"),
        ("cumulative_members,10,5,,2.5,", "'2.5' is not a whole number of days"),
        ("cumulative_members,10,5,,,maybe", "fit: 'maybe' is not true or false"),
    ],
)
def test_a_bad_row_is_refused_in_one_line_naming_its_row(tmp_path, row, words):
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + GOOD + "# a comment is not a row\n" + row + "\n")
    with pytest.raises(ScenarioError) as err:
        load_targets(path)
    message = str(err.value)
    assert message.startswith(f"--target {path}, row 2")
    assert words in message and "\n" not in message


@pytest.mark.parametrize(
    ("row", "period"),
    [
        ("growth:cumulative_members,10,1.1,,9,", 9),  # compares day 10 with day 1
        ("growth:placed_orders,10,1.1,,5,", 5),  # days 6–10 against days 1–5
        ("placed_orders,5,1,,5,", 5),  # days 1–5
    ],
)
def test_periods_reaching_back_to_day_one_are_accepted(tmp_path, row, period):
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + row + "\n")
    assert load_targets(path)[0].period == period


def test_an_unknown_column_is_named(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text("metric,day,value,colour\ncumulative_members,10,5,red\n")
    with pytest.raises(ScenarioError) as err:
        load_targets(path)
    assert err.value.key == "colour" and "row 1" in err.value.source
    assert "unknown column" in str(err.value)
    toml = tmp_path / "targets.toml"
    toml.write_text('[[targets]]\nmetric = "members"\nday = 1\nvalue = 2\nunit = "people"\n')
    with pytest.raises(ScenarioError, match="row 1: unit: unknown column"):
        load_targets(toml)


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("targets.txt", HEADER + GOOD, "expected a .csv or .toml file of targets"),
        ("targets.json", "[]", "expected a .csv or .toml file of targets"),
        ("targets.csv", HEADER, "holds no targets"),
        ("targets.csv", "# only a comment\n", "holds no targets"),
        ("targets.toml", "title = 'nothing here'\n", "holds no targets"),
        ("targets.toml", "[[targets]\n", "cannot be read"),
        ("targets.csv", None, "no such file"),
        ("targets.toml", None, "no such file"),
    ],
)
def test_a_bad_file_is_refused_in_one_line(tmp_path, name, text, words):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_targets(path)
    message = str(err.value)
    assert message.startswith(f"--target {path}") and words in message
    assert "\n" not in message


def test_undecodable_bytes_are_refused(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_bytes(HEADER.encode() + b"cumulative_members,10,\xff\xfe\n")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_targets(path)


def test_check_reach_refuses_a_target_after_the_last_day():
    targets = [Target("members", 100, 5.0), Target("placed_orders", 151, 5.0, period=30)]
    with pytest.raises(ScenarioError) as err:
        check_reach(targets, 150)
    assert err.value.key == "placed_orders @ day 151, 30 days"
    assert "after the run's last day (150)" in str(err.value) and "run.steps" in str(err.value)
    check_reach(targets, 151)


@pytest.mark.parametrize(
    "targets",
    [
        [Target("members", 10, 5.0, fit=False)],
        [Target("members", 10, 5.0, weight=0.0), Target("buyers", 10, 5.0, fit=False)],
    ],
)
def test_check_reach_refuses_targets_none_of_which_is_fitted(targets):
    with pytest.raises(ScenarioError, match="no target is fitted"):
        check_reach(targets, 10)
    check_reach([*targets, Target("members", 10, 1.0)], 10)


def test_a_row_with_too_many_cells_is_a_scenario_error(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text("metric,day,value,colour\ncumulative_members,10,5,red,7\n")
    with pytest.raises(ScenarioError, match="row 1"):
        load_targets(path)


def test_a_csv_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD).encode())
    assert load_targets(path) == [Target("cumulative_members", 10, 500.0)]


def test_a_target_file_that_is_a_folder_or_holds_non_numbers_is_refused(tmp_path):
    folder = tmp_path / "targets.csv"
    folder.mkdir()
    with pytest.raises(ScenarioError, match="is not a file"):
        load_targets(folder)
    path = tmp_path / "targets.toml"
    path.write_text('[[targets]]\nmetric = "cumulative_members"\nday = [10]\nvalue = 5\n')
    with pytest.raises(ScenarioError, match="day: \\[10\\] is not a whole number of days"):
        load_targets(path)
