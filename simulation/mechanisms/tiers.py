"""Tiers and qualification: at the end of each review period members take the tier
their period earned and qualify, or not, for team pay in the next (§7.7)."""

from __future__ import annotations

import numpy as np

from simulation.mechanisms.base import Day, Mechanism
from simulation.mechanisms.purchases import retail_customers
from simulation.scenario.schema import Scenario
from simulation.world.money import cents
from simulation.world.people import State


class Tiers(Mechanism):
    """The tier ladder: thresholds on own retail sales, team size and team sales over
    the period just ended (`commission.review_days`), with or without demotion; team pay
    needs the period's qualification sales and distinct outside customers."""

    name = "tiers"
    section = "commission"
    states = (
        State("tier", np.int8, 0, "commission tier"),
        State("qualified", bool, False, "may earn team pay this period"),
        State("sales_at_period_start", np.int64, 0, "cumulative sales when the period began"),
    )

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        tiers = policy.tiers
        self.min_sales = np.array([cents(t.min_sales) for t in tiers], dtype=np.int64)
        self.min_team = np.array([t.min_team for t in tiers], dtype=np.int64)
        self.min_team_sales = np.array([cents(t.min_team_sales) for t in tiers], dtype=np.int64)

    def admit(self, newcomers: np.ndarray) -> None:
        """Newcomers start at the entry tier, qualified when no rule asks more."""
        cfg = self.config
        self.people.tier[newcomers] = 0
        self.people.qualified[newcomers] = (
            cfg.qualification_sales == 0 and cfg.qualification_customers == 0
        )

    def step(self, day: Day) -> None:
        self.review(day.number)

    def review(self, day: int) -> None:
        """At a period's end: the highest tier whose thresholds the member met (never lower,
        without demotion), and qualification for team pay in the next period."""
        cfg = self.config
        if day % cfg.review_days:
            return
        people = self.people
        members = people.members
        period_sales = people.sales[members] - people.sales_at_period_start[members]
        team, team_sales = self.teams(members, period_sales)
        met = (
            (period_sales[:, None] >= self.min_sales)
            & (team[:, None] >= self.min_team)
            & (team_sales[:, None] >= self.min_team_sales)
        )
        earned = met.shape[1] - 1 - np.argmax(met[:, ::-1], axis=1)
        old = people.tier[members]
        people.tier[members] = earned if cfg.demotion else np.maximum(old, earned)
        customers = retail_customers(people, day - cfg.review_days + 1)[members]
        people.qualified[members] = (period_sales >= cents(cfg.qualification_sales)) & (
            customers >= cfg.qualification_customers
        )
        people.sales_at_period_start[:] = people.sales

    def teams(self, members: np.ndarray, period_sales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of `members`: how many current members are in its downline (any
        depth, through departed sponsors too) and what they sold in the period."""
        size = np.zeros(self.people.n, dtype=np.int64)
        sales = np.zeros(self.people.n, dtype=np.int64)
        sponsor = self.people.sponsor
        up, weight = sponsor[members], period_sales
        while (climbing := up >= 0).any():
            up, weight = up[climbing], weight[climbing]
            np.add.at(size, up, 1)
            np.add.at(sales, up, weight)
            up = sponsor[up]
        return size[members], sales[members]
