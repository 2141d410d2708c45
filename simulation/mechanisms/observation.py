"""Observation: the day's books are closed and checked, run totals kept, and the day's
growth, market and money figures reported (§7.9)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.mechanisms.compliance import Compliance, caught, gini, median_or_zero, share
from simulation.mechanisms.purchases import Purchases
from simulation.mechanisms.settlement import Settlement, net_income
from simulation.world.arrays import distinct, sorted_unique
from simulation.world.ledger import Expected


def _daily(name: str, label: str, unit: str, fmt: str, definition: str, group: str = "Growth"):
    return Metric(name, label, unit, fmt, definition, "daily", group)


def _final(name: str, label: str, unit: str, fmt: str, definition: str, group: str = "Growth"):
    return Metric(name, label, unit, fmt, definition, "final", group)


COUNT, RMB, SHARE = "{:,}", "{:,.2f}", "{:.1%}"
ECONOMICS, COMPLIANCE = "Economics", "Compliance"

DAILY = (
    _daily("day", "day", "day", COUNT, "day number, 1..steps"),
    _daily("members", "members", "people", COUNT, "current members at the end of the day"),
    _daily(
        "active_members",
        "active members",
        "people",
        COUNT,
        "members who sent a share or made a sale (self-purchases included) today",
    ),
    _daily(
        "new_members",
        "new members",
        "people per day",
        COUNT,
        "members who joined today (advertising and recruitment)",
    ),
    _daily("churned_members", "churned members", "people per day", COUNT, "members who left today"),
    _daily(
        "buyers",
        "buyers",
        "people per day",
        COUNT,
        "distinct people who ordered today (fake orders have no buyer)",
    ),
    _daily("penetration", "penetration", "share", SHARE, "members / population size"),
    _daily(
        "orders",
        "orders",
        "orders per day",
        COUNT,
        "orders today (share conversions, repurchases, self-purchases, direct, fake)",
    ),
    _daily(
        "gmv",
        "GMV",
        "RMB per day",
        RMB,
        "RMB of today's real orders less today's refunds of real orders (fake orders "
        "excluded: brushed_gmv)",
        ECONOMICS,
    ),
    _daily("brushed_gmv", "fake GMV", "RMB per day", RMB, "RMB of today's fake orders", ECONOMICS),
    _daily("exposures", "shares received", "shares per day", COUNT, "shares received today"),
    _daily(
        "conversion_rate",
        "conversion rate",
        "orders per share received",
        SHARE,
        "share conversions / exposures",
    ),
    _daily(
        "mean_trust",
        "mean trust",
        "mean trust met by a share",
        "{:.3f}",
        "mean trust on the ties today's shares travelled, after erosion (NaN on a day "
        "without shares)",
    ),
    _daily(
        "commissions_paid",
        "commissions paid",
        "RMB per day",
        RMB,
        "RMB paid to members today (direct, override, differential, recruiting), net of "
        "clawbacks, except pay on fake orders",
        ECONOMICS,
    ),
    _daily(
        "fee_revenue",
        "fees",
        "RMB per day",
        RMB,
        "RMB of entry and renewal fees today",
        ECONOMICS,
    ),
    _daily(
        "platform_margin",
        "platform margin",
        "RMB per day",
        RMB,
        "RMB: real sales − their refunds + fees − pay on them − their cost of goods − "
        "training − community spending (fake orders excluded)",
        ECONOMICS,
    ),
    _daily("refunds", "refunds", "orders per day", COUNT, "orders refunded today"),
    _daily(
        "direct_rate",
        "entry direct rate",
        "share",
        SHARE,
        "the lowest tier's direct rate in force (moves under interventions and the "
        "feedback rule, §7.11)",
        ECONOMICS,
    ),
    _daily(
        "brushed_orders", "fake orders", "orders per day", COUNT, "fake orders placed today (§7.12)"
    ),
    _daily(
        "brushed_caught", "fake orders caught", "orders per day", COUNT, "fake orders caught today"
    ),
    _daily("banned_members", "members banned", "people per day", COUNT, "members banned today"),
    _daily(
        "churn_to_competitors",
        "members lost to competitors",
        "people per day",
        COUNT,
        "members who switched to a competitor today (§7.13)",
    ),
    _daily(
        "multi_homing_share",
        "multi-homing share",
        "share",
        SHARE,
        "members who also sell for a competitor / members (§7.13)",
    ),
    _daily(
        "orders_lost_to_competitors",
        "repeat buyers lost",
        "people per day",
        COUNT,
        "due repeat buyers a competitor took today (§7.13)",
    ),
    _daily(
        "mean_platform_trust",
        "mean platform trust",
        "trust",
        "{:.3f}",
        "mean trust in the platform over everyone (§7.8)",
    ),
    _daily(
        "lapsed_consumers",
        "lapsed consumers",
        "people",
        COUNT,
        "people below churn.platform_trust_floor (§7.8)",
    ),
    _daily(
        "training_spend",
        "training spend",
        "RMB per day",
        RMB,
        "RMB spent on training today (§7.14)",
        ECONOMICS,
    ),
)

FINAL = (
    _final("members", "members at the end", "people", COUNT, "members at the end of the run"),
    _final("ever_members", "members ever", "people", COUNT, "current and former members"),
    _final("final_penetration", "final penetration", "share", SHARE, "members at the end / people"),
    _final(
        "peak_join_day",
        "peak day of joining",
        "day",
        COUNT,
        "the day with most new members (0 before any day)",
    ),
    _final(
        "peak_new_members",
        "new members on the peak day",
        "people",
        COUNT,
        "most new members in a day",
    ),
    _final("orders", "orders", "orders", COUNT, "orders over the run"),
    _final("exposures", "shares received", "shares", COUNT, "shares received over the run"),
    _final(
        "churned_to_competitors",
        "members lost to competitors",
        "people",
        COUNT,
        "members who switched to a competitor over the run",
    ),
    _final(
        "multi_homing_share",
        "multi-homing members at the end",
        "share",
        SHARE,
        "members who also sell for a competitor / members, on the last day",
    ),
    _final(
        "gmv",
        "GMV, net of fakes and refunds (RMB)",
        "RMB",
        RMB,
        "RMB of real orders less their refunds (fake orders excluded)",
        ECONOMICS,
    ),
    _final(
        "refunded", "refunded (RMB)", "RMB", RMB, "RMB of real orders returned to buyers", ECONOMICS
    ),
    _final(
        "brushed_gmv",
        "fake GMV, beside (RMB)",
        "RMB",
        RMB,
        "RMB of fake orders placed (caught ones included)",
        ECONOMICS,
    ),
    _final(
        "commissions_paid",
        "commissions paid (RMB)",
        "RMB",
        RMB,
        "RMB paid to members, net of clawbacks, except pay on fake orders",
        ECONOMICS,
    ),
    _final(
        "brushed_commissions",
        "pay on fake orders, beside (RMB)",
        "RMB",
        RMB,
        "RMB paid to members on fake orders, net of clawbacks",
        ECONOMICS,
    ),
    _final("fee_revenue", "fees (RMB)", "RMB", RMB, "RMB of entry and renewal fees", ECONOMICS),
    _final(
        "training_spend", "training spend (RMB)", "RMB", RMB, "RMB spent on training", ECONOMICS
    ),
    _final(
        "platform_margin",
        "platform margin (RMB)",
        "RMB",
        RMB,
        "real sales − their refunds + fees − pay on them − their cost of goods − training "
        "− community spending (fake orders excluded)",
        ECONOMICS,
    ),
    _final(
        "brushed_margin",
        "fake orders' margin, beside (RMB)",
        "RMB",
        RMB,
        "what fake orders added to the platform's cash: their price − refunds of caught ones "
        "− their cost of goods − pay on them",
        ECONOMICS,
    ),
    _final(
        "brushing_cost",
        "members' cost of faking (RMB)",
        "RMB",
        RMB,
        "what faking orders cost the members who did it (brushing.cost_share of each price)",
        ECONOMICS,
    ),
    _final(
        "median_net_income",
        "median member net income",
        "RMB per member",
        RMB,
        "median over ever-members of net income: pay and discount savings, plus the gift "
        "package at its need-weighted retail value, less fees and faking costs",
        ECONOMICS,
    ),
    _final(
        "income_gini",
        "income Gini",
        "Gini",
        "{:.3f}",
        "Gini of ever-members' payouts (negatives as 0)",
        ECONOMICS,
    ),
    _final(
        "refund_concentration",
        "refund concentration (Gini)",
        "Gini",
        "{:.3f}",
        "Gini of refunded sales across members who sold (§7.12)",
        COMPLIANCE,
    ),
    _final(
        "banned_members",
        "members banned",
        "people",
        COUNT,
        "members banned over the run",
        COMPLIANCE,
    ),
)


class Observation(Mechanism):
    """Closes the day's books, which the ledger reconciles with the members' wallets and
    with what the day's events say they should be, and reports the day's row and the
    run's growth and money figures, from the day's events and the run totals that
    compliance keeps."""

    name = "observation"
    metrics = DAILY + FINAL

    def __init__(self, host: Host) -> None:
        self.joins: list[int] = []
        self.last: dict[str, Any] = {}
        super().__init__(host)

    def bind(self, host: Host) -> None:
        self.compliance: Compliance = host.mechanism("compliance")
        self.settlement: Settlement = host.mechanism("settlement")
        self.purchases: Purchases = host.mechanism("purchases")

    def step(self, day: Day) -> None:
        settled, paid, clawed = day.settled, day.payouts, day.clawed
        scheme = self.settlement.scheme
        expected = Expected(
            sales=int(settled.amount.sum()),
            fees=scheme.entry_fee * day.fee_payers + scheme.renewal_fee * day.renewals,
            payouts=paid.total - clawed.total,
            refunds=day.refund.amount if day.refund else 0,
            brushed_sales=int(settled.amount[settled.brushed].sum()),
            brushed_payouts=int(
                paid.cents[paid.brushed].sum() - clawed.cents[clawed.brushed].sum()
            ),
            brushed_refunds=day.refund.brushed_amount if day.refund else 0,
        )
        day.book = self.world.ledger.close_day(expected)

    def report(self, day: Day) -> dict[str, Any]:
        people, book, orders = self.people, day.book, day.settled
        members = int(people.members.size)
        exposures = day.shares.size
        share_orders = day.orders["share"].size
        leavers = day.leavers
        self.joins.append(int(day.all_newcomers().size))
        self.last = {
            "day": book.day,
            "members": members,
            "active_members": active(day.shares.sender, orders.seller[orders.seller >= 0]),
            "new_members": self.joins[-1],
            "churned_members": int(day.all_leavers().size),
            "buyers": int(distinct(orders.buyer[orders.buyer >= 0])[0].size),
            "penetration": members / people.n,
            "orders": orders.size,
            "gmv": book.net_sales / 100,
            "brushed_gmv": book.brushed_sales / 100,
            "exposures": exposures,
            "conversion_rate": share_orders / exposures if exposures else 0.0,
            "mean_trust": float(day.met_trust.mean()) if exposures else float("nan"),
            "commissions_paid": book.net_payouts / 100,
            "fee_revenue": book.fees / 100,
            "platform_margin": book.margin / 100,
            "refunds": day.refund.orders,
            "direct_rate": float(day.policy.tiers[0].direct_rate),
            "brushed_orders": int(orders.brushed.sum()),
            "brushed_caught": int(caught(orders).sum()),
            "banned_members": int(leavers.get("banned", orders.seller[:0]).size),
            "churn_to_competitors": int(leavers.get("switched", orders.seller[:0]).size),
            "multi_homing_share": share(
                int(np.count_nonzero(people.multi_homing[people.members])), members
            ),
            "orders_lost_to_competitors": day.lost_buyers,
            "mean_platform_trust": self.purchases.trust_total / people.n,
            "lapsed_consumers": self.purchases.lapsed,
            "training_spend": book.training / 100,
        }
        return self.last

    def final(self) -> dict[str, Any]:
        self.world.ledger.count_wallets()
        people, totals = self.people, self.compliance.totals
        ever = people.ever_members
        joins = np.array(self.joins, dtype=np.int64)
        members_now = int(people.members.size)
        return {
            "members": members_now,
            "ever_members": int(ever.size),
            "final_penetration": members_now / people.n,
            "peak_join_day": int(np.argmax(joins)) + 1 if joins.size else 0,
            "peak_new_members": int(joins.max(initial=0)),
            "orders": totals.orders,
            "exposures": totals.exposures,
            "gmv": totals.net_sales / 100,
            "refunded": (totals.refunds - totals.brushed_refunds) / 100,
            "brushed_gmv": totals.brushed_sales / 100,
            "commissions_paid": totals.net_payouts / 100,
            "brushed_commissions": totals.brushed_payouts / 100,
            "fee_revenue": totals.fees / 100,
            "training_spend": totals.training / 100,
            "platform_margin": totals.margin / 100,
            "brushed_margin": totals.brushed_margin / 100,
            "brushing_cost": int(people.brush_cost.sum()) / 100,
            "median_net_income": median_or_zero(
                net_income(people, ever, "need", self.policy.purchase.gross_margin)
            )
            / 100,
            "income_gini": gini(np.maximum(people.income[ever], 0)),
            "refund_concentration": gini(people.refunds[people.sales > 0]),
            "banned_members": totals.banned,
            "churned_to_competitors": totals.switched,
            "multi_homing_share": self.last.get("multi_homing_share", 0.0),
        }


def active(senders: np.ndarray, sellers: np.ndarray) -> int:
    """How many distinct people shared or sold today; `senders` come ascending (each
    member's shares together), so only the day's sellers need sorting."""
    sold = sorted_unique(sellers)
    count = _sharers_and_sellers(senders, sold)
    return int(count if count >= 0 else _sharers_and_sellers(np.sort(senders), sold))


@numba.njit(cache=True)
def _sharers_and_sellers(senders: np.ndarray, sold: np.ndarray) -> int:
    """Distinct people among ascending `senders` and ascending distinct `sold`, in one
    walk of both; −1 if `senders` is not ascending."""
    count, at = 0, 0
    for i in range(senders.size):
        if i > 0 and senders[i] < senders[i - 1]:
            return -1
        if i == 0 or senders[i] != senders[i - 1]:
            count += 1
    for seller in sold:
        while at < senders.size and senders[at] < seller:
            at += 1
        if at == senders.size or senders[at] != seller:
            count += 1
    return count
