"""A commission scheme and its settlement of a day's orders and newcomers.

`CommissionScheme.settle` is a pure function of arrays, used as is by the model and
callable from notebooks and tests on hand-made trees: direct commission by the
seller's tier, overrides d levels up, differential (级差) pay, recruiting bonuses,
entry fees with an optional gift package, a payout cap scaling all lines pro rata
(what it withholds is owed and paid on later days as the cap allows),
and compression past uplines who left or do not qualify.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.mechanisms.commission.chain import Where, next_upline
from simulation.scenario.schema import CommissionConfig, Scenario, TierConfig
from simulation.world.money import cents, cents_array
from simulation.world.orders import (
    DIFFERENTIAL,
    DIRECT,
    OVERRIDE,
    PLATFORM,
    RECRUITING,
    Orders,
    Payouts,
)

DIRECT_SELLING_CAP = 0.30  # 直销管理条例 (2005) Art. 24: pay at most 30% of one's own sales
Lines = list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SettledDay:
    """The payout lines of a day, the pay the cap withheld (owed), and the platform's
    side of it, in cents; `fees` are the newcomers' entry fees (renewal fees are the
    settlement mechanism's)."""

    payouts: Payouts
    owed: Payouts
    sales: int
    fees: int
    cost_of_goods: int
    brushed_sales: int = 0
    brushed_cost_of_goods: int = 0


@dataclass(frozen=True)
class CommissionScheme:
    """Rates, bonuses, fee and rules of a plan, in cents where money."""

    direct_rate: np.ndarray
    override_tier: np.ndarray
    override_rates: np.ndarray
    differential: bool
    recruiting_bonus: np.ndarray
    entry_fee: int
    package_cost: int
    renewal_fee: int
    renewal_days: int
    payout_cap: float
    clawback: bool

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> CommissionScheme:
        return cls.from_config(scenario.commission, scenario.tiers)

    @classmethod
    def from_config(cls, config: CommissionConfig, tiers: list[TierConfig]) -> CommissionScheme:
        return cls(
            direct_rate=np.array([tier.direct_rate for tier in tiers], dtype=np.float64),
            override_tier=np.array([tier.overrides for tier in tiers], dtype=bool),
            override_rates=np.asarray(config.override_rates, dtype=np.float64),
            differential=config.differential,
            recruiting_bonus=cents_array(config.recruiting_bonus),
            entry_fee=cents(config.entry_fee),
            package_cost=cents(config.package_cost),
            renewal_fee=cents(config.renewal_fee),
            renewal_days=config.renewal_days,
            payout_cap=config.payout_cap,
            clawback=config.clawback,
        )

    @property
    def pays_team(self) -> bool:
        """Whether the scheme pays anyone on others' sales (overrides or differential:
        团队计酬); recruiting bonuses are headcount pay, not team pay."""
        return bool(np.any(self.override_rates > 0)) or (
            self.differential and np.unique(self.direct_rate).size > 1
        )

    @property
    def team_levels(self) -> int | None:
        """The longest chain of uplines above a sale that the rules can pay on it
        (团队计酬): the deepest override level, or None (unbounded) for differential pay,
        which goes to the nearest upline of a higher tier however far up it is."""
        if self.differential and np.unique(self.direct_rate).size > 1:
            return None
        return int(np.flatnonzero(self.override_rates > 0).max(initial=-1) + 1)

    @property
    def team_recipients(self) -> int:
        """The most uplines one sale can pay team pay to: each override level, and one
        upline per step up the tier rates under differential pay."""
        overrides = int(np.count_nonzero(self.override_rates > 0))
        climbs = int(np.unique(self.direct_rate).size - 1) if self.differential else 0
        return overrides + climbs

    @property
    def paid_entry(self) -> bool:
        """Whether membership is paid for: an entry fee (with or without a package) or a
        renewal fee to stay."""
        return self.entry_fee > 0 or self.renewal_fee > 0

    @property
    def pays_on_headcount(self) -> bool:
        """Whether recruiting itself is rewarded."""
        return bool(np.any(self.recruiting_bonus > 0))

    def settle(
        self,
        orders: Orders,
        newcomers: np.ndarray,
        sponsor: np.ndarray,
        tier: np.ndarray,
        member: np.ndarray | Where,
        qualified: np.ndarray,
        owed: Payouts | None = None,
    ) -> SettledDay:
        """Settle a day: `sponsor`, `tier`, `member` (still a member) and `qualified`
        (may earn team pay) are per-person arrays (`member` may be a `Where`, read only
        at the ids settlement visits); `owed` is pay the cap withheld on
        earlier days (lines with no order), paid with the day's lines as the cap allows
        and forfeited by members who left.

        Self-purchases earn no direct commission (the member had its discount) but
        count for overrides and differential pay up the chain.
        """
        newcomers = np.asarray(newcomers, dtype=np.int64)
        team = Where(lambda ids: member[ids] & qualified[ids] & self.override_tier[tier[ids]])
        sold = np.flatnonzero(orders.seller != PLATFORM)
        direct = sold[~orders.self_purchase[sold]]
        sellers = orders.seller[direct]
        lines: Lines = [
            (
                sellers,
                orders.amount[direct] * self.direct_rate[tier[sellers]],
                DIRECT,
                np.zeros(direct.size, np.int64),
                direct,
            ),
        ]
        amount = orders.amount[sold].astype(np.float64)
        lines += self._up_chain(
            orders.seller[sold], sold, amount, self.override_rates, OVERRIDE, sponsor, team
        )
        if self.differential:
            lines += self._differential(orders.seller[sold], sold, amount, sponsor, tier, team)
        lines += self._up_chain(
            newcomers,
            np.full(newcomers.size, -1),
            np.ones(newcomers.size),
            self.recruiting_bonus.astype(np.float64),
            RECRUITING,
            sponsor,
            member,
        )
        owed = owed if owed is not None else Payouts.empty()
        owed = owed.take(np.flatnonzero(member[owed.recipient]))
        payouts, owed = self._capped(lines, int(orders.amount.sum()), orders.brushed, owed)
        return SettledDay(
            payouts=payouts,
            owed=owed,
            sales=int(orders.amount.sum()),
            fees=self.entry_fee * newcomers.size,
            cost_of_goods=int(orders.cost_of_goods.sum()) + self.package_cost * newcomers.size,
            brushed_sales=int(orders.amount[orders.brushed].sum()),
            brushed_cost_of_goods=int(orders.cost_of_goods[orders.brushed].sum()),
        )

    def _capped(
        self, lines: Lines, gmv: int, brushed: np.ndarray, owed: Payouts
    ) -> tuple[Payouts, Payouts]:
        """Pay the lines, and the pay owed from earlier days, in whole cents; if their
        total exceeds the cap, pay each the same share of what it is due and return the
        rest as owed (one line per recipient, kind, level and fake-or-real)."""
        due = np.concatenate([*(line[1] for line in lines), owed.cents.astype(np.float64)])
        order = np.concatenate([*(line[4] for line in lines), owed.order])
        fake = np.concatenate([*(np.zeros(line[0].size, bool) for line in lines), owed.brushed])
        from_order = order >= 0
        fake[from_order] = brushed[order[from_order]]
        rows = Payouts(
            recipient=np.concatenate([*(line[0] for line in lines), owed.recipient]),
            cents=np.floor(due + 1e-6).astype(np.int64),
            kind=np.concatenate(
                [*(np.full(line[0].size, line[2], np.int8) for line in lines), owed.kind]
            ),
            level=np.concatenate([*(line[3] for line in lines), owed.level]),
            order=order,
            brushed=fake,
        )
        total = due.sum()
        if self.payout_cap > 0 and total > self.payout_cap * gmv:
            paid = np.floor(due * (self.payout_cap * gmv / total) + 1e-6).astype(np.int64)
            unpaid = rows.cents - paid
            rows.cents = paid
            left = rows.take(np.flatnonzero(unpaid > 0))
            left.cents = unpaid[unpaid > 0]
            owed = left.merged()
        else:
            owed = Payouts.empty()
        return rows.take(np.flatnonzero(rows.cents > 0)), owed

    @staticmethod
    def _up_chain(
        origin: np.ndarray,
        order: np.ndarray,
        base: np.ndarray,
        per_level: np.ndarray,
        kind: int,
        sponsor: np.ndarray,
        payable: np.ndarray | Where,
    ) -> Lines:
        """Lines paying `per_level[d-1] × base` to the d-th payable upline of each origin."""
        lines: Lines = []
        current = origin
        for depth, rate in enumerate(per_level, start=1):
            current = next_upline(current, sponsor, payable)
            has = current >= 0
            current, base, order = current[has], base[has], order[has]
            if current.size == 0:
                break
            if rate > 0:
                lines.append((current, base * rate, kind, np.full(current.size, depth), order))
        return lines

    def _differential(
        self,
        seller: np.ndarray,
        order: np.ndarray,
        amount: np.ndarray,
        sponsor: np.ndarray,
        tier: np.ndarray,
        payable: np.ndarray | Where,
    ) -> Lines:
        """级差: each payable upline earns its tier's rate minus the highest rate already
        paid below it in the chain, until the top rate has been paid."""
        lines: Lines = []
        top = self.direct_rate.max()
        paid_rate = self.direct_rate[tier[seller]]
        current, depth = seller, 0
        while current.size:
            depth += 1
            current = next_upline(current, sponsor, payable)
            go_on = (current >= 0) & (paid_rate < top)
            current, paid_rate = current[go_on], paid_rate[go_on]
            amount, order = amount[go_on], order[go_on]
            rate = self.direct_rate[tier[current]]
            gain = np.maximum(rate - paid_rate, 0.0)
            earns = gain > 0
            lines.append(
                (
                    current[earns],
                    amount[earns] * gain[earns],
                    DIFFERENTIAL,
                    np.full(int(earns.sum()), depth),
                    order[earns],
                )
            )
            paid_rate = np.maximum(paid_rate, rate)
        return lines
