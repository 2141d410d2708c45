"""Compliance indicators of pyramid-selling exposure, each with its threshold and source.

Each indicator is a small function of arrays, so it can be checked on a hand-built
structure; `RULES` says which values raise a flag, under which rule and source,
and how serious it is (administrative, criminal or civil).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.mechanisms.commission.scheme import DIRECT_SELLING_CAP
from simulation.mechanisms.purchases import retail_customers
from simulation.mechanisms.settlement import VALUATIONS, Settlement, net_income
from simulation.world.ledger import DayBook, Figures
from simulation.world.orders import Orders
from simulation.world.people import State

CRIMINAL_PARTICIPANTS = 30
CRIMINAL_LEVELS = 3
SOLD_OR_USED = 0.7  # Amway's 70% rule


@dataclass(frozen=True)
class Rule:
    """A legal or evidential rule: flag when `indicator` `compare` `threshold`, where
    the rule applies (`applies`: to whom and when, as its source says); an indicator of
    None is a rule that does not apply to this scheme."""

    rule: str
    indicator: str
    compare: str
    threshold: float
    source: str
    severity: str
    applies: str = "every scheme"

    def breached(self, value: float | None) -> bool:
        if value is None:
            return False
        ops = {">": operator.gt, ">=": operator.ge, "<": operator.lt}
        return bool(ops[self.compare](value, self.threshold))


SEVERITIES = ("administrative", "civil", "criminal")
RULES = (
    Rule(
        "headcount pay (拉人头)",
        "recruitment_reward_share",
        ">",
        0.0,
        "Regulation on Prohibition of Pyramid Selling (禁止传销条例, 2005) Art. 7(1): pay "
        "based on the number of people recruited",
        "administrative",
    ),
    Rule(
        "rewards not resting on retail sales",
        "recruitment_reward_share",
        ">",
        1 / 3,
        "FTC v. Herbalife (2016): at least two thirds of rewards must rest on verifiable "
        "retail sales; FTC v. FHTM (2014): over 81% of payouts were for recruiting",
        "civil",
    ),
    Rule(
        "entry fee (入门费)",
        "entry_fee_share",
        ">",
        0.0,
        "Regulation on Prohibition of Pyramid Selling (禁止传销条例, 2005) Art. 7(2): a fee "
        "or a mandatory purchase to join or to stay",
        "administrative",
    ),
    Rule(
        "team pay (团队计酬)",
        "paid_depth",
        ">=",
        2,
        "Regulation on Prohibition of Pyramid Selling (禁止传销条例, 2005) Art. 7(3); "
        "SPC/SPP/MPS opinion (2013): pay on the sales of a "
        "downline of three or more levels",
        "administrative",
        "pay on sales (overrides, differential); recruiting bonuses are headcount pay",
    ),
    Rule(
        "criminal pyramid organisation",
        "criminal_threshold_trees",
        ">",
        0,
        "Criminal Law (刑法) Art. 224-1; SPC/SPP/MPS opinion (2013) §1: paid entry, pay on "
        "headcount, at least 30 participants in at least 3 levels",
        "criminal",
    ),
    Rule(
        "pay above 30% of own sales",
        "over_direct_selling_cap_share",
        ">",
        0.0,
        "Direct Selling Regulation (直销管理条例, 2005) Art. 24: a seller's pay at most "
        "30% of its own sales",
        "administrative",
    ),
    Rule(
        "internal consumption",
        "internal_consumption_share",
        ">",
        0.5,
        "FTC v. Vemma (2016): a majority of sales must go to non-participants",
        "civil",
        "every scheme; members' purchases include their own orders, orders from other "
        "members, the fake orders they pay for and gift packages (at the fee paid)",
    ),
    Rule(
        "too few retail customers",
        "retail_customers_per_member",
        "<",
        10,
        "Amway (FTC 1979): sales to at least 10 different retail customers a month",
        "civil",
        "schemes with team pay, among members who earned team pay in the last 30 days "
        "(the rule qualifies a distributor for team pay)",
    ),
    Rule(
        "inventory loading (70% rule)",
        "unsold_purchase_share",
        ">",
        0.5,
        "Amway (FTC 1979): to earn bonuses a distributor must sell or use at least 70% of "
        "the goods it bought in the month",
        "civil",
        "schemes with team pay, among members who earned team pay in the last complete "
        "30-day month; goods neither used nor sold are the fake orders a member paid for "
        "(own orders, orders from other members and gift packages are used)",
    ),
    Rule(
        "most participants lose money",
        "loss_fraction",
        ">",
        0.5,
        "FTC v. FHTM (2014): over 98% lost money; AARP Foundation (2018): nearly half of "
        "MLM participants lost money",
        "civil",
        "every scheme; goods valued at need-weighted retail, as the joining rule weighs "
        "them (at cost and at retail: loss_fraction_at_cost, loss_fraction_at_retail)",
    ),
)


def share(part: float, whole: float) -> float:
    """part / whole, 0 when there is no whole."""
    return part / whole if whole else 0.0


def criminal_threshold_trees(
    tree_size: np.ndarray, tree_levels: np.ndarray, paid_entry: bool, headcount_pay: bool
) -> int:
    """Recruitment trees with ≥ 30 participants over ≥ 3 levels, counted when joining
    is paid for and recruiting is rewarded (the elements of Criminal Law Art. 224-1)."""
    if not (paid_entry and headcount_pay):
        return 0
    large = (tree_size >= CRIMINAL_PARTICIPANTS) & (tree_levels >= CRIMINAL_LEVELS)
    return int(np.count_nonzero(large))


def over_direct_selling_cap_share(income: np.ndarray, own_sales: np.ndarray) -> float:
    """Among paid members, the share whose pay exceeds 30% of their own retail sales."""
    paid = income > 0
    over = income[paid] > DIRECT_SELLING_CAP * own_sales[paid]
    return float(over.mean()) if paid.any() else 0.0


def median_or_zero(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else 0.0


def median_or_none(values: np.ndarray) -> float | None:
    """The median, or None (not applicable) for no values."""
    return float(np.median(values)) if values.size else None


def unsold_purchase_share(bought: np.ndarray, unsold: np.ndarray) -> float | None:
    """Among the given members, the share that neither used nor sold more than 30% of the
    goods they bought (Amway's 70% rule); None for nobody."""
    if bought.size == 0:
        return None
    return float(np.mean(unsold > (1 - SOLD_OR_USED) * bought))


def loss_fraction(net_income: np.ndarray) -> float:
    """Share of (ever-)members whose net income (`settlement.net_income`) is below 0."""
    return float(np.mean(net_income < 0)) if net_income.size else 0.0


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, → 1: one takes all)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    total = values.sum()
    if values.size == 0 or total <= 0:
        return 0.0
    n = values.size
    ranks = np.arange(1, n + 1)
    return float(2.0 * (ranks * values).sum() / (n * total) - (n + 1) / n)


def top_share(values: np.ndarray, fraction: float = 0.01) -> float:
    """Share of the total taken by the top `fraction` of people (at least one person)."""
    values = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
    total = values.sum()
    if total <= 0:
        return 0.0
    k = max(1, int(np.ceil(fraction * values.size)))
    return float(np.partition(values, values.size - k)[-k:].sum() / total)


def flags(indicators: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules the indicators breach, each with value, threshold, source and severity."""
    raised = []
    for rule in RULES:
        value = indicators[rule.indicator]
        if rule.breached(value):
            raised.append(
                {
                    "rule": rule.rule,
                    "indicator": rule.indicator,
                    "value": value,
                    "threshold": f"{rule.compare} {rule.threshold:g}",
                    "source": rule.source,
                    "severity": rule.severity,
                    "applies": rule.applies,
                }
            )
    return raised


REVIEWED = (
    "; in the time series, taken on day 1 and at the end of each review period "
    "(commission.review_days) and carried between, as it takes a pass over every member"
)


def _indicator(
    name: str, label: str, unit: str, fmt: str, definition: str, group: str = "Compliance"
):
    return Metric(name, label, unit, fmt, definition, "cumulative", group)


INDICATORS = (
    _indicator(
        "recruitment_reward_share",
        "recruitment reward share",
        "share",
        "{:.1%}",
        "recruiting bonuses / all payouts",
    ),
    _indicator(
        "entry_fee_share",
        "entry fee share of revenue",
        "share",
        "{:.1%}",
        "entry and renewal fees / (fees + real sales net of refunds)",
    ),
    _indicator(
        "paid_depth",
        "paid depth (levels)",
        "levels",
        "{:,}",
        "deepest upline level paid in the run",
    ),
    _indicator(
        "max_tree_depth",
        "deepest recruitment chain",
        "levels",
        "{:,}",
        "deepest recruitment chain (levels below a root)",
    ),
    _indicator(
        "criminal_threshold_trees",
        "criminal-threshold trees",
        "trees",
        "{:,}",
        "recruitment trees with ≥ 30 participants over ≥ 3 levels, counted when joining is "
        "paid for (fee or package) and recruiting is rewarded",
    ),
    _indicator(
        "over_direct_selling_cap_share",
        "paid members above 30% of own sales",
        "share",
        "{:.1%}",
        "among paid ever-members, the share whose pay exceeds 30% of their own retail sales "
        "(over the run, not per month)" + REVIEWED,
    ),
    _indicator(
        "internal_consumption_share",
        "internal consumption share",
        "share",
        "{:.1%}",
        "members' purchases (own orders, orders from other members, fake orders, gift "
        "packages at the fee paid) / all sales and packages",
    ),
    _indicator(
        "retail_customers_per_member",
        "retail customers per member (median)",
        "customers",
        "{:,.1f}",
        "median, over members who earned team pay in the last 30 days, of their distinct "
        "outside customers in those days; n/a without team pay" + REVIEWED,
    ),
    _indicator(
        "unsold_purchase_share",
        "team-pay earners failing the 70% rule",
        "share",
        "{:.1%}",
        "among members who earned team pay in the last complete 30-day month, the share "
        "whose fake orders were over 30% of the goods they bought that month (own orders, "
        "orders from other members, gift packages at the fee, fakes); n/a without team pay",
    ),
    _indicator(
        "loss_fraction",
        "members who lost money (goods at need-weighted value)",
        "share",
        "{:.1%}",
        "ever-members whose net income — pay and discount savings, plus the gift package at "
        "its need-weighted retail value, less fees and faking costs — is below 0" + REVIEWED,
    ),
    _indicator(
        "top1_income_share",
        "top 1% share of income",
        "share",
        "{:.1%}",
        "share of payouts taken by the top 1% of ever-members" + REVIEWED,
        "Economics",
    ),
    _indicator(
        "payout_ratio",
        "payout ratio",
        "share",
        "{:.1%}",
        "pay on the real business / real sales net of refunds (fake orders excluded)",
        "Economics",
    ),
    _indicator("refund_rate", "refund rate", "share", "{:.1%}", "refunded orders / orders"),
    _indicator(
        "brushed_order_share",
        "brushed order share",
        "share",
        "{:.2%}",
        "fake orders / orders (§7.12)",
    ),
    _indicator(
        "brushed_caught_share", "brushed orders caught", "share", "{:.1%}", "caught fakes / fakes"
    ),
)
CUSTOMER_WINDOW = 30


@dataclass
class RunTotals(Figures):
    """Cumulative money (cents) and counts since day 1."""

    sales: int = 0
    refunds: int = 0
    fees: int = 0
    payouts: int = 0
    recruiting: int = 0
    cost_of_goods: int = 0
    training: int = 0
    community: int = 0
    member_bought: int = 0
    packages: int = 0
    orders: int = 0
    refunded_orders: int = 0
    exposures: int = 0
    brushed: int = 0
    brushed_caught: int = 0
    banned: int = 0
    switched: int = 0
    brushed_sales: int = 0
    brushed_refunds: int = 0
    brushed_cost_of_goods: int = 0
    brushed_payouts: int = 0

    def add(self, day: Day, book: DayBook) -> None:
        orders = day.settled
        self.sales += book.sales
        self.refunds += book.refunds
        self.fees += book.fees
        self.payouts += book.payouts
        self.recruiting += book.recruiting
        self.cost_of_goods += book.cost_of_goods
        self.training += book.training
        self.community += book.community
        self.brushed_sales += book.brushed_sales
        self.brushed_refunds += book.brushed_refunds
        self.brushed_cost_of_goods += book.brushed_cost_of_goods
        self.brushed_payouts += book.brushed_payouts
        self.member_bought += int(orders.amount[orders.buyer_is_member].sum())
        self.packages += day.packages
        self.orders += orders.size
        self.refunded_orders += day.refund.orders if day.refund else 0
        self.exposures += day.shares.size
        self.brushed += int(orders.brushed.sum())
        self.brushed_caught += int(caught(orders).sum())
        self.banned += len(day.leavers.get("banned", ()))
        self.switched += len(day.leavers.get("switched", ()))


def caught(orders: Orders) -> np.ndarray:
    """Fake orders the audit caught (they carry a refund day)."""
    return orders.brushed & (orders.refund_day >= 0)


class Compliance(Mechanism):
    """Keeps the run's totals (after the books close) and reports the compliance
    indicators over the run so far, every day and at the end (§7.10); `flags` turns them
    into the rules they breach."""

    name = "compliance"
    states = (
        State("bought_this_month", np.int64, 0, "goods bought this 30-day month, cents"),
        State("unsold_this_month", np.int64, 0, "of which fake orders paid for, cents"),
    )
    metrics = INDICATORS + tuple(
        Metric(
            f"loss_fraction_at_{valuation}",
            f"members who lost money (goods at {valuation})",
            "share",
            "{:.1%}",
            f"as loss_fraction, the gift package valued at {valuation}",
            "final",
            "Compliance",
        )
        for valuation in VALUATIONS[1:]
    )

    def __init__(self, host: Host) -> None:
        self.totals = RunTotals()
        self.day = 0
        self.last_month: float | None = None
        self.last_scan: dict[str, Any] = {}
        super().__init__(host)

    def bind(self, host: Host) -> None:
        self.settlement: Settlement = host.mechanism("settlement")

    def step(self, day: Day) -> None:
        self.totals.add(day, day.book)
        self.count_purchases(day)
        if day.number % CUSTOMER_WINDOW == 0:
            self.last_month = self.unsold_purchases_of_team_earners(day.number)
            self.people.bought_this_month[:] = 0
            self.people.unsold_this_month[:] = 0

    def count_purchases(self, day: Day) -> None:
        """Add the day's goods bought by members — orders they placed, gift packages at
        the fee, fake orders they paid for — and, apart, the fakes."""
        people, orders = self.people, day.settled
        used = orders.buyer_is_member & ~orders.brushed
        np.add.at(people.bought_this_month, orders.buyer[used], orders.amount[used])
        fake = orders.brushed
        np.add.at(people.bought_this_month, orders.seller[fake], orders.amount[fake])
        np.add.at(people.unsold_this_month, orders.seller[fake], orders.amount[fake])
        if day.packages:
            people.bought_this_month[day.all_newcomers()] += self.settlement.scheme.entry_fee

    def unsold_purchases_of_team_earners(self, today: int) -> float | None:
        """The 70% rule over the month ending today, among members who earned team pay
        in it; None (not applicable) without team pay or earners."""
        if not self.settlement.scheme.pays_team:
            return None
        people = self.people
        members = people.members
        earners = members[people.team_paid_day[members] > today - CUSTOMER_WINDOW]
        return unsold_purchase_share(
            people.bought_this_month[earners], people.unsold_this_month[earners]
        )

    def report(self, day: Day) -> dict[str, Any]:
        """The day's indicators; one that does not apply is NaN in the time series. Those
        that take a pass over every member (`scanned`) are taken on day 1 and at the end
        of each review period, and carried between."""
        self.day = day.number
        if day.number == 1 or day.number % self.policy.commission.review_days == 0:
            self.last_scan = self.scanned()
        values = self.counted() | self.last_scan
        return {k: float("nan") if v is None else v for k, v in values.items()}

    def final(self) -> dict[str, Any]:
        """The indicators at the end, and the loss fraction under the other valuations."""
        people, margin = self.people, self.policy.purchase.gross_margin
        ever = people.ever_members
        return self.indicators() | {
            f"loss_fraction_at_{valuation}": loss_fraction(
                net_income(people, ever, valuation, margin)
            )
            for valuation in VALUATIONS[1:]
        }

    def retail_customers_of_team_earners(self, since: int) -> float | None:
        """Median distinct outside customers since `since` among members who earned team
        pay since then; None (not applicable) when the scheme has no team pay or nobody
        earned it."""
        if not self.settlement.scheme.pays_team:
            return None
        people = self.people
        members = people.members
        earners = members[people.team_paid_day[members] >= since]
        return median_or_none(retail_customers(people, since)[earners])

    def indicators(self) -> dict[str, Any]:
        """Each indicator's value over the run so far."""
        return self.counted() | self.scanned()

    def counted(self) -> dict[str, Any]:
        """The indicators kept as running totals (no pass over the members)."""
        people, totals = self.people, self.totals
        scheme = self.settlement.scheme
        net_sales = totals.net_sales
        return {
            "recruitment_reward_share": share(totals.recruiting, totals.payouts),
            "entry_fee_share": share(totals.fees, totals.fees + net_sales),
            "paid_depth": self.settlement.paid_depth,
            "max_tree_depth": people.deepest,
            "criminal_threshold_trees": criminal_threshold_trees(
                people.tree_size[people.roots],
                people.tree_levels[people.roots],
                scheme.paid_entry,
                scheme.pays_on_headcount,
            ),
            "internal_consumption_share": share(
                totals.member_bought + totals.brushed_sales + totals.packages,
                totals.sales + totals.packages,
            ),
            "unsold_purchase_share": self.last_month,
            "payout_ratio": share(totals.net_payouts, net_sales),
            "refund_rate": share(totals.refunded_orders, totals.orders),
            "brushed_order_share": share(totals.brushed, totals.orders),
            "brushed_caught_share": share(totals.brushed_caught, totals.brushed),
        }

    def scanned(self) -> dict[str, Any]:
        """The indicators that take a pass over every (ever-)member."""
        people = self.people
        ever = people.ever_members
        margin = self.policy.purchase.gross_margin
        return {
            "over_direct_selling_cap_share": over_direct_selling_cap_share(
                people.income[ever], people.sales[ever] - people.faked_sales[ever]
            ),
            "retail_customers_per_member": self.retail_customers_of_team_earners(
                self.day - CUSTOMER_WINDOW + 1
            ),
            "loss_fraction": loss_fraction(net_income(people, ever, "need", margin)),
            "top1_income_share": top_share(people.income[ever]),
        }
