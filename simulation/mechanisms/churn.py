"""Churn: members quit on low net income, a worn-out circle, lost trust in the
platform, or inactivity (§7.8)."""

from __future__ import annotations

import numpy as np

from simulation.mechanisms.base import Day, Mechanism
from simulation.mechanisms.settlement import net_income
from simulation.world.people import NEVER, State
from simulation.world.streams import slot

QUIT = slot("churn", 0, "whether an unhappy member quits today")


class Churn(Mechanism):
    """Members quit, with a daily chance, when what membership brings them a day (pay and
    discount savings, the gift package at its need-weighted value, less fees and faking
    costs: `net_income`) stays below the reservation value, when the trust their shares
    meet has fallen below its floor, or when their own trust in the platform has; and for
    sure when inactive too long (no sale and no recruit for inactive_days). Belonging
    (§7.17) scales the daily chance by (1 − community.churn_relief × belonging)."""

    name = "churn"
    section = "churn"
    states = (State("last_active_day", np.int32, NEVER, "last day with a sale or a recruit"),)

    def step(self, day: Day) -> None:
        orders = day.settled
        sellers = orders.seller[(orders.seller >= 0) & ~orders.self_purchase]
        self.people.last_active_day[day.sponsors.get("recruited", sellers[:0])] = day.number
        self.people.last_active_day[sellers] = day.number
        day.leavers["churned"] = self.churn(day.number)

    def churn(self, day: int) -> np.ndarray:
        """Today's leavers."""
        people = self.people
        cfg = self.config
        members = people.members
        tenure = day - people.joined_day[members]
        gained = net_income(people, members, "need", self.policy.purchase.gross_margin)
        net_rate = gained / 100.0 / np.maximum(tenure, 1)
        poor = (tenure >= cfg.grace_days) & (net_rate < cfg.reservation_income)
        weary = people.circle_trust[members] < cfg.circle_trust_floor
        wary = people.platform_trust[members] < cfg.platform_trust_floor
        unhappy = poor | weary | wary
        relief = 1.0 - self.policy.community.churn_relief * people.belonging[members]
        leave = unhappy & (self.world.streams.draw(QUIT, members) < cfg.quit_prob * relief)
        if cfg.inactive_days > 0:
            last = np.maximum(people.joined_day[members], people.last_active_day[members])
            leave |= day - last >= cfg.inactive_days
        leavers = members[leave]
        people.leave(leavers, day)
        return leavers
