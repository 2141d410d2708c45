"""Members as a population: sharing, inviting, climbing tiers and quitting.

Each method states one per-member rule and applies it to all members at once; see
docs/model.md, submodels "Sharing", "Recruitment", "Tiers" and "Churn".
"""

from __future__ import annotations

import numpy as np

from simulation.agents.catalogue import Catalogue
from simulation.agents.consumers import Shares
from simulation.agents.events import (
    binomial_from_uniform,
    consecutive,
    distinct,
    grouped,
    pick_one,
    poisson_from_uniform,
    spread,
)
from simulation.commission.orders import FAKE_BUYER, NO_REFUND, Orders
from simulation.scenario.schema import Scenario
from simulation.world.graph import ContactGraph
from simulation.world.people import CONSUMER, FORMER, MEMBER, People
from simulation.world.streams import Streams
from simulation.world.trust import TieTrust


class Members:
    """The member side of the population, with the rules members follow."""

    def __init__(
        self,
        people: People,
        graph: ContactGraph,
        trust: TieTrust,
        scenario: Scenario,
        streams: Streams,
    ) -> None:
        self.people = people
        self.graph = graph
        self.trust = trust
        self.streams = streams
        self.configure(scenario)

    def configure(self, scenario: Scenario) -> None:
        """Take up a (new) policy: the rules members follow and what joining is worth."""
        self.scenario = scenario
        tiers = scenario.tiers
        self.min_sales = np.array([round(t.min_sales * 100) for t in tiers], dtype=np.int64)
        self.min_team = np.array([t.min_team for t in tiers], dtype=np.int64)
        self.min_team_sales = np.array(
            [round(t.min_team_sales * 100) for t in tiers], dtype=np.int64
        )
        purchase = scenario.purchase
        self.catalogue = Catalogue.from_scenario(scenario)
        self.discount_value = (
            purchase.member_discount * self.catalogue.mean_price * purchase.self_purchase_prob
        )
        self.package_value = scenario.commission.package_cost / max(
            1.0 - purchase.gross_margin, 0.01
        )

    def join(self, newcomers: np.ndarray, sponsors: np.ndarray, day: int) -> None:
        """Make `newcomers` members under `sponsors` (-1: no sponsor, a new tree's root)."""
        people = self.people
        people.set_role(newcomers, MEMBER)
        people.sponsor[newcomers] = sponsors
        people.joined_day[newcomers] = day
        people.tier[newcomers] = 0
        commission = self.scenario.commission
        people.qualified[newcomers] = (
            commission.qualification_sales == 0 and commission.qualification_customers == 0
        )
        sponsored = sponsors >= 0
        people.root[newcomers] = np.where(
            sponsored, people.root[np.maximum(sponsors, 0)], newcomers
        )
        people.depth[newcomers] = np.where(sponsored, people.depth[np.maximum(sponsors, 0)] + 1, 0)
        np.add.at(people.tree_size, people.root[newcomers], 1)
        np.maximum.at(people.tree_levels, people.root[newcomers], people.depth[newcomers] + 1)

    def share(self, day: int) -> Shares:
        """Each member sends Poisson(shares_per_day × effort) shares, each to a uniformly
        chosen contact; one member's shares of a day are spread over its contacts. A
        share carries a product drawn by shareability ("random" targeting) or the one
        the contact needs most, weighted by shareability ("matched")."""
        members = self.people.members
        intensity = self.scenario.sharing.shares_per_day * self.people.effort[members]
        draw = self.streams.draw
        counts = poisson_from_uniform(draw("sharing", 0, members), intensity)
        fractions = spread(draw("sharing", 1, members), counts)
        senders = np.repeat(members, counts)
        sender, receiver, tie = self.graph.contacts_at_fraction(senders, fractions)
        goods = self.catalogue
        if goods.size == 1:
            product = np.zeros(sender.size, dtype=np.int64)
        elif self.scenario.sharing.targeting == "matched":
            product = np.argmax(self.people.need[receiver] * goods.shareability, axis=1)
        else:
            weights = np.cumsum(goods.shareability) / goods.shareability.sum()
            picks = spread(draw("sharing", 2, members), counts)[: sender.size]
            product = np.minimum(np.searchsorted(weights, picks, side="right"), goods.size - 1)
        return Shares(sender, receiver, tie, product)

    def recruit(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Invitations over ties; a contact joins when the benefit it expects beats its cost.

        An inviter invites each contact with probability invite_prob: it draws how many
        (Binomial over its ties) and invites that many consecutive contacts from a
        random start. Returns (newcomers, their sponsors); one sponsor per newcomer,
        chosen at random among the inviters it accepted.
        """
        people = self.people
        cfg = self.scenario.recruitment
        members = people.members
        if cfg.invite == "once":
            senders = members[people.joined_day[members] == day - 1]
        else:
            senders = members[people.joined_day[members] < day]
        degree = self.graph.degree_of(senders)
        draw = self.streams.draw
        invites = binomial_from_uniform(draw("recruitment", 0, senders), degree, cfg.invite_prob)
        first = (draw("recruitment", 1, senders) * degree).astype(np.int64)
        inviter = np.repeat(senders, invites)
        contact, tie = self.graph.contact_at(inviter, consecutive(first, invites, degree))
        open_ = people.role[contact] == CONSUMER
        inviter, contact, tie = inviter[open_], contact[open_], tie[open_]
        told = np.maximum(self.daily_income(inviter, day), cfg.income_claim)
        seen = self.trust.read(tie, day) * told
        accept = self.expected_benefit(contact, seen) >= self.joining_cost(contact)
        inviter, contact = inviter[accept], contact[accept]
        pick = pick_one(contact, lambda ids: draw("recruitment", 2, ids))
        people.last_active_day[inviter[pick]] = day
        return contact[pick], inviter[pick]

    def expected_benefit(self, people_ids: np.ndarray, seen_income: np.ndarray) -> np.ndarray:
        """RMB a person expects from joining: over the horizon, its discount on own
        purchases plus the daily income it sees in its inviter (weighted by trust),
        and the retail value of any gift package, as far as it needs the goods."""
        horizon = self.scenario.recruitment.horizon_days
        need = self.people.need[people_ids].max(axis=1)
        return horizon * (self.discount_value * need + seen_income) + self.package_value * need

    def joining_cost(self, people_ids: np.ndarray) -> np.ndarray:
        """RMB a person weighs against joining: the entry fee plus its personal effort cost."""
        return self.scenario.commission.entry_fee + self.people.join_cost[people_ids]

    def daily_income(self, ids: np.ndarray, day: int) -> np.ndarray:
        """RMB of payouts per day of membership, as others see it."""
        tenure = np.maximum(day - self.people.joined_day[ids], 1)
        return self.people.income[ids] / 100.0 / tenure

    def brush(self, day: int, catalogue: Catalogue) -> Orders:
        """Order brushing (刷单): a member fakes orders when what one earns beats its
        expected penalty. A fake order earns the direct rate, and, when the next tier is
        within reach_days of brushing, its share of the next tier's extra pay for as long
        as the tier is held (horizon_days, at most a review period); it costs cost_share
        of the price. The expected penalty is
        audit_rate × detection_power × (the commission + ban_prob × the income a ban
        would end)."""
        cfg, platform = self.scenario.brushing, self.scenario.platform
        if cfg.max_orders_per_day == 0:
            return Orders()
        cheapest = int(np.argmin(catalogue.price))
        price = int(catalogue.price[cheapest])
        cost_of_goods = int(catalogue.cost_of_goods[cheapest])
        people = self.people
        members = people.members
        rates = np.array([t.direct_rate for t in self.scenario.tiers])
        tier = people.tier[members].astype(np.int64)
        rate = rates[tier]
        top = tier >= rates.size - 1
        next_tier = np.minimum(tier + 1, rates.size - 1)
        period_sales = people.sales[members] - people.sales_at_period_start[members]
        gap = np.where(top, 0, self.min_sales[next_tier] - period_sales)
        needed = np.ceil(np.maximum(gap, 0) / price).astype(np.int64)
        tenure = np.maximum(day - people.joined_day[members], 1)
        own_daily = people.sales[members] / tenure
        reachable = ~top & (needed <= cfg.max_orders_per_day * cfg.reach_days)
        held = min(cfg.horizon_days, self.scenario.commission.review_days)
        extra = (rates[next_tier] - rate) * own_daily * held
        tier_gain = np.where(reachable, extra / np.maximum(needed, 1), 0.0)
        gain = rate * price + tier_gain - cfg.cost_share * price
        at_stake = rate * price + platform.ban_prob * people.income[members] / tenure * (
            cfg.horizon_days
        )
        penalty = platform.audit_rate * platform.detection_power * at_stake
        brushers = gain > penalty
        count = np.where(
            reachable, np.minimum(needed, cfg.max_orders_per_day), cfg.max_orders_per_day
        )
        count = np.where(brushers, count, 0)
        seller = np.repeat(members, count)
        people.brush_cost[members] += count * round(cfg.cost_share * price)
        caught = self.streams.draw("platform", 0, seller) < (
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

    def ban(self, members: np.ndarray, day: int) -> np.ndarray:
        """Each member caught brushing is banned with probability ban_prob."""
        members = distinct(members)[0]
        odds = self.streams.draw("churn", 1, members)
        banned = members[odds < self.scenario.platform.ban_prob]
        self.people.set_role(banned, FORMER)
        self.people.left_day[banned] = day
        return banned

    def review(self, day: int) -> None:
        """At the end of each period (`commission.review_days`): members take the
        highest tier whose thresholds they met in the period — own retail sales, team
        size, team sales — (never lower, without demotion), and qualify for team pay in
        the next period by their sales and distinct outside customers."""
        cfg = self.scenario.commission
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
        customers = people.retail_customers(day - cfg.review_days + 1)[members]
        people.qualified[members] = (period_sales >= round(cfg.qualification_sales * 100)) & (
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

    def sense_circle(self, shares: Shares, met_trust: np.ndarray) -> None:
        """Each sharer's sense of its circle: a running mean (weight 0.1 a day) of the
        trust its shares met."""
        order, starts, counts = grouped(shares.sender)
        if starts.size == 0:
            return
        senders = shares.sender[order][starts]
        today = np.add.reduceat(met_trust[order], starts) / counts
        circle = self.people.circle_trust
        circle[senders] = 0.9 * circle[senders] + 0.1 * today

    def churn(self, day: int) -> np.ndarray:
        """Members quit, with a daily chance, when their running net income stays below
        the reservation value, when the trust their shares meet has fallen below its
        floor (a fatigued circle), or when their own trust in the platform has; and for
        sure when inactive too long. Returns leavers."""
        people = self.people
        cfg = self.scenario.churn
        members = people.members
        tenure = day - people.joined_day[members]
        net_rate = people.net_income(members) / 100.0 / np.maximum(tenure, 1)
        poor = (tenure >= cfg.grace_days) & (net_rate < cfg.reservation_income)
        weary = people.circle_trust[members] < cfg.circle_trust_floor
        wary = people.platform_trust[members] < cfg.platform_trust_floor
        unhappy = poor | weary | wary
        leave = unhappy & (self.streams.draw("churn", 0, members) < cfg.quit_prob)
        if cfg.inactive_days > 0:
            last = np.maximum(people.joined_day[members], people.last_active_day[members])
            leave |= day - last >= cfg.inactive_days
        leavers = members[leave]
        people.set_role(leavers, FORMER)
        people.left_day[leavers] = day
        return leavers
