"""Everyone as a consumer: receiving shares, growing tired of them, trusting, buying.

Each method states one per-person rule and applies it to every person concerned
at once; see docs/model.md, submodels "Exposure, fatigue and trust" and "Purchases".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.agents.catalogue import Catalogue
from simulation.agents.events import distinct, grouped
from simulation.commission.orders import NO_REFUND, PLATFORM, Orders
from simulation.scenario.schema import Scenario
from simulation.world.people import MEMBER, People
from simulation.world.streams import Streams
from simulation.world.trust import TieTrust

(
    RESPOND,
    CHOOSE,
    REPURCHASE,
    SELF_PURCHASE,
    BAD_AFTER_SHARE,
    BAD_AFTER_REPURCHASE,
    BAD_AFTER_DIRECT,
    BAD_AFTER_SELF,
    REFUND_AFTER_SHARE,
    REFUND_AFTER_REPURCHASE,
    REFUND_AFTER_DIRECT,
    REFUND_AFTER_SELF,
    LOST,
) = range(13)


@dataclass
class Shares:
    """The day's shares: who sent which product to whom, over which tie."""

    sender: np.ndarray
    receiver: np.ndarray
    tie: np.ndarray
    product: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.product is None:
            self.product = np.zeros(self.sender.shape, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.sender.size)


class Consumers:
    """The consumer side of every person: fatigue, trust in contacts, purchases."""

    def __init__(
        self,
        people: People,
        trust: TieTrust,
        scenario: Scenario,
        streams: Streams,
    ) -> None:
        self.people = people
        self.trust = trust
        self.streams = streams
        self.lost_today = 0
        self.configure(scenario)

    def configure(self, scenario: Scenario) -> None:
        """Take up a (new) policy: prices, margins and how trust and purchases work."""
        purchase = scenario.purchase
        self.trust_config = scenario.trust
        self.purchase = purchase
        self.trust.configure(scenario.trust)
        self.floor = scenario.churn.platform_trust_floor
        self.training_effect = scenario.platform.training_effect
        self.training_halfway = scenario.platform.training_halfway
        self.catalogue = Catalogue.from_scenario(scenario)

    def draw(self, slot: int, people: np.ndarray) -> np.ndarray:
        """Today's own uniform draw of each of `people` for one purchase decision."""
        return self.streams.draw("purchase", slot, people)

    def receive(self, shares: Shares, day: int) -> np.ndarray:
        """Raise receivers' fatigue; each share past tolerance erodes trust in its sender.

        Returns the trust each share met, after erosion.
        """
        cfg = self.trust_config
        people = self.people
        order, starts, counts = grouped(shares.receiver)
        rank = np.arange(order.size) - np.repeat(starts, counts)
        targets = shares.receiver[order][starts]
        level_before = people.decayed_fatigue(targets, day, cfg.fatigue_decay)
        level = np.repeat(level_before, counts) + rank + 1
        over = shares.tie[order][level > cfg.fatigue_tolerance]
        if over.size and cfg.erosion > 0:
            ties, hits = distinct(over)
            self.trust.scale(ties, (1.0 - cfg.erosion) ** hits, day)
        people.fatigue[targets] = level_before + counts
        people.fatigue_day[targets] = day
        return self.trust.read(shares.tie, day)

    def respond(self, shares: Shares, met_trust: np.ndarray, day: int) -> Orders:
        """Each share converts with p = min(1, conversion × trust × need ×
        (market/price)^ε × exp(−s·fatigue)); a receiver in the market buys at most once a
        day, with chance 1 − Π(1 − p) over its shares, from a sharer chosen in
        proportion to p."""
        people = self.people
        cfg = self.purchase
        goods = self.catalogue
        open_ = self.in_market(shares.receiver, day)
        sender, receiver = shares.sender[open_], shares.receiver[open_]
        tie, trust, product = shares.tie[open_], met_trust[open_], shares.product[open_]
        chance = np.minimum(
            cfg.conversion
            * self.skill(sender)
            * (1.0 + people.hype[sender])
            * trust
            * people.need[receiver, product]
            * goods.shareability[product]
            * goods.price_factor[product]
            * np.exp(-cfg.fatigue_sensitivity * people.fatigue[receiver]),
            1.0,
        )
        order, starts, counts = grouped(receiver)
        chance, buyer = chance[order], receiver[order][starts]
        none = (
            np.add.reduceat(np.log1p(-np.minimum(chance, 1 - 1e-12)), starts) if starts.size else []
        )
        buys = self.draw(RESPOND, buyer) < -np.expm1(none)
        weight = np.cumsum(chance)
        before = np.r_[0.0, weight][starts]
        total = weight[starts + counts - 1] - before
        pick = np.searchsorted(weight, before + self.draw(CHOOSE, buyer) * total, side="right")
        pick = np.minimum(pick, starts + counts - 1)[buys]
        seller, buyer, tie = sender[order][pick], buyer[buys], tie[order][pick]
        product = product[order][pick]
        self._remember(buyer, seller, tie, product, day)
        bad = self.draw(BAD_AFTER_SHARE, buyer) < self.disappointment(seller, product)
        self.experience(tie, day, bad)
        return self._orders(seller, buyer, product, goods.price, bad, day, REFUND_AFTER_SHARE)

    def repurchase(self, day: int, pull: float = 0.0) -> Orders:
        """Past buyers at the end of their cycle reorder from their last seller (or the
        platform, if that seller left) with probability repurchase_prob × trust in the
        seller. Competitors with total `pull` first take a buyer with probability
        pull / (pull + trust); such a buyer is lost (it has no seller here any more)."""
        people = self.people
        due = np.flatnonzero(people.next_due == day)
        due = due[people.platform_trust[due] >= self.floor]
        seller, trust = self._last_seller(due, day)
        self.lost_today = 0
        if pull > 0:
            lost = self.draw(LOST, due) < pull / (pull + trust)
            gone = due[lost]
            people.next_due[gone] = day + self.catalogue.cycle[people.last_product[gone]]
            people.last_seller[gone] = PLATFORM
            people.last_tie[gone] = -1
            self.lost_today = int(gone.size)
            due, seller, trust = due[~lost], seller[~lost], trust[~lost]
        buys = self.draw(REPURCHASE, due) < self.purchase.repurchase_prob * trust
        seller = seller[buys]
        buyer, tie = due[buys], people.last_tie[due[buys]]
        product = people.last_product[buyer]
        via_member = seller != PLATFORM
        self._remember(buyer, seller, np.where(via_member, tie, -1), product, day)
        bad = self.draw(BAD_AFTER_REPURCHASE, buyer) < self.disappointment(seller, product)
        self.experience(tie[via_member], day, bad[via_member])
        price = self.catalogue.price
        return self._orders(seller, buyer, product, price, bad, day, REFUND_AFTER_REPURCHASE)

    def _last_seller(self, buyers: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Each buyer's last seller if still a member (else the platform), and the buyer's
        trust in it (the baseline for the platform)."""
        people = self.people
        seller = people.last_seller[buyers]
        via_member = (seller != PLATFORM) & (people.role[np.maximum(seller, 0)] == MEMBER)
        trust = np.full(buyers.size, self.trust_config.baseline)
        trust[via_member] = self.trust.read(people.last_tie[buyers[via_member]], day)
        return np.where(via_member, seller, PLATFORM), trust

    def buy_direct(self, buyers: np.ndarray, day: int) -> Orders:
        """Orders placed straight with the platform by people in the market."""
        people = self.people
        buyers = buyers[self.in_market(buyers, day) & (people.role[buyers] != MEMBER)]
        seller = np.full(buyers.size, PLATFORM, dtype=np.int64)
        product = self.favourite(buyers)
        self._remember(buyers, seller, np.full(buyers.size, -1, dtype=np.int64), product, day)
        bad = self.draw(BAD_AFTER_DIRECT, buyers) < self.disappointment(seller, product)
        price = self.catalogue.price
        return self._orders(seller, buyers, product, price, bad, day, REFUND_AFTER_DIRECT)

    def self_purchase(self, members: np.ndarray, day: int) -> Orders:
        """Members buy what they need most for themselves, at the member discount, with
        chance prob × that need."""
        product = self.favourite(members)
        chance = self.purchase.self_purchase_prob * self.people.need[members, product]
        mine = self.draw(SELF_PURCHASE, members) < chance
        buyers, product = members[mine], product[mine]
        seller = np.full(buyers.size, PLATFORM)
        bad = self.draw(BAD_AFTER_SELF, buyers) < self.disappointment(seller, product)
        price = self.catalogue.member_price
        return self._orders(buyers, buyers, product, price, bad, day, REFUND_AFTER_SELF)

    def favourite(self, people_ids: np.ndarray) -> np.ndarray:
        """The product each person needs most."""
        return np.argmax(self.people.need[people_ids], axis=1)

    def skill(self, members: np.ndarray) -> np.ndarray:
        """Conversion multiplier from training, with diminishing returns:
        1 + effect · T / (T + halfway), T the RMB of training a member has had."""
        trained = self.people.trained[members] / 100.0
        return 1.0 + self.training_effect * trained / (trained + self.training_halfway)

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
        self.trust.scale(ties[bad], np.full(int(bad.sum()), 1.0 - cfg.bad_purchase_loss), day)
        self.trust.raise_toward_one(ties[~bad], cfg.good_purchase_gain, day)

    def _remember(
        self, buyer: np.ndarray, seller: np.ndarray, tie: np.ndarray, product: np.ndarray, day: int
    ) -> None:
        people = self.people
        people.next_due[buyer] = day + self.catalogue.cycle[product]
        people.last_product[buyer] = product
        people.last_seller[buyer] = seller
        people.last_tie[buyer] = tie
        people.last_order_day[buyer] = day

    def _judge_platform(self, disappointed: np.ndarray, pleased: np.ndarray) -> None:
        """Buyers' trust in the platform moves with each order, as trust in a seller does."""
        cfg, trust = self.trust_config, self.people.platform_trust
        trust[disappointed] *= 1.0 - cfg.bad_purchase_loss
        trust[pleased] += cfg.good_purchase_gain * (1.0 - trust[pleased])

    def _orders(
        self,
        seller: np.ndarray,
        buyer: np.ndarray,
        product: np.ndarray,
        prices: np.ndarray,
        bad: np.ndarray,
        day: int,
        refund_slot: int,
    ) -> Orders:
        """Orders of `product` at `prices[product]`; a bad one is returned refund_days later
        with chance refund_prob."""
        returned = bad & (self.draw(refund_slot, buyer) < self.purchase.refund_prob)
        self._judge_platform(buyer[bad], buyer[~bad])
        return Orders(
            seller=seller,
            buyer=buyer,
            amount=prices[product],
            cost_of_goods=self.catalogue.cost_of_goods[product],
            buyer_is_member=self.people.role[buyer] == MEMBER,
            refund_day=np.where(returned, day + self.purchase.refund_days, NO_REFUND),
        )
