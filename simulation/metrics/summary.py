"""The run's summary: growth figures, economics and first compliance indicators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from simulation.scenario.loading import scenario_hash

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, → 1: one takes all)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    total = values.sum()
    if values.size == 0 or total <= 0:
        return 0.0
    n = values.size
    ranks = np.arange(1, n + 1)
    return float(2.0 * (ranks * values).sum() / (n * total) - (n + 1) / n)


def run_summary(model: SocialCommerceModel) -> dict[str, Any]:
    """Final metrics of a run, its compliance indicators and its provenance."""
    people = model.people
    books = model.ledger.books
    table = model.datacollector.get_model_vars_dataframe() if books else None
    ever = people.ever_members
    net = people.net_income(ever)
    sales = sum(b.sales for b in books)
    fees = sum(b.fees for b in books)
    payouts = sum(b.payouts for b in books)
    recruiting = sum(b.recruiting for b in books)
    joins = table["new_members"].to_numpy() if table is not None else np.zeros(0)
    members_now = int(people.members.size)
    return {
        "scenario": model.scenario.name,
        "scenario_hash": scenario_hash(model.scenario),
        "seed": model.scenario.run.seed,
        "days": model.day,
        "people": people.n,
        "ties": int(model.graph.n_ties // 2),
        "members": members_now,
        "ever_members": int(ever.size),
        "final_penetration": members_now / people.n,
        "peak_join_day": int(table["day"].iloc[int(np.argmax(joins))]) if joins.size else 0,
        "peak_new_members": int(joins.max()) if joins.size else 0,
        "orders": int(sum(table["orders"])) if table is not None else 0,
        "exposures": int(sum(table["exposures"])) if table is not None else 0,
        "gmv": sales / 100,
        "commissions_paid": payouts / 100,
        "fee_revenue": fees / 100,
        "platform_margin": sum(b.margin for b in books) / 100,
        "payout_ratio": payouts / sales if sales else 0.0,
        "median_net_income": float(np.median(net)) / 100 if ever.size else 0.0,
        "recruitment_reward_share": recruiting / payouts if payouts else 0.0,
        "entry_fee_share": fees / (fees + sales) if fees + sales else 0.0,
        "paid_depth": model.platform.paid_depth,
        "loss_fraction": float(np.mean(net < 0)) if ever.size else 0.0,
        "income_gini": gini(people.income[ever]),
    }
