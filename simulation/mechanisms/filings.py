"""Filings: the figures a platform states in its prospectus and annual reports, measured
as Yunji's 2019 prospectus defines them, so a run can be set against a real platform's
reports (§7.9): cumulative members, and members and buyers who ordered in the last year,
with orders and GMV placed, refunds included and fakes left out."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.mechanisms.base import Day, Mechanism, Metric
from simulation.world.people import CONSUMER, NEVER, State

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

    def step(self, day: Day) -> None:
        orders = day.settled
        real = ~orders.brushed
        self.people.last_bought_day[orders.buyer[real]] = day.number
        self.people.last_bought_as_member_day[orders.buyer[real & orders.buyer_is_member]] = (
            day.number
        )

    def report(self, day: Day) -> dict[str, Any]:
        people, settled = self.people, day.settled
        real = ~settled.brushed
        since = day.number - YEAR
        return {
            "cumulative_members": int(np.count_nonzero(people.role != CONSUMER)),
            "annual_buyers": int(np.count_nonzero(people.last_bought_day > since)),
            "annual_transacting_members": int(
                np.count_nonzero(people.last_bought_as_member_day > since)
            ),
            "placed_orders": int(np.count_nonzero(real)),
            "placed_gmv": int(settled.amount[real].sum()) / 100,
        }
