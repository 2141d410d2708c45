"""Purchases: shares convert, past buyers reorder on their cycle, members buy for
themselves, advertising brings direct buyers; each order moves trust (§7.4, §7.8)."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Shares
from simulation.scenario.schema import Scenario
from simulation.world.arrays import group_sums, grouped, sorted_unique
from simulation.world.catalogue import Catalogue
from simulation.world.orders import NO_REFUND, PLATFORM, Orders
from simulation.world.people import MEMBER, NEVER, People, State
from simulation.world.streams import Slot, slot
from simulation.world.threads import parallel_kernel

RESPOND = slot("purchase", 0, "whether a receiver buys from today's shares")
CHOOSE = slot("purchase", 1, "which sharer a buyer buys from")
REPURCHASE = slot("purchase", 2, "whether a due buyer reorders")
SELF_PURCHASE = slot("purchase", 3, "whether a member buys for itself")
BAD_AFTER_SHARE = slot("purchase", 4, "whether a share order disappoints")
BAD_AFTER_REPURCHASE = slot("purchase", 5, "whether a repeat order disappoints")
BAD_AFTER_DIRECT = slot("purchase", 6, "whether a direct order disappoints")
BAD_AFTER_SELF = slot("purchase", 7, "whether a self-purchase disappoints")
REFUND_AFTER_SHARE = slot("purchase", 8, "whether a disappointing share order is returned")
REFUND_AFTER_REPURCHASE = slot("purchase", 9, "whether a disappointing repeat order is returned")
REFUND_AFTER_DIRECT = slot("purchase", 10, "whether a disappointing direct order is returned")
REFUND_AFTER_SELF = slot("purchase", 11, "whether a disappointing self-purchase is returned")
LOST = slot("purchase", 12, "whether a competitor takes a due buyer")


class Purchases(Mechanism):
    """Everyone as a buyer: in the market when its cycle is due and it still trusts the
    platform; it buys from sharers by trust, need, price and fatigue, reorders from its
    last seller, and judges the platform by each order."""

    name = "purchases"
    section = "purchase"
    states = (
        State("platform_trust", np.float32, 0.0, "trust in the platform"),
        State("next_due", np.int32, NEVER, "first day the person needs the product again"),
        State("last_seller", np.int64, -1, "who sold to the person last"),
        State("last_tie", np.int64, -1, "over which tie"),
        State("last_order_day", np.int32, NEVER, "on which day"),
        State("last_product", np.int64, 0, "which product"),
        State("discount_savings", np.int64, 0, "member discount on own kept purchases, cents"),
    )

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        trust = self.people.platform_trust
        trust[:] = host.policy.trust.baseline
        self.trust_total = float(trust.sum(dtype=np.float64))
        self.lapsed = int(np.count_nonzero(trust < self.floor))

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.trust_config = policy.trust
        self.floor = policy.churn.platform_trust_floor
        self.lapsed = int(np.count_nonzero(self.people.platform_trust < self.floor))
        self.content_trust = policy.content.trust
        self.training_effect = policy.platform.training_effect
        self.training_halfway = policy.platform.training_halfway
        self.catalogue = Catalogue.from_scenario(policy)

    def step(self, day: Day) -> None:
        n = day.number
        day.orders["share"] = self.respond(day.shares, day.met_trust, n)
        day.orders["repeat"], day.lost_buyers = self.repurchase(n, day.competitor_pull)
        day.orders["own"] = self.self_purchase(self.people.members, n)

    def draw(self, slot: Slot, people: np.ndarray) -> np.ndarray:
        return self.world.streams.draw(slot, people)

    def respond(self, shares: Shares, met_trust: np.ndarray, day: int) -> Orders:
        """Each share converts with p = min(1, conversion × skill × (1 + hype) × trust ×
        need × shareability × (market/price)^ε × exp(−s·fatigue)); a receiver in the
        market buys at most once a day, with chance 1 − Π(1 − p) over its shares, from a
        sharer chosen in proportion to p."""
        people = self.people
        cfg = self.config
        goods = self.catalogue
        trust = people.platform_trust
        floor = trust.dtype.type(self.floor)  # compared in trust's precision, as NumPy does
        open_ = np.flatnonzero(_in_market(shares.receiver, people.next_due, trust, floor, day))
        receiver = shares.receiver[open_]
        chance = _share_chances(
            open_,
            shares.sender,
            receiver,
            shares.product,
            met_trust,
            np.exp(-cfg.fatigue_sensitivity * people.fatigue[receiver]),
            people.trained,
            Skill(cfg.conversion, self.training_effect, self.training_halfway),
            people.hype,
            people.need,
            goods.shareability,
            goods.price_factor,
        )
        buyer, pick = self.choose(receiver, chance, RESPOND, CHOOSE)
        chosen = open_[pick]
        seller, tie, product = shares.sender[chosen], shares.tie[chosen], shares.product[chosen]
        self.remember(buyer, seller, tie, product, day)
        bad = self.draw(BAD_AFTER_SHARE, buyer) < self.disappointment(seller, product)
        self.experience(tie, day, bad)
        return self.make_orders(seller, buyer, product, goods.price, bad, day, REFUND_AFTER_SHARE)

    def choose(
        self, receiver: np.ndarray, chance: np.ndarray, respond: Slot, choose: Slot
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each receiver buys with chance 1 − Π(1 − p) over its exposures (the `respond`
        draw), from one exposure chosen in proportion to p (the `choose` draw). Returns
        the buyers and the index of each one's chosen exposure."""
        order, starts, counts = grouped(receiver)
        buyer = receiver[order[starts]]
        none = group_sums(np.log1p(-np.minimum(chance, 1 - 1e-12)), order, starts, counts)
        buys = self.draw(respond, buyer) < -np.expm1(none)
        buyer, first, last = buyer[buys], starts[buys], (starts + counts - 1)[buys]
        return buyer, order[_pick(chance, order, first, last, self.draw(choose, buyer))]

    def repurchase(self, day: int, pull: float = 0.0) -> tuple[Orders, int]:
        """Past buyers at the end of their cycle reorder from their last seller (or the
        platform, if that seller left) with probability repurchase_prob × trust in the
        seller. Competitors with total `pull` first take a buyer with probability
        pull / (pull + trust); such a buyer is lost (it has no seller here any more).
        Returns the orders and how many buyers were lost."""
        people = self.people
        due = np.flatnonzero(people.next_due == day)
        due = due[people.platform_trust[due] >= self.floor]
        seller, trust = self._last_seller(due, day)
        lost_count = 0
        if pull > 0:
            lost = self.draw(LOST, due) < pull / (pull + trust)
            gone = due[lost]
            people.next_due[gone] = day + self.catalogue.cycle[people.last_product[gone]]
            people.last_seller[gone] = PLATFORM
            people.last_tie[gone] = -1
            lost_count = int(gone.size)
            due, seller, trust = due[~lost], seller[~lost], trust[~lost]
        buys = self.draw(REPURCHASE, due) < self.config.repurchase_prob * trust
        seller = seller[buys]
        buyer, tie = due[buys], people.last_tie[due[buys]]
        product = people.last_product[buyer]
        via_member = seller != PLATFORM
        self.remember(buyer, seller, np.where(via_member, tie, -1), product, day)
        bad = self.draw(BAD_AFTER_REPURCHASE, buyer) < self.disappointment(seller, product)
        tied = via_member & (tie >= 0)
        self.experience(tie[tied], day, bad[tied])
        price = self.catalogue.price
        orders = self.make_orders(seller, buyer, product, price, bad, day, REFUND_AFTER_REPURCHASE)
        return orders, lost_count

    def _last_seller(self, buyers: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Each buyer's last seller if still a member (else the platform), and the buyer's
        trust in it (the baseline for the platform, content trust for a host it follows
        but has no tie with, §7.16)."""
        people = self.people
        seller = people.last_seller[buyers]
        via_member = (seller != PLATFORM) & (people.role[np.maximum(seller, 0)] == MEMBER)
        tie = people.last_tie[buyers]
        trust = np.full(buyers.size, self.trust_config.baseline)
        trust[via_member & (tie < 0)] = self.content_trust
        tied = via_member & (tie >= 0)
        trust[tied] = self.world.trust.read(tie[tied], day)
        return np.where(via_member, seller, PLATFORM), trust

    def buy_direct(self, buyers: np.ndarray, day: int) -> Orders:
        """Orders placed straight with the platform by people in the market."""
        people = self.people
        buyers = buyers[self.in_market(buyers, day) & (people.role[buyers] != MEMBER)]
        seller = np.full(buyers.size, PLATFORM, dtype=np.int64)
        product = self.favourite(buyers)
        self.remember(buyers, seller, np.full(buyers.size, -1, dtype=np.int64), product, day)
        bad = self.draw(BAD_AFTER_DIRECT, buyers) < self.disappointment(seller, product)
        price = self.catalogue.price
        return self.make_orders(seller, buyers, product, price, bad, day, REFUND_AFTER_DIRECT)

    def self_purchase(self, members: np.ndarray, day: int) -> Orders:
        """Members buy what they need most for themselves, at the member discount, with
        chance prob × that need; what the discount saves on an order they keep counts in
        their economics."""
        product = self.favourite(members)
        chance = self.config.self_purchase_prob * self.people.need[members, product]
        mine = self.draw(SELF_PURCHASE, members) < chance
        buyers, product = members[mine], product[mine]
        seller = np.full(buyers.size, PLATFORM)
        bad = self.draw(BAD_AFTER_SELF, buyers) < self.disappointment(seller, product)
        goods = self.catalogue
        orders = self.make_orders(
            buyers, buyers, product, goods.member_price, bad, day, REFUND_AFTER_SELF
        )
        kept = orders.refund_day == NO_REFUND
        saved = (goods.price - goods.member_price)[product[kept]]
        np.add.at(self.people.discount_savings, buyers[kept], saved)
        return orders

    def favourite(self, people_ids: np.ndarray) -> np.ndarray:
        """The product each person needs most (the first of equals, as np.argmax)."""
        return _favourites(self.people.need, np.asarray(people_ids, dtype=np.int64))

    def skill(self, members: np.ndarray) -> np.ndarray:
        """Conversion multiplier from training, with diminishing returns:
        1 + effect · T / (T + halfway), T the RMB of training a member has had."""
        return _skills(
            np.atleast_1d(self.people.trained[members]),
            Skill(1.0, self.training_effect, self.training_halfway),
        ).reshape(np.shape(members))

    def in_market(self, people_ids: np.ndarray, day: int) -> np.ndarray:
        """Who needs the product again and still trusts the platform enough to buy."""
        people = self.people
        return (people.next_due[people_ids] <= day) & (
            people.platform_trust[people_ids] >= self.floor
        )

    def disappointment(self, seller: np.ndarray, product: np.ndarray) -> np.ndarray:
        """Chance an order disappoints: the product's rate, raised by the seller's hype
        (the gap between what was claimed and what arrives); platform sales and
        self-purchases carry no hype."""
        hype = np.where(seller >= 0, self.people.hype[np.maximum(seller, 0)], 0.0)
        return np.minimum(self.catalogue.bad_experience[product] * (1.0 + hype), 1.0)

    def experience(self, ties: np.ndarray, day: int, bad: np.ndarray) -> None:
        """After buying over distinct ties: a bad experience cuts trust in the seller,
        a good one raises it."""
        cfg = self.trust_config
        trust = self.world.trust
        trust.scale(ties[bad], np.full(int(bad.sum()), 1.0 - cfg.bad_purchase_loss), day)
        trust.raise_toward_one(ties[~bad], cfg.good_purchase_gain, day)

    def judge_platform(self, disappointed: np.ndarray, pleased: np.ndarray) -> None:
        """Buyers' trust in the platform moves with each order, as trust in a seller does;
        the total and the count below the floor follow, over the buyers only."""
        cfg, trust = self.trust_config, self.people.platform_trust
        buyers = sorted_unique(np.concatenate([disappointed, pleased]))
        before = trust[buyers]
        trust[disappointed] *= 1.0 - cfg.bad_purchase_loss
        trust[pleased] += cfg.good_purchase_gain * (1.0 - trust[pleased])
        after = trust[buyers]
        self.trust_total += float(after.sum(dtype=np.float64) - before.sum(dtype=np.float64))
        self.lapsed += int(np.count_nonzero(after < self.floor))
        self.lapsed -= int(np.count_nonzero(before < self.floor))

    def remember(
        self, buyer: np.ndarray, seller: np.ndarray, tie: np.ndarray, product: np.ndarray, day: int
    ) -> None:
        """Note each buyer's order: when it is due again, what, from whom, over which tie
        (-1: none, as for the platform or a content host)."""
        people = self.people
        people.next_due[buyer] = day + self.catalogue.cycle[product]
        people.last_product[buyer] = product
        people.last_seller[buyer] = seller
        people.last_tie[buyer] = tie
        people.last_order_day[buyer] = day

    def make_orders(
        self,
        seller: np.ndarray,
        buyer: np.ndarray,
        product: np.ndarray,
        prices: np.ndarray,
        bad: np.ndarray,
        day: int,
        refund_slot: Slot,
    ) -> Orders:
        """Orders of `product` at `prices[product]`; a bad one is returned refund_days later
        with chance refund_prob."""
        returned = bad & (self.draw(refund_slot, buyer) < self.config.refund_prob)
        self.judge_platform(buyer[bad], buyer[~bad])
        return Orders(
            seller=seller,
            buyer=buyer,
            amount=prices[product],
            cost_of_goods=self.catalogue.cost_of_goods[product],
            buyer_is_member=self.people.role[buyer] == MEMBER,
            refund_day=np.where(returned, day + self.config.refund_days, NO_REFUND),
        )


def retail_customers(people: People, since: int) -> np.ndarray:
    """Per person: distinct outside customers (non-members) whose last order, placed on or
    after day `since`, was from this person."""
    recent = (people.last_order_day >= since) & (people.role != MEMBER) & (people.last_seller >= 0)
    return np.bincount(people.last_seller[recent], minlength=people.n)


@parallel_kernel
def _in_market(
    receiver: np.ndarray, next_due: np.ndarray, trust: np.ndarray, floor: float, day: int
) -> np.ndarray:
    """Whether each share's receiver is in the market (`Purchases.in_market`)."""
    open_ = np.empty(receiver.size, dtype=np.bool_)
    for i in numba.prange(receiver.size):
        person = receiver[i]
        open_[i] = next_due[person] <= day and trust[person] >= floor
    return open_


@parallel_kernel
def _favourites(need: np.ndarray, people: np.ndarray) -> np.ndarray:
    """np.argmax(need[people], axis=1) without the gathered rows: a NaN, if any, wins."""
    favourite = np.zeros(people.size, dtype=np.int64)
    for i in numba.prange(people.size):
        row = need[people[i]]
        best = row[0]
        for product in range(1, row.size):
            if np.isnan(best):
                break
            if row[product] > best or np.isnan(row[product]):
                best, favourite[i] = row[product], product
    return favourite


@parallel_kernel
def _pick(
    chance: np.ndarray, order: np.ndarray, first: np.ndarray, last: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """For each buyer's run [first, last] of chance[order], the position its uniform
    falls at in the run's share of the running total (as searchsorted on np.cumsum
    finds it; the last of the run at most)."""
    weight = np.empty(order.size, dtype=np.float64)
    if order.size:
        weight[0] = chance[order[0]]
    for i in range(1, order.size):
        weight[i] = weight[i - 1] + chance[order[i]]
    pick = np.empty(first.size, dtype=np.int64)
    for b in numba.prange(first.size):
        before = weight[first[b] - 1] if first[b] > 0 else 0.0
        target = before + uniform[b] * (weight[last[b]] - before)
        low, high = first[b], last[b] + 1
        while low < high:
            middle = (low + high) // 2
            if weight[middle] > target:
                high = middle
            else:
                low = middle + 1
        pick[b] = min(low, last[b])
    return pick


class Skill(NamedTuple):
    """A share's base chance: conversion × (1 + effect · T / (T + halfway)), T the RMB
    of training its sender has had."""

    conversion: float
    effect: float
    halfway: float


@numba.njit(cache=True)
def _skill(cents: np.int64, skill: Skill) -> float:
    trained = cents / 100.0
    return skill.conversion * (1.0 + skill.effect * trained / (trained + skill.halfway))


@parallel_kernel
def _skills(cents: np.ndarray, skill: Skill) -> np.ndarray:
    out = np.empty(cents.size, dtype=np.float64)
    for i in numba.prange(cents.size):
        out[i] = _skill(cents[i], skill)
    return out


@parallel_kernel
def _share_chances(
    open_: np.ndarray,
    sender: np.ndarray,
    receiver: np.ndarray,
    product: np.ndarray,
    trust: np.ndarray,
    fade: np.ndarray,
    trained: np.ndarray,
    skill: Skill,
    hype: np.ndarray,
    need: np.ndarray,
    shareability: np.ndarray,
    price_factor: np.ndarray,
) -> np.ndarray:
    """The chance to convert of each open share, the `open_`-th of the day's shares
    (`Purchases.respond`), the factors multiplied in the order and precision NumPy would
    use; `receiver` and `fade` = exp(−s·fatigue) of the receiver are per open share."""
    chance = np.empty(open_.size, dtype=np.float64)
    for i in numba.prange(open_.size):
        share = open_[i]
        seller, buyer, item = sender[share], receiver[i], product[share]
        p = _skill(trained[seller], skill) * np.float64(np.float32(1.0) + hype[seller])
        p = p * trust[share]
        p = p * np.float64(need[buyer, item])
        p = p * shareability[item]
        p = p * price_factor[item]
        p = p * np.float64(fade[i])
        chance[i] = min(p, 1.0)
    return chance
