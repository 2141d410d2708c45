"""Audits: fake orders the audit caught are voided the next day (through refunds);
each member caught is banned with probability ban_prob (§7.12)."""

from __future__ import annotations

import numpy as np

from simulation.mechanisms.base import Day, Mechanism
from simulation.world.arrays import distinct
from simulation.world.streams import slot

BAN = slot("churn", 1, "whether a caught brusher is banned")


class Audits(Mechanism):
    """Bans among the members whose fakes were caught today."""

    name = "audits"
    section = "platform"

    def step(self, day: Day) -> None:
        orders = day.settled
        caught = orders.brushed & (orders.refund_day >= 0)
        day.leavers["banned"] = self.ban(orders.seller[caught], day.number)

    def ban(self, members: np.ndarray, day: int) -> np.ndarray:
        """Each distinct member caught is banned with probability ban_prob."""
        members = distinct(members)[0]
        odds = self.world.streams.draw(BAN, members)
        banned = members[odds < self.config.ban_prob]
        self.people.leave(banned, day)
        return banned
