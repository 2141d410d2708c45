"""Content channel (内容化与场景化): members and platform-run hosts post to their
followers and go live on schedule; followers buy, and may join, through it (§7.16)."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.mechanisms.purchases import Purchases
from simulation.mechanisms.recruitment import Recruitment
from simulation.mechanisms.sharing import member_effort
from simulation.scenario.schema import Scenario
from simulation.world.arrays import grouped, pick_one, poisson_from_uniform
from simulation.world.followers import FollowerGraph, build_followers
from simulation.world.orders import NO_REFUND, PLATFORM, Orders
from simulation.world.people import CONSUMER, State
from simulation.world.streams import slot

POSTS = slot("content", 0, "how many posts a host puts out")
SEEN = slot("content", 1, "whether a follow is reached by the host's posts (per follow)")
PRODUCT = slot("content", 2, "which product a host's content carries today")
RESPOND = slot("content", 3, "whether a follower buys from today's content")
CHOOSE = slot("content", 4, "which host a follower buys from")
BAD = slot("content", 5, "whether a content order disappoints")
REFUND = slot("content", 6, "whether a disappointing content order is returned")
INVITE = slot("content", 7, "whether a member's content invites a follower")
SPONSOR = slot("content", 8, "which member host inviting a follower becomes its sponsor")

COUNT, RMB, SHARE = "{:,}", "{:,.2f}", "{:.1%}"
ECONOMICS = "Economics"


class Content(Mechanism):
    """Each member host posts Poisson(posts_per_day × effort × effort_share) times a day,
    each platform-run host Poisson(posts_per_day); a follower is reached by a host's k
    posts with chance 1 − (1 − reach)^k (live_reach on a live day). A reached follower
    in the market converts as from a share, at content trust, content quality and its
    own content fatigue, at the flash price on a live day; a member's content may invite
    a consumer follower, who weighs joining as an invited contact does."""

    name = "content"
    section = "content"
    states = (
        State("content_fatigue", np.float32, 0.0, "decayed count of content exposures"),
        State("content_fatigue_day", np.int32, 0, "day content fatigue was last updated"),
        State("reached", bool, False, "ever exposed to a share or to content"),
    )
    metrics = (
        Metric(
            "content_exposures",
            "content exposures",
            "shares per day",
            COUNT,
            "followers reached by content today (one per host and follower a day)",
            "daily",
        ),
        Metric(
            "content_orders",
            "content orders",
            "orders per day",
            COUNT,
            "orders placed today through content (from member hosts and platform-run hosts)",
            "daily",
        ),
        Metric(
            "content_gmv",
            "content GMV",
            "RMB per day",
            RMB,
            "RMB of today's content orders, less those that will be refunded",
            "daily",
            ECONOMICS,
        ),
        Metric(
            "content_new_members",
            "members joined through content",
            "people per day",
            COUNT,
            "people who joined today after an invitation in a member's content",
            "daily",
        ),
        Metric(
            "content_exposures",
            "content exposures",
            "shares",
            COUNT,
            "followers reached by content over the run",
            "final",
        ),
        Metric(
            "content_orders",
            "content orders",
            "orders",
            COUNT,
            "orders placed through content over the run",
            "final",
        ),
        Metric(
            "content_gmv",
            "content GMV",
            "RMB",
            RMB,
            "RMB of content orders over the run, less those that will be refunded",
            "final",
            ECONOMICS,
        ),
        Metric(
            "content_new_members",
            "members joined through content",
            "people",
            COUNT,
            "people who joined after an invitation in a member's content, over the run",
            "final",
        ),
        Metric(
            "all_exposures",
            "exposures, both channels",
            "shares",
            COUNT,
            "shares received plus content exposures over the run",
            "final",
        ),
        Metric(
            "reach_beyond_ties",
            "content reach beyond ties",
            "share",
            SHARE,
            "share of content exposures over the run whose follower is not a social "
            "contact of the host (platform-run hosts have no contacts)",
            "final",
        ),
        Metric(
            "people_reached",
            "people reached",
            "share",
            SHARE,
            "share of the population exposed to a share or to content during the run",
            "final",
        ),
        Metric(
            "exposure_trust",
            "trust per exposure",
            "trust",
            "{:.3f}",
            "mean trust met by an exposure over the run: a share's tie trust, content's "
            "content.trust",
            "final",
        ),
        Metric(
            "content_gmv_share",
            "content share of GMV",
            "share",
            SHARE,
            "content GMV / GMV of all real orders placed over the run (both net of the "
            "refunds they will get)",
            "final",
            ECONOMICS,
        ),
        Metric(
            "content_top1_share",
            "content GMV of top 1% of hosts",
            "share",
            SHARE,
            "share of content GMV made by the top 1% of the hosts who posted in the run "
            "(people and platform-run hosts, at least one host)",
            "final",
            ECONOMICS,
        ),
    )

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.graph: FollowerGraph | None = None
        self.host_sales = np.zeros(0, dtype=np.int64)
        self.posted = np.zeros(0, dtype=bool)
        self.totals = dict.fromkeys(
            ("exposures", "beyond", "orders", "gmv", "all_gmv", "joined", "shares"), 0
        )
        self.trust_met = 0.0
        self.today: dict[str, Any] = {}

    def bind(self, host: Host) -> None:
        self.purchases: Purchases = host.mechanism("purchases")
        self.recruitment: Recruitment = host.mechanism("recruitment")

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.trust_config = policy.trust

    @property
    def followers(self) -> FollowerGraph:
        """The follower graph, drawn from its own world stream when first needed."""
        if self.graph is None:
            world = self.world
            self.follow(build_followers(self.config, world.graph, world.streams.followers))
        return self.graph

    def follow(self, graph: FollowerGraph) -> None:
        """Use `graph` as the follower graph (one built by hand, say), before any content."""
        self.graph = graph
        self.host_sales = np.zeros(graph.hosts, dtype=np.int64)
        self.posted = np.zeros(graph.hosts, dtype=bool)

    def step(self, day: Day) -> None:
        self.people.reached[day.shares.receiver] = True
        self.totals["shares"] += day.shares.size
        self.trust_met += float(day.met_trust.sum())
        today = dict.fromkeys(("exposures", "orders", "gmv", "new_members"), 0)
        if self.config.effort_share > 0:
            today = self.act(day)
        for key in ("exposures", "orders", "gmv"):
            self.totals[key] += today[key]
        self.totals["joined"] += today["new_members"]
        self.today = {f"content_{key}": value for key, value in today.items()}
        self.today["content_gmv"] /= 100

    def act(self, day: Day) -> dict[str, int]:
        """The channel's day: exposures, orders and newcomers added to `day`; returns
        how many of each, and the cents of content orders that will be kept."""
        host, follower, tied = self.expose(day.number)
        self.people.reached[follower] = True
        self.totals["beyond"] += int(np.count_nonzero(~tied))
        self.trust_met += self.config.trust * host.size
        orders, hosts = self.convert(host, follower, day.number)
        day.orders["content"] = orders
        kept = orders.refund_day == NO_REFUND
        np.add.at(self.host_sales, hosts[kept], orders.amount[kept])
        joined = 0
        if self.config.recruit > 0:
            newcomers, sponsors = self.invite(host, follower, day.number)
            self.recruitment.enrol(newcomers, sponsors, day.number)
            day.newcomers["content"], day.sponsors["content"] = newcomers, sponsors
            joined = int(newcomers.size)
        return {
            "exposures": int(host.size),
            "orders": orders.size,
            "gmv": int(orders.amount[kept].sum()),
            "new_members": joined,
        }

    def live(self, day: int) -> bool:
        """Whether `day` is a live-session day."""
        every = self.config.live_every_days
        return every > 0 and day % every == 0

    def expose(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Today's content exposures, at most one per host and follower: (host,
        follower, whether the follower is a social contact of the host)."""
        cfg, people, graph = self.config, self.people, self.followers
        members = people.members
        effort = member_effort(people, members, self.policy) * cfg.effort_share
        platform = np.arange(people.n, graph.hosts, dtype=np.int64)
        hosts = np.concatenate([members, platform])
        mean = cfg.posts_per_day * np.concatenate([effort, np.ones(platform.size)])
        posts = poisson_from_uniform(self.world.streams.draw(POSTS, hosts), mean)
        posting, posts = hosts[posts > 0], posts[posts > 0]
        self.posted[posting] = True
        size = graph.audience[posting]
        rank = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
        follow = np.repeat(graph.indptr[posting], size) + rank
        reach = cfg.live_reach if self.live(day) else cfg.reach
        chance = np.repeat(-np.expm1(posts * np.log1p(-min(reach, 1 - 1e-12))), size)
        if reach >= 1.0:
            chance[:] = 1.0
        seen = self.world.streams.draw(SEEN, follow) < chance
        follow = follow[seen]
        host = np.repeat(posting, size)[seen]
        follower = graph.follower[follow]
        self.tire(follower, day)
        return host, follower, graph.tied[follow]

    def tire(self, follower: np.ndarray, day: int) -> None:
        """Raise followers' content fatigue by their exposures, after decaying it as tie
        fatigue decays: f ← f·exp(−fatigue_decay·Δt) + count."""
        people = self.people
        order, starts, counts = grouped(follower)
        targets = follower[order][starts]
        people.content_fatigue[targets] = self.fatigue_of(targets, day) + counts
        people.content_fatigue_day[targets] = day

    def fatigue_of(self, ids: np.ndarray, day: int) -> np.ndarray:
        """Content fatigue of `ids` as of `day`, decayed exponentially since last touched."""
        elapsed = day - self.people.content_fatigue_day[ids]
        return self.people.content_fatigue[ids] * np.exp(-self.trust_config.fatigue_decay * elapsed)

    def convert(
        self, host: np.ndarray, follower: np.ndarray, day: int
    ) -> tuple[Orders, np.ndarray]:
        """Orders through content, one a day at most per follower in the market:
        p = min(1, conversion × quality × skill × (1 + hype) × content.trust × need ×
        shareability × (market/price′)^ε × exp(−s·content fatigue)), price′ the flash
        price on a live day. Returns the orders and the host of each (the seller, or a
        platform-run host's id ≥ n for a PLATFORM sale)."""
        cfg, people, buy = self.config, self.people, self.purchases
        goods, purchase = buy.catalogue, self.policy.purchase
        open_ = buy.in_market(follower, day)
        host, follower = host[open_], follower[open_]
        weights = np.cumsum(goods.shareability) / goods.shareability.sum()
        picks = self.world.streams.draw(PRODUCT, host)
        product = np.minimum(np.searchsorted(weights, picks, side="right"), goods.size - 1)
        person = host < people.n
        lift = np.ones(host.size)
        lift[person] = buy.skill(host[person]) * (1.0 + people.hype[host[person]])
        live = self.live(day)
        flash = (1.0 - cfg.live_discount) ** -purchase.price_elasticity if live else 1.0
        chance = np.minimum(
            purchase.conversion
            * cfg.quality
            * lift
            * cfg.trust
            * people.need[follower, product]
            * goods.shareability[product]
            * goods.price_factor[product]
            * flash
            * np.exp(-purchase.fatigue_sensitivity * people.content_fatigue[follower]),
            1.0,
        )
        buyer, pick = buy.choose(follower, chance, RESPOND, CHOOSE)
        hosts, product = host[pick], product[pick]
        seller = np.where(hosts < people.n, hosts, PLATFORM)
        buy.remember(buyer, seller, np.full(buyer.size, -1, dtype=np.int64), product, day)
        bad = self.world.streams.draw(BAD, buyer) < buy.disappointment(seller, product)
        prices = self.flash_prices() if live else goods.price
        return buy.make_orders(seller, buyer, product, prices, bad, day, REFUND), hosts

    def flash_prices(self) -> np.ndarray:
        """Cents per product at the live-session discount."""
        price = self.purchases.catalogue.price
        return np.round(price * (1.0 - self.config.live_discount)).astype(np.int64)

    def invite(
        self, host: np.ndarray, follower: np.ndarray, day: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Consumers reached by members' content: one member host per follower (at
        random) invites it with chance `recruit`; it joins when the benefit it expects,
        seeing the host's income at content trust, beats its cost of joining. Returns
        (newcomers, sponsors)."""
        draw = self.world.streams.draw
        people = self.people
        mine = (host < people.n) & (people.role[follower] == CONSUMER)
        host, follower = host[mine], follower[mine]
        pick = pick_one(follower, lambda ids: draw(SPONSOR, ids))
        host, follower = host[pick], follower[pick]
        asked = draw(INVITE, follower) < self.config.recruit
        host, follower = host[asked], follower[asked]
        recruitment = self.recruitment
        told = np.maximum(recruitment.daily_income(host, day), recruitment.config.income_claim)
        benefit = recruitment.expected_benefit(follower, self.config.trust * told)
        accept = benefit >= recruitment.joining_cost(follower)
        return follower[accept], host[accept]

    def report(self, day: Day) -> dict[str, Any]:
        orders = day.all_orders()
        real = ~orders.brushed & (orders.refund_day == NO_REFUND)
        self.totals["all_gmv"] += int(orders.amount[real].sum())
        return self.today

    def final(self) -> dict[str, Any]:
        totals = self.totals
        seen = totals["shares"] + totals["exposures"]
        return {
            "content_exposures": totals["exposures"],
            "content_orders": totals["orders"],
            "content_gmv": totals["gmv"] / 100,
            "content_new_members": totals["joined"],
            "all_exposures": seen,
            "reach_beyond_ties": share(totals["beyond"], totals["exposures"]),
            "people_reached": float(self.people.reached.mean()),
            "exposure_trust": self.trust_met / seen if seen else 0.0,
            "content_gmv_share": share(totals["gmv"], totals["all_gmv"]),
            "content_top1_share": top_share(self.host_sales[self.posted], 0.01),
        }


def share(part: float, whole: float) -> float:
    """part / whole, 0 when there is no whole."""
    return part / whole if whole else 0.0


def top_share(values: np.ndarray, top: float) -> float:
    """Share of the sum of `values` held by the largest ⌈top × count⌉ of them (≥ 1)."""
    total = values.sum()
    if values.size == 0 or total == 0:
        return 0.0
    k = max(1, int(np.ceil(top * values.size)))
    return float(np.sort(values)[-k:].sum() / total)
