"""Filings: the figures a platform reports, checked against the model's own daily
figures and against a brute-force count of each day's buyers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.mechanisms.base import Day, Mechanism
from simulation.mechanisms.filings import YEAR
from tests.conftest import SCENARIOS

FOUNDERS = 10


class Ledger(Mechanism):
    """Records, each day after filings, who placed a real order (and who as a member)
    and the cents of real orders refunded today: the raw events the filings count."""

    name = "ledger_of_buyers"
    after = "filings"

    def __init__(self, host) -> None:
        self.buyers: list[set[int]] = []
        self.member_buyers: list[set[int]] = []
        self.real_refunds: list[int] = []
        super().__init__(host)

    def step(self, day: Day) -> None:
        orders = day.settled
        real = ~orders.brushed
        self.buyers.append(set(orders.buyer[real].tolist()))
        self.member_buyers.append(set(orders.buyer[real & orders.buyer_is_member].tolist()))
        refund = day.refund
        self.real_refunds.append(refund.amount - refund.brushed_amount if refund else 0)


def run(size: int, steps: int) -> tuple[SocialCommerceModel, pd.DataFrame, Ledger]:
    overrides = {
        "population.size": size,
        "population.initial_members": FOUNDERS,
        "run.steps": steps,
    }
    scenario = load_scenario(SCENARIOS / "baseline.toml", overrides)
    model = SocialCommerceModel(scenario, extra=[Ledger])
    model.run()
    days = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    return model, days, model.mechanism("ledger_of_buyers")


@pytest.fixture(scope="module")
def short_run():
    return run(1500, 120)


@pytest.fixture(scope="module")
def long_run():
    return run(300, 400)


def test_cumulative_members_are_founders_plus_every_join(short_run):
    """Nobody rejoins (recruitment and advertising reach consumers only), so the
    members ever are the founders plus the day's new members summed; churn makes
    this differ from the current members."""
    model, days, _ = short_run
    assert days["churned_members"].sum() > 0, "the check needs churn to bite"
    expected = FOUNDERS + days["new_members"].cumsum()
    assert (days["cumulative_members"] == expected).all()
    assert (days["cumulative_members"] >= days["members"]).all()
    assert (days["cumulative_members"] > days["members"]).any()
    assert days["cumulative_members"].iloc[-1] == model.world.people.ever_members.size
    assert model.summary()["ever_members"] == days["cumulative_members"].iloc[-1]


def test_placed_orders_are_orders_less_fakes(short_run):
    _, days, _ = short_run
    assert days["brushed_orders"].sum() > 0, "the check needs fake orders"
    assert (days["placed_orders"] == days["orders"] - days["brushed_orders"]).all()


def test_placed_gmv_adds_back_the_days_refunds_of_real_orders(short_run):
    """Daily `gmv` is real sales less today's real refunds, `placed_gmv` real sales:
    the difference is exactly the cents of real orders refunded that day."""
    _, days, ledger = short_run
    gap = np.rint((days["placed_gmv"] - days["gmv"]) * 100).astype(np.int64)
    refunds = np.array(ledger.real_refunds)
    assert refunds.sum() > 0, "the check needs refunds"
    assert (gap.to_numpy() == refunds).all()
    assert (gap[days["refunds"] == 0] == 0).all()
    assert (days["placed_gmv"] >= days["gmv"]).all()
    assert (days["placed_gmv"] > days["gmv"]).any()


def test_placed_gmv_over_the_run_is_net_gmv_plus_refunds(short_run):
    """Summary `gmv` is real sales less the real refunds made in the run, `refunded`
    those refunds; an order refunded after the last day is in neither, so the sum of
    placed GMV is exactly their sum (in cents)."""
    model, days, _ = short_run
    summary = model.summary()
    placed = round(days["placed_gmv"].sum() * 100)
    assert placed == round(summary["gmv"] * 100) + round(summary["refunded"] * 100)
    assert summary["refunded"] > 0


def distinct_in_window(per_day: list[set[int]], day: int) -> int:
    """People in the sets of days day−364 … day (days start at 1)."""
    return len(set().union(*per_day[max(0, day - YEAR) : day]))


@pytest.mark.parametrize("day", [1, 2, 30, 200, 364, 365, 366, 367, 380, 399, 400])
def test_annual_buyers_count_distinct_real_buyers_over_the_trailing_year(long_run, day):
    _, days, ledger = long_run
    row = days.iloc[day - 1]
    assert row["day"] == day
    assert row["annual_buyers"] == distinct_in_window(ledger.buyers, day)
    assert row["annual_transacting_members"] == distinct_in_window(ledger.member_buyers, day)


def test_the_trailing_year_forgets_old_buyers(long_run):
    """Past day 365 the window drops those who bought only in its first days: the
    counts fall below the distinct buyers of the whole run."""
    _, days, ledger = long_run
    assert len(days) == 400
    ever = len(set().union(*ledger.buyers))
    ever_as_members = len(set().union(*ledger.member_buyers))
    last = days.iloc[-1]
    assert last["annual_buyers"] < ever
    assert last["annual_transacting_members"] < ever_as_members
    before = days.iloc[:YEAR]
    running = [distinct_in_window(ledger.buyers, d) for d in range(1, YEAR + 1)]
    assert (before["annual_buyers"].to_numpy() == running).all()
    assert before["annual_buyers"].is_monotonic_increasing


def test_the_ledger_agrees_with_the_daily_buyers_and_members_are_buyers(long_run):
    """The recorded sets match the model's own daily distinct buyers, and members who
    ordered are a subset of buyers."""
    _, days, ledger = long_run
    assert [len(b) for b in ledger.buyers] == days["buyers"].tolist()
    assert all(m <= b for m, b in zip(ledger.member_buyers, ledger.buyers, strict=True))
    assert (days["annual_transacting_members"] <= days["annual_buyers"]).all()
    assert days["annual_transacting_members"].iloc[-1] > 0
