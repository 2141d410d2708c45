"""Order brushing (刷单): members fake orders when what one earns beats its expected
penalty; the platform's audit may catch each fake (§7.12)."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism
from simulation.mechanisms.recruitment import per_day_seen
from simulation.mechanisms.tiers import Tiers
from simulation.scenario.schema import Scenario
from simulation.world.catalogue import Catalogue
from simulation.world.money import cents
from simulation.world.orders import FAKE_BUYER, NO_REFUND, Orders
from simulation.world.people import State
from simulation.world.streams import slot
from simulation.world.threads import parallel_kernel

AUDIT_CATCH = slot("platform", 0, "whether the audit catches a fake order")


class Brushing(Mechanism):
    """A fake order earns the direct rate and, when the next tier is within reach_days
    of brushing and the member's team already meets that tier's team thresholds, its
    share of the next tier's extra pay on the member's real sales for as long as the
    tier is held (horizon_days, at most a review period); it costs cost_share of the
    price. The expected penalty is audit_rate × detection_power × (the commission +
    ban_prob × the income a ban would end). Rates a member reads off its own record
    (real sales, income) are spread over at least one review period (`per_day_seen`).
    The audit catches each fake with audit_rate × detection_power; a caught fake is
    voided the next day (§7.12, audits)."""

    name = "brushing"
    section = "brushing"
    states = (
        State("brush_cost", np.int64, 0, "what faking orders cost the member, cents"),
        State("faked_sales", np.int64, 0, "cents of fake orders the member placed"),
    )

    def bind(self, host: Host) -> None:
        self.tiers: Tiers = host.mechanism("tiers")

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.platform = policy.platform
        self.catalogue = Catalogue.from_scenario(policy)
        self.rates = np.array([t.direct_rate for t in policy.tiers])
        self.min_sales = np.array([cents(t.min_sales) for t in policy.tiers], dtype=np.int64)
        self.min_team = np.array([t.min_team for t in policy.tiers], dtype=np.int64)
        self.min_team_sales = np.array([cents(t.min_team_sales) for t in policy.tiers])
        self.review_days = policy.commission.review_days
        self.held_days = min(self.config.horizon_days, self.review_days)

    def step(self, day: Day) -> None:
        day.orders["fake"] = self.brush(day.number)

    def team_qualifies(self, members: np.ndarray) -> np.ndarray:
        """Whether each member's team already meets its next tier's team thresholds
        (size and the period's team sales): fakes cannot make a team."""
        if not (self.min_team.any() or self.min_team_sales.any()):
            return np.ones(members.size, dtype=bool)
        people = self.people
        tier = np.minimum(people.tier[members].astype(np.int64) + 1, self.rates.size - 1)
        period_sales = people.sales[members] - people.sales_at_period_start[members]
        team, team_sales = self.tiers.teams(members, period_sales)
        return (team >= self.min_team[tier]) & (team_sales >= self.min_team_sales[tier])

    def brush(self, day: int) -> Orders:
        """The day's fake orders, each already marked caught (refund tomorrow) or not."""
        cfg, platform = self.config, self.platform
        if cfg.max_orders_per_day == 0:
            return Orders()
        catalogue = self.catalogue
        cheapest = int(np.argmin(catalogue.price))
        price = int(catalogue.price[cheapest])
        cost_of_goods = int(catalogue.cost_of_goods[cheapest])
        people = self.people
        members = people.members
        rates = self.rates
        count = _fake_counts(
            members,
            people.tier,
            people.sales_at_period_start,
            self.team_qualifies(members),
            people.sales,
            people.faked_sales,
            people.income,
            people.joined_day,
            rates,
            self.min_sales,
            Terms(
                day=day,
                review_days=self.review_days,
                price=price,
                most=cfg.max_orders_per_day,
                reach=cfg.max_orders_per_day * cfg.reach_days,
                held_days=self.held_days,
                cost=cfg.cost_share * price,
                ban_prob=platform.ban_prob,
                horizon_days=cfg.horizon_days,
                audit=platform.audit_rate * platform.detection_power,
            ),
        )
        brushers = count > 0
        seller = np.repeat(members, count)
        fakers, count = members[brushers], count[brushers]
        people.brush_cost[fakers] += count * round(cfg.cost_share * price)
        people.faked_sales[fakers] += count * price
        caught = self.world.streams.draw(AUDIT_CATCH, seller) < (
            platform.audit_rate * platform.detection_power
        )
        return Orders(
            seller=seller,
            buyer=np.full(seller.size, FAKE_BUYER),
            amount=np.full(seller.size, price),
            cost_of_goods=np.full(seller.size, cost_of_goods),
            refund_day=np.where(caught, day + 1, NO_REFUND),
            brushed=np.ones(seller.size, dtype=bool),
        )


class Terms(NamedTuple):
    """The scalars of a day's brushing decision (see `Brushing`)."""

    day: int
    review_days: int
    price: int
    most: int
    reach: int
    held_days: float
    cost: float
    ban_prob: float
    horizon_days: float
    audit: float


@parallel_kernel
def _fake_counts(
    members: np.ndarray,
    tier: np.ndarray,
    period_start: np.ndarray,
    team_ok: np.ndarray,
    sales: np.ndarray,
    faked: np.ndarray,
    income: np.ndarray,
    joined_day: np.ndarray,
    rates: np.ndarray,
    min_sales: np.ndarray,
    terms: Terms,
) -> np.ndarray:
    """Fake orders each member places today (0 when the gain does not beat the
    expected penalty), in one pass over the members; `tier` and `period_start` (sales
    at the period's start) per person, `team_ok` per member."""
    count = np.zeros(members.size, dtype=np.int64)
    last = rates.size - 1
    for i in numba.prange(members.size):
        person = members[i]
        level = np.int64(tier[person])
        rate = rates[level]
        top = level >= last
        higher = min(level + 1, last)
        joined = joined_day[person]
        own_daily = 100 * per_day_seen(
            sales[person] - faked[person], joined, terms.day, terms.review_days
        )
        gap = 0 if top else min_sales[higher] - (sales[person] - period_start[person])
        needed = np.int64(np.ceil(max(gap, 0) / terms.price))
        reachable = (not top) and needed > 0 and needed <= terms.reach and team_ok[i]
        tier_gain = 0.0
        if reachable:
            tier_gain = (rates[higher] - rate) * own_daily * terms.held_days / max(needed, 1)
        gain = rate * terms.price + tier_gain - terms.cost
        income_seen = 100 * per_day_seen(income[person], joined, terms.day, terms.review_days)
        at_stake = rate * terms.price + terms.ban_prob * income_seen * terms.horizon_days
        if gain > terms.audit * at_stake:
            count[i] = min(needed, terms.most) if reachable else terms.most
    return count
