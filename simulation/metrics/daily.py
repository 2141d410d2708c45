"""The day's row of metrics, computed from the day's events and the state after it."""

from __future__ import annotations

import numpy as np

from simulation.agents.consumers import Shares
from simulation.commission.orders import Orders
from simulation.world.ledger import DayBook
from simulation.world.people import MEMBER, People

COLUMNS = (
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
)


def day_metrics(
    people: People,
    shares: Shares,
    met_trust: np.ndarray,
    share_orders: Orders,
    orders: Orders,
    newcomers: np.ndarray,
    leavers: np.ndarray,
    book: DayBook,
) -> dict[str, float]:
    """Growth, market and money figures of one day (money in RMB)."""
    members = int(np.count_nonzero(people.role == MEMBER))
    busy = np.concatenate([shares.sender, orders.seller[orders.seller >= 0]])
    exposures = shares.size
    return {
        "day": book.day,
        "members": members,
        "active_members": int(np.unique(busy).size),
        "new_members": int(newcomers.size),
        "churned_members": int(leavers.size),
        "buyers": int(np.unique(orders.buyer).size),
        "penetration": members / people.n,
        "orders": orders.size,
        "gmv": book.sales / 100,
        "exposures": exposures,
        "conversion_rate": share_orders.size / exposures if exposures else 0.0,
        "mean_trust": float(met_trust.mean()) if exposures else float("nan"),
        "commissions_paid": book.payouts / 100,
        "fee_revenue": book.fees / 100,
        "platform_margin": book.margin / 100,
    }
