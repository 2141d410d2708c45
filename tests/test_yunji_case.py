"""The Yunji case: its targets say what Yunji reported, and its plan changes on the
day of the 2017 redesign."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.experiments.targets import load_targets

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "scenarios" / "cases"
REPORTED = ROOT.parent / "shared" / "data" / "yunji_reported.csv"
YEAR_END = {2016: 366, 2017: 731, 2018: 1096, 2019: 1461}


def reported() -> dict[int, dict[str, float]]:
    with REPORTED.open(encoding="utf-8") as handle:
        return {
            int(row["year"]): {k: float(v) for k, v in row.items() if k != "year" and v}
            for row in csv.DictReader(handle)
        }


@pytest.mark.skipif(not REPORTED.is_file(), reason="needs ../shared/data/yunji_reported.csv")
def test_the_targets_are_the_reported_figures():
    report = reported()
    expected = {}
    for year, day in YEAR_END.items():
        row, before = report[year], report.get(year - 1, {})
        members = row["cumulative_members_million"]
        expected[("cumulative_members", day)] = members * 1e6
        if "cumulative_members_million" in before:
            expected[("growth:cumulative_members", day)] = (
                members / before["cumulative_members_million"]
            )
        if "orders_million" in row:
            expected[("placed_orders/annual_buyers", day)] = (
                row["orders_million"] / row["buyers_million"]
            )
            expected[("placed_gmv/placed_orders", day)] = (
                row["gmv_rmb_billion"] * 1e3 / row["orders_million"]
            )
            expected[("annual_buyers/cumulative_members", day)] = row["buyers_million"] / members
        if "transacting_members_million" in row:
            expected[("annual_transacting_members", day)] = row["transacting_members_million"] * 1e6
        if year == 2019:
            expected[("placed_gmv", day)] = row["gmv_rmb_billion"] * 1e9
    targets = load_targets(CASE / "yunji_targets.csv")
    assert {(t.metric, t.day) for t in targets} == set(expected)
    for target in targets:
        assert target.value == pytest.approx(expected[(target.metric, target.day)], rel=1e-3)
        assert target.fit == (target.day < YEAR_END[2019])


def test_the_plan_changes_on_the_day_of_the_redesign():
    scenario = load_scenario(CASE / "yunji.toml", {"population.size": 1000})
    model = SocialCommerceModel(scenario)
    model.run(547)
    before = model.policy.commission
    assert (before.entry_fee, len(before.recruiting_bonus), len(before.override_rates)) == (
        365.0,
        3,
        3,
    )
    model.run(1)
    after = model.policy.commission
    assert (after.entry_fee, len(after.recruiting_bonus), len(after.override_rates)) == (
        398.0,
        2,
        2,
    )
    assert after.package_cost > 0 and after.payout_cap == 0.3
