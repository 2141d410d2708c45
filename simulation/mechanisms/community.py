"""Community and belonging (社群): the platform's spending on groups and events builds
its members' belonging, which lowers their churn hazard and raises their sharing
effort, and decays without upkeep (§7.17)."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.world.arrays import count_at_least, gathered_mean
from simulation.world.money import cents
from simulation.world.people import State

ECONOMICS = "Economics"
# Belonging at or above this counts as "high" in the churn-by-belonging split.
HIGH = 0.5
DAYS_PER_MONTH = 30


def daily_gain(budget: float, gain: float, halfway: float) -> float:
    """The share of the gap to full belonging a day's upkeep closes, with diminishing
    returns in the monthly budget per member: gain · budget / (budget + halfway)."""
    return gain * budget / (budget + halfway)


def churn_rate(leavers: int, member_days: int) -> float:
    """Leavers per member-month (30 member-days); nan without member-days."""
    return DAYS_PER_MONTH * leavers / member_days if member_days else float("nan")


class Community(Mechanism):
    """Each day every member gets budget/30 RMB of groups and events, booked as a cost
    to the platform, and belonging moves b ← b·(1 − decay) + g·(1 − b), g the day's gain.
    Churn multiplies a member's quit probability by (1 − churn_relief · b) and sharing
    its effort by (1 + effort_lift · b); with budget 0, b stays 0 and both are ×1."""

    name = "community"
    section = "community"
    states = (State("belonging", np.float64, 0.0, "sense of belonging to the community, 0–1"),)
    metrics = (
        Metric(
            "mean_belonging",
            "mean belonging",
            "belonging",
            "{:.3f}",
            "mean belonging of members at the end of the day (§7.17)",
            "daily",
        ),
        Metric(
            "community_spend",
            "community spend",
            "RMB per day",
            "{:,.0f}",
            "RMB spent on members' groups and events today (§7.17)",
            "daily",
            ECONOMICS,
        ),
        Metric(
            "community_spend",
            "community spend (RMB)",
            "RMB",
            "{:,.0f}",
            "RMB spent on members' groups and events (§7.17)",
            "final",
            ECONOMICS,
        ),
        Metric(
            "churn_high_belonging",
            "churn, belonging ≥ 0.5",
            "per member-month",
            "{:.2%}",
            "members who quit (churn) with belonging ≥ 0.5 per 30 member-days at belonging "
            "≥ 0.5, over the run; nan if none (§7.17)",
            "final",
        ),
        Metric(
            "churn_low_belonging",
            "churn, belonging < 0.5",
            "per member-month",
            "{:.2%}",
            "members who quit (churn) with belonging < 0.5 per 30 member-days at belonging "
            "< 0.5, over the run; nan if none (§7.17)",
            "final",
        ),
    )

    def __init__(self, host: Host) -> None:
        self.spent_today = 0
        self.spent = 0
        self.raised = False
        self.member_days = np.zeros(2, dtype=np.int64)  # [low, high]
        self.quitters = np.zeros(2, dtype=np.int64)
        super().__init__(host)

    def step(self, day: Day) -> None:
        self.upkeep(self.people.members)

    def upkeep(self, members: np.ndarray) -> None:
        """Today's spending on `members` and the belonging it buys; members are counted
        by belonging (high or low) for the churn split."""
        cfg = self.config
        spend = cents(cfg.budget / DAYS_PER_MONTH) * int(members.size)
        gain = daily_gain(cfg.budget, cfg.gain, cfg.halfway)
        belonging = self.people.belonging
        if gain > 0 or self.raised:
            now = belonging[members]
            belonging[members] = now * (1.0 - cfg.decay) + gain * (1.0 - now)
            self.raised = True
        high = count_at_least(belonging, members, HIGH)
        self.member_days += (int(members.size) - high, high)
        if spend:
            self.world.ledger.post_community(spend)
        self.spent_today = spend
        self.spent += spend

    def report(self, day: Day) -> dict[str, Any]:
        churned = day.leavers.get("churned", np.empty(0, dtype=np.int64))
        high = int(np.count_nonzero(self.people.belonging[churned] >= HIGH))
        self.quitters += (int(churned.size) - high, high)
        members = self.people.members
        return {
            "mean_belonging": gathered_mean(self.people.belonging, members)
            if members.size
            else 0.0,
            "community_spend": self.spent_today / 100,
        }

    def final(self) -> dict[str, Any]:
        return {
            "community_spend": self.spent / 100,
            "churn_low_belonging": churn_rate(int(self.quitters[0]), int(self.member_days[0])),
            "churn_high_belonging": churn_rate(int(self.quitters[1]), int(self.member_days[1])),
        }
