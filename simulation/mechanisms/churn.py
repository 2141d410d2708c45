"""Churn: members quit on low net income, a worn-out circle, lost trust in the
platform, or inactivity (§7.8)."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from simulation.mechanisms.base import Day, Mechanism
from simulation.mechanisms.settlement import net_income
from simulation.world.people import NEVER, State
from simulation.world.streams import slot
from simulation.world.threads import parallel_kernel

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
        gained = net_income(people, members, "need", self.policy.purchase.gross_margin)
        leave = _leaving(
            members,
            gained,
            self.world.streams.draw(QUIT, members),
            people.joined_day,
            people.last_active_day,
            people.circle_trust,
            people.platform_trust,
            people.belonging,
            day,
            Terms(
                grace_days=cfg.grace_days,
                reservation_income=cfg.reservation_income,
                circle_trust_floor=people.circle_trust.dtype.type(cfg.circle_trust_floor),
                platform_trust_floor=people.platform_trust.dtype.type(cfg.platform_trust_floor),
                churn_relief=self.policy.community.churn_relief,
                quit_prob=cfg.quit_prob,
                inactive_days=cfg.inactive_days,
            ),
        )
        leavers = members[leave]
        people.leave(leavers, day)
        return leavers


class Terms(NamedTuple):
    """The churn keys a member's leaving is judged by; trust floors in trust's own
    precision, as NumPy compares them."""

    grace_days: int
    reservation_income: float
    circle_trust_floor: np.floating
    platform_trust_floor: np.floating
    churn_relief: float
    quit_prob: float
    inactive_days: int


@parallel_kernel
def _leaving(
    members: np.ndarray,
    gained: np.ndarray,
    uniform: np.ndarray,
    joined_day: np.ndarray,
    last_active_day: np.ndarray,
    circle_trust: np.ndarray,
    platform_trust: np.ndarray,
    belonging: np.ndarray,
    day: int,
    terms: Terms,
) -> np.ndarray:
    """Whether each member leaves today: unhappy (poor past its grace days, a worn-out
    circle, or lost trust in the platform) and drawing under quit_prob × relief, or
    inactive for inactive_days (0: never)."""
    leave = np.empty(members.size, dtype=np.bool_)
    for i in numba.prange(members.size):
        person = members[i]
        tenure = day - joined_day[person]
        net_rate = gained[i] / 100.0 / max(tenure, 1)
        poor = tenure >= terms.grace_days and net_rate < terms.reservation_income
        weary = circle_trust[person] < terms.circle_trust_floor
        wary = platform_trust[person] < terms.platform_trust_floor
        relief = 1.0 - terms.churn_relief * belonging[person]
        quits = (poor or weary or wary) and uniform[i] < terms.quit_prob * relief
        last = max(joined_day[person], last_active_day[person])
        idle = terms.inactive_days > 0 and day - last >= terms.inactive_days
        leave[i] = quits or idle
    return leave
