"""Everyone as a consumer: receiving shares, growing tired of them, trusting, buying.

Each method states one per-person rule and applies it to every person concerned
at once; see docs/model.md, submodels "Exposure, fatigue and trust" and "Purchases".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.agents.events import cents, one_per
from simulation.commission.orders import NO_REFUND, PLATFORM, Orders
from simulation.scenario.schema import PurchaseConfig, TrustConfig
from simulation.world.people import MEMBER, People
from simulation.world.trust import TieTrust


@dataclass
class Shares:
    """The day's shares: who sent, who received, over which tie."""

    sender: np.ndarray
    receiver: np.ndarray
    tie: np.ndarray

    @property
    def size(self) -> int:
        return int(self.sender.size)


class Consumers:
    """The consumer side of every person: fatigue, trust in contacts, purchases."""

    def __init__(
        self,
        people: People,
        trust: TieTrust,
        trust_config: TrustConfig,
        purchase: PurchaseConfig,
        rng: np.random.Generator,
    ) -> None:
        self.people = people
        self.trust = trust
        self.trust_config = trust_config
        self.purchase = purchase
        self.rng = rng
        self.price = cents(purchase.price)
        self.member_price = cents(purchase.price * (1.0 - purchase.member_discount))
        self.cost_of_goods = cents(purchase.price * (1.0 - purchase.gross_margin))
        self.price_factor = (purchase.market_price / purchase.price) ** purchase.price_elasticity

    def receive(self, shares: Shares, day: int) -> np.ndarray:
        """Raise receivers' fatigue; each share past tolerance erodes trust in its sender.

        Returns the trust each share met, after erosion.
        """
        cfg = self.trust_config
        people = self.people
        order = np.argsort(shares.receiver, kind="stable")
        receiver = shares.receiver[order]
        starts = np.flatnonzero(np.diff(receiver, prepend=-1))
        counts = np.diff(np.r_[starts, receiver.size])
        first_of = np.repeat(starts, counts)
        rank = np.arange(receiver.size) - first_of
        targets = receiver[starts]
        level_before = people.decayed_fatigue(targets, day, cfg.fatigue_decay)
        level = np.repeat(level_before, counts) + rank + 1
        over = shares.tie[order][level > cfg.fatigue_tolerance]
        if over.size and cfg.erosion > 0:
            ties, hits = np.unique(over, return_counts=True)
            self.trust.scale(ties, (1.0 - cfg.erosion) ** hits, day)
        people.fatigue[targets] = level_before + counts
        people.fatigue_day[targets] = day
        return self.trust.read(shares.tie, day)

    def respond(self, shares: Shares, met_trust: np.ndarray, day: int) -> Orders:
        """Receivers in the market buy from a share with probability
        min(1, conversion × trust × need × (market/price)^ε × exp(−s·fatigue)),
        at most once a day."""
        people = self.people
        cfg = self.purchase
        receiver = shares.receiver
        in_market = people.next_due[receiver] <= day
        fatigue = people.fatigue[receiver]
        chance = (
            cfg.conversion
            * met_trust
            * people.need[receiver]
            * self.price_factor
            * np.exp(-cfg.fatigue_sensitivity * fatigue)
        )
        buys = np.flatnonzero(in_market & (self.rng.random(receiver.size) < np.minimum(chance, 1)))
        buys = buys[one_per(receiver[buys], self.rng)]
        seller, buyer, tie = shares.sender[buys], receiver[buys], shares.tie[buys]
        self._remember(buyer, seller, tie, day)
        return self._orders(seller, buyer, self.price, self.experience(tie, day), day)

    def repurchase(self, day: int) -> Orders:
        """Past buyers at the end of their cycle reorder from their last seller (or the
        platform, if that seller left) with probability repurchase_prob × trust in the seller."""
        people = self.people
        due = np.flatnonzero(people.next_due == day)
        seller = people.last_seller[due]
        via_member = (seller != PLATFORM) & (people.role[np.maximum(seller, 0)] == MEMBER)
        trust = np.full(due.size, self.trust_config.baseline)
        trust[via_member] = self.trust.read(people.last_tie[due[via_member]], day)
        buys = self.rng.random(due.size) < self.purchase.repurchase_prob * trust
        seller = np.where(via_member, seller, PLATFORM)[buys]
        buyer, tie = due[buys], people.last_tie[due[buys]]
        via_member = seller != PLATFORM
        self._remember(buyer, seller, np.where(via_member, tie, -1), day)
        bad = self.rng.random(buyer.size) < self.purchase.bad_experience_prob
        self.experience(tie[via_member], day, bad[via_member])
        return self._orders(seller, buyer, self.price, bad, day)

    def buy_direct(self, buyers: np.ndarray, day: int) -> Orders:
        """Orders placed straight with the platform by people in the market."""
        people = self.people
        buyers = buyers[(people.next_due[buyers] <= day) & (people.role[buyers] != MEMBER)]
        seller = np.full(buyers.size, PLATFORM, dtype=np.int64)
        self._remember(buyers, seller, np.full(buyers.size, -1, dtype=np.int64), day)
        bad = self.rng.random(buyers.size) < self.purchase.bad_experience_prob
        return self._orders(seller, buyers, self.price, bad, day)

    def self_purchase(self, members: np.ndarray, day: int) -> Orders:
        """Members buy for themselves at the member discount, with chance prob × need."""
        chance = self.purchase.self_purchase_prob * self.people.need[members]
        buyers = members[self.rng.random(members.size) < chance]
        bad = self.rng.random(buyers.size) < self.purchase.bad_experience_prob
        return self._orders(buyers, buyers, self.member_price, bad, day)

    def experience(self, ties: np.ndarray, day: int, bad: np.ndarray | None = None) -> np.ndarray:
        """After buying over distinct ties: a bad experience (drawn unless given) cuts
        trust in the seller, a good one raises it. Returns which were bad."""
        if bad is None:
            bad = self.rng.random(ties.size) < self.purchase.bad_experience_prob
        cfg = self.trust_config
        self.trust.scale(ties[bad], np.full(int(bad.sum()), 1.0 - cfg.bad_purchase_loss), day)
        self.trust.raise_toward_one(ties[~bad], cfg.good_purchase_gain, day)
        return bad

    def _remember(self, buyer: np.ndarray, seller: np.ndarray, tie: np.ndarray, day: int) -> None:
        people = self.people
        people.next_due[buyer] = day + self.purchase.repurchase_days
        people.last_seller[buyer] = seller
        people.last_tie[buyer] = tie
        people.last_order_day[buyer] = day

    def _orders(
        self, seller: np.ndarray, buyer: np.ndarray, price: int, bad: np.ndarray, day: int
    ) -> Orders:
        """Orders at `price`; a bad one is returned refund_days later with chance refund_prob."""
        returned = bad & (self.rng.random(buyer.size) < self.purchase.refund_prob)
        return Orders(
            seller=seller,
            buyer=buyer,
            amount=np.full(buyer.size, price, dtype=np.int64),
            cost_of_goods=np.full(buyer.size, self.cost_of_goods),
            buyer_is_member=self.people.role[buyer] == MEMBER,
            refund_day=np.where(returned, day + self.purchase.refund_days, NO_REFUND),
        )
