"""The day's row of metrics: growth and money from the day's events, compliance
indicators over the run so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulation.agents.consumers import Shares
from simulation.agents.events import distinct
from simulation.commission.orders import Orders
from simulation.commission.refunds import Refund
from simulation.metrics import compliance as c
from simulation.world.ledger import DayBook
from simulation.world.people import MEMBER

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel

GROWTH_COLUMNS = (
    "day",
    "members",
    "active_members",
    "new_members",
    "churned_members",
    "buyers",
    "penetration",
    "orders",
    "gmv",
    "exposures",
    "conversion_rate",
    "mean_trust",
    "commissions_paid",
    "fee_revenue",
    "platform_margin",
    "refunds",
    "direct_rate",
    "brushed_orders",
    "brushed_caught",
    "banned_members",
    "churn_to_competitors",
    "multi_homing_share",
    "orders_lost_to_competitors",
    "mean_platform_trust",
    "lapsed_consumers",
    "training_spend",
)
COMPLIANCE_COLUMNS = (
    "recruitment_reward_share",
    "entry_fee_share",
    "paid_depth",
    "max_tree_depth",
    "criminal_threshold_trees",
    "over_direct_selling_cap_share",
    "internal_consumption_share",
    "retail_customers_per_member",
    "loss_fraction",
    "top1_income_share",
    "payout_ratio",
    "refund_rate",
    "brushed_order_share",
    "brushed_caught_share",
)
COLUMNS = GROWTH_COLUMNS + COMPLIANCE_COLUMNS
CUSTOMER_WINDOW = 30


@dataclass
class DayEvents:
    """What happened on a day, as the model's phases produced it."""

    shares: Shares
    met_trust: np.ndarray
    share_orders: Orders
    orders: Orders
    newcomers: np.ndarray
    leavers: np.ndarray
    refund: Refund
    book: DayBook
    banned: np.ndarray
    switched: np.ndarray


def day_metrics(model: SocialCommerceModel, events: DayEvents) -> dict[str, Any]:
    """Growth, market and money figures of one day (money in RMB), then compliance."""
    people, book, orders = model.people, events.book, events.orders
    members = int(np.count_nonzero(people.role == MEMBER))
    busy = np.concatenate([events.shares.sender, orders.seller[orders.seller >= 0]])
    exposures = events.shares.size
    growth = {
        "day": book.day,
        "members": members,
        "active_members": int(distinct(busy)[0].size),
        "new_members": int(events.newcomers.size),
        "churned_members": int(events.leavers.size),
        "buyers": int(distinct(orders.buyer[orders.buyer >= 0])[0].size),
        "penetration": members / people.n,
        "orders": orders.size,
        "gmv": book.sales / 100,
        "exposures": exposures,
        "conversion_rate": events.share_orders.size / exposures if exposures else 0.0,
        "mean_trust": float(events.met_trust.mean()) if exposures else float("nan"),
        "commissions_paid": book.payouts / 100,
        "fee_revenue": book.fees / 100,
        "platform_margin": book.margin / 100,
        "refunds": events.refund.orders,
        "direct_rate": float(model.platform.scheme.direct_rate[0]),
        "brushed_orders": int(orders.brushed.sum()),
        "brushed_caught": int((orders.brushed & (orders.refund_day >= 0)).sum()),
        "banned_members": int(events.banned.size),
        "churn_to_competitors": int(events.switched.size),
        "multi_homing_share": c.share(
            int(np.count_nonzero(people.multi_homing & (people.role == MEMBER))), members
        ),
        "orders_lost_to_competitors": model.consumers.lost_today,
        "mean_platform_trust": float(people.platform_trust.mean()),
        "lapsed_consumers": int(np.count_nonzero(people.platform_trust < model.consumers.floor)),
        "training_spend": book.training / 100,
    }
    return growth | compliance_indicators(model)


def compliance_indicators(model: SocialCommerceModel) -> dict[str, Any]:
    """The compliance indicators over the run so far (docs/model.md §7.10)."""
    people, totals, scheme = model.people, model.totals, model.platform.scheme
    ever = people.ever_members
    members = people.members
    net_sales = totals.sales - totals.refunds
    since = model.day - CUSTOMER_WINDOW + 1
    return {
        "recruitment_reward_share": c.share(totals.recruiting, totals.payouts),
        "entry_fee_share": c.share(totals.fees, totals.fees + net_sales),
        "paid_depth": model.platform.paid_depth,
        "max_tree_depth": int(people.depth[ever].max(initial=0)),
        "criminal_threshold_trees": c.criminal_threshold_trees(
            people.tree_size, people.tree_levels, scheme.entry_fee > 0, scheme.pays_on_headcount
        ),
        "over_direct_selling_cap_share": c.over_direct_selling_cap_share(
            people.income[ever], people.sales[ever]
        ),
        "internal_consumption_share": c.share(totals.member_bought, totals.sales),
        "retail_customers_per_member": c.median_or_zero(people.retail_customers(since)[members]),
        "loss_fraction": c.loss_fraction(people.net_income(ever)),
        "top1_income_share": c.top_share(people.income[ever]),
        "payout_ratio": c.share(totals.payouts, net_sales),
        "refund_rate": c.share(totals.refunded_orders, totals.orders),
        "brushed_order_share": c.share(totals.brushed, totals.orders),
        "brushed_caught_share": c.share(totals.brushed_caught, totals.brushed),
    }
