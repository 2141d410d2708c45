"""Sharing: each member sends product shares to its contacts (docs/model.md §7.3)."""

from __future__ import annotations

import numba
import numpy as np

from simulation.mechanisms.base import Day, Mechanism, Shares
from simulation.scenario.schema import Scenario
from simulation.world.arrays import poisson_from_uniform, spread
from simulation.world.catalogue import Catalogue
from simulation.world.people import People
from simulation.world.streams import slot
from simulation.world.threads import parallel_kernel

SHARE_COUNT = slot("sharing", 0, "how many shares a member sends")
SHARE_CONTACT = slot("sharing", 1, "which contacts receive them")
SHARE_PRODUCT = slot("sharing", 2, "which product each share carries (random targeting)")


class Sharing(Mechanism):
    """Members send Poisson(shares_per_day × effort) shares a day, each to a uniformly
    chosen contact; one member's shares of a day are spread over its contacts. A share
    carries a product drawn by shareability ("random" targeting) or the one the contact
    needs most, weighted by shareability ("matched"). Effort is the member's trait,
    times the part it keeps for this platform when it multi-homes (§7.13), times
    (1 + community.effort_lift × belonging) (§7.17), times the share it keeps for
    private sharing, 1 − content.effort_share (§7.16)."""

    name = "sharing"
    section = "sharing"

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.catalogue = Catalogue.from_scenario(policy)

    def step(self, day: Day) -> None:
        day.shares = self.share()

    def share(self) -> Shares:
        """The day's shares of every member."""
        people = self.people
        members = people.members
        effort = member_effort(people, members, self.policy)
        private = 1.0 - self.policy.content.effort_share
        intensity = self.config.shares_per_day * effort * private
        draw = self.world.streams.draw
        counts = poisson_from_uniform(draw(SHARE_COUNT, members), intensity)
        sender, receiver, tie = self.world.graph.spread_contacts(
            members, counts, draw(SHARE_CONTACT, members)
        )
        goods = self.catalogue
        if goods.size == 1:
            product = np.zeros(sender.size, dtype=np.int64)
        elif self.config.targeting == "matched":
            product = np.argmax(people.need[receiver] * goods.shareability, axis=1)
        else:
            weights = np.cumsum(goods.shareability) / goods.shareability.sum()
            picks = spread(draw(SHARE_PRODUCT, members), counts)[: sender.size]
            product = np.minimum(np.searchsorted(weights, picks, side="right"), goods.size - 1)
        return Shares(sender, receiver, tie, product)


def member_effort(people: People, members: np.ndarray, policy: Scenario) -> np.ndarray:
    """Each member's effort for this platform, before it is split between private
    sharing and content (§7.16): its trait, times the part it keeps for this platform
    (§7.13), times 1 + community.effort_lift × belonging (§7.17)."""
    lift = policy.community.effort_lift
    belonging = people.belonging if lift else np.zeros(0)
    return _efforts(people.effort, people.effort_split, belonging, lift, members)


@parallel_kernel
def _efforts(
    effort: np.ndarray,
    split: np.ndarray,
    belonging: np.ndarray,
    lift: float,
    members: np.ndarray,
) -> np.ndarray:
    """`member_effort` in one pass, with NumPy's arithmetic for float32 effort and split
    and float64 belonging (read only if `lift`): effort·split in float32, times
    1 + lift·belonging rounded to float32."""
    out = np.empty(members.size, dtype=np.float32)
    for i in numba.prange(members.size):
        member = members[i]
        out[i] = effort[member] * split[member]
        if lift != 0.0:
            out[i] *= np.float32(1.0 + lift * belonging[member])
    return out
