"""Filings: the figures a platform states in its prospectus and annual reports, measured
as Yunji's 2019 prospectus defines them, so a run can be set against a real platform's
reports (§7.9): cumulative members, and members and buyers who ordered in the last year,
with orders and GMV placed, refunds included and fakes left out."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.world.arrays import sorted_unique
from simulation.world.people import NEVER, State

YEAR = 365


def _daily(name: str, label: str, unit: str, fmt: str, definition: str, group: str) -> Metric:
    return Metric(name, label, unit, fmt, definition, "daily", group)


class Filings(Mechanism):
    """Keeps the day each person last ordered, and as a member, and reports the
    platform's reported figures: stocks at the end of each day, trailing-year counts of
    distinct buyers, and the day's orders and GMV as placed."""

    name = "filings"
    states = (
        State("last_bought_day", np.int32, NEVER, "day of the person's last real order"),
        State(
            "last_bought_as_member_day",
            np.int32,
            NEVER,
            "day of the person's last real order placed as a member",
        ),
    )
    metrics = (
        _daily(
            "cumulative_members",
            "cumulative members",
            "people",
            "{:,}",
            "people who have ever been members, at the end of the day (founders included)",
            "Growth",
        ),
        _daily(
            "annual_buyers",
            "buyers in the last year",
            "people",
            "{:,}",
            "distinct people with a real order in the last 365 days (today included; the "
            "run so far before day 365), members included",
            "Growth",
        ),
        _daily(
            "annual_transacting_members",
            "transacting members in the last year",
            "people",
            "{:,}",
            "distinct people who placed a real order as members in the last 365 days "
            "(self-purchases included; the run so far before day 365)",
            "Growth",
        ),
        _daily(
            "placed_orders",
            "orders placed",
            "orders per day",
            "{:,}",
            "real orders placed today, refunded ones included (fake orders excluded)",
            "Growth",
        ),
        _daily(
            "placed_gmv",
            "GMV placed, refunds included",
            "RMB per day",
            "{:,.2f}",
            "RMB of real orders placed today at their price, refunded ones included (fake "
            "orders excluded): GMV as platforms report it",
            "Economics",
        ),
    )

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.last_bought = LastDays(self.people.last_bought_day)
        self.last_bought_as_member = LastDays(self.people.last_bought_as_member_day)

    def step(self, day: Day) -> None:
        orders = day.settled
        real = ~orders.brushed
        self.last_bought.set(orders.buyer[real], day.number)
        self.last_bought_as_member.set(orders.buyer[real & orders.buyer_is_member], day.number)

    def report(self, day: Day) -> dict[str, Any]:
        people, settled = self.people, day.settled
        real = ~settled.brushed
        since = day.number - YEAR
        return {
            "cumulative_members": people.ever_count,
            "annual_buyers": self.last_bought.after(since),
            "annual_transacting_members": self.last_bought_as_member.after(since),
            "placed_orders": int(np.count_nonzero(real)),
            "placed_gmv": int(settled.amount[real].sum()) / 100,
        }


class LastDays:
    """A per-person "last day it happened" array and, beside it, how many people have
    each day as their last: counting those after a day then costs the days, not the
    people."""

    def __init__(self, last_day: np.ndarray) -> None:
        self.last_day = last_day
        self.on_day = np.zeros(1, dtype=np.int64)

    def set(self, ids: np.ndarray, day: int) -> None:
        """It happened today to `ids` (repeats allowed)."""
        ids = sorted_unique(ids)
        if ids.size == 0:
            return
        if day >= self.on_day.size:
            self.on_day = np.concatenate([self.on_day, np.zeros(day + YEAR, dtype=np.int64)])
        before = self.last_day[ids]
        np.subtract.at(self.on_day, before[before != NEVER], 1)
        self.on_day[day] += ids.size
        self.last_day[ids] = day

    def after(self, since: int) -> int:
        """People whose last day is after `since`."""
        return int(self.on_day[max(since + 1, 0) :].sum())
