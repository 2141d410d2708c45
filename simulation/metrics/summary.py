"""The run's summary: growth figures, economics, compliance indicators and flags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from simulation.metrics import compliance as c
from simulation.metrics.daily import compliance_indicators
from simulation.scenario.loading import scenario_hash

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel


def run_summary(model: SocialCommerceModel) -> dict[str, Any]:
    """Final metrics of a run, its compliance indicators and flags, and its provenance."""
    people, totals = model.people, model.totals
    ever = people.ever_members
    table = model.datacollector.get_model_vars_dataframe() if model.day else None
    joins = table["new_members"].to_numpy() if table is not None else np.zeros(0, int)
    members_now = int(people.members.size)
    summary = {
        "scenario": model.config.name,
        "scenario_hash": scenario_hash(model.config),
        "seed": model.seed,
        "days": model.day,
        "people": people.n,
        "ties": int(model.graph.n_ties // 2),
        "members": members_now,
        "ever_members": int(ever.size),
        "final_penetration": members_now / people.n,
        "peak_join_day": int(table["day"].iloc[int(np.argmax(joins))]) if joins.size else 0,
        "peak_new_members": int(joins.max(initial=0)),
        "orders": totals.orders,
        "exposures": totals.exposures,
        "gmv": totals.sales / 100,
        "refunded": totals.refunds / 100,
        "commissions_paid": totals.payouts / 100,
        "fee_revenue": totals.fees / 100,
        "training_spend": totals.training / 100,
        "platform_margin": totals.margin / 100,
        "median_net_income": c.median_or_zero(people.net_income(ever)) / 100,
        "income_gini": c.gini(np.maximum(people.income[ever], 0)),
        "refund_concentration": c.gini(people.refunds[people.sales > 0]),
        "banned_members": totals.banned,
        "churned_to_competitors": totals.switched,
        "multi_homing_share": model.today.get("multi_homing_share", 0.0),
    }
    summary |= compliance_indicators(model)
    summary["flags"] = c.flags(summary)
    return summary
