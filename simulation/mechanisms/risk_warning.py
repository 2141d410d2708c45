"""Risk warning (风险预警): the platform's data desk decides which of the day's orders
its audit budget goes to, at random or to the sellers its signals score highest (§7.18).

The desk sees only what the platform sees: who sold how many orders today, each
seller's own order history and its customers' refunds. It never reads whether an
order is fake; the simulation does, only to report how well the desk did.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.mechanisms.brushing import AUDIT_CATCH
from simulation.world.arrays import distinct
from simulation.world.orders import NO_REFUND, Orders
from simulation.world.people import State
from simulation.world.streams import slot

AUDIT_MARGIN = slot("platform", 1, "whether the desk audits the last seller its budget reaches")
SHARE, COUNT = "{:.1%}", "{:,.1f}"


def spike_scores(today: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Each seller's orders today against its own trailing mean, as a Poisson z-score
    with a floor of one order a day: (c − m) / √max(m, 1)."""
    return (today - mean) / np.sqrt(np.maximum(mean, 1.0))


def refund_scores(refunds: np.ndarray, orders: np.ndarray, platform_share: float) -> np.ndarray:
    """Each seller's refunds over its record against the platform's refund share, as a
    binomial z-score with a floor of one: (R − ρ̄n) / √max(ρ̄(1 − ρ̄)n, 1)."""
    expected = platform_share * orders
    spread = platform_share * (1.0 - platform_share) * orders
    return (refunds - expected) / np.sqrt(np.maximum(spread, 1.0))


def allocate(
    sellers: np.ndarray, counts: np.ndarray, scores: np.ndarray, budget: float, luck: float
) -> np.ndarray:
    """Sellers audited: all orders of each seller in descending score (ties: lower id
    first) while the budget lasts; the seller the budget runs out in is audited whole
    with probability (budget left) / (its orders), when `luck` is below that, so the
    expected number of orders audited is exactly the budget (capped at all orders)."""
    rank = np.lexsort((sellers, -scores))
    reached = np.cumsum(counts[rank])
    full = reached <= budget
    audited = rank[full]
    last = int(full.sum())
    if last < rank.size:
        left = budget - (reached[last - 1] if last else 0)
        if luck < left / counts[rank[last]]:
            audited = rank[: last + 1]
    return np.sort(sellers[audited])


class RiskWarning(Mechanism):
    """Audits the day's orders within the budget platform.audit_rate × the orders members
    sold today. "random": each seller is audited with probability audit_rate (the draw
    the brushing step already used for its catch, so nothing changes); "score": the
    budget goes to the top-scored sellers (`allocate`) and each audited fake is caught
    with detection_power, replacing that catch. Caught fakes are voided the next day
    and their sellers may be banned, as before (§7.12)."""

    name = "risk warning"
    section = "risk"
    states = (
        State("risk_order_mean", np.float64, 0.0, "trailing mean of the member's daily orders"),
        State("risk_seen_day", np.int32, 0, "last day the desk saw the member sell"),
        State("risk_orders", np.int64, 0, "orders the desk has seen the member sell"),
    )
    metrics = (
        Metric(
            "audit_budget",
            "audit budget",
            "orders per day",
            COUNT,
            "platform.audit_rate × the orders members sold today: what either targeting "
            "audits in expectation (§7.18)",
            "daily",
            "Compliance",
        ),
        Metric(
            "audited_orders",
            "orders audited",
            "orders per day",
            COUNT,
            "orders of the members audited today (§7.18)",
            "daily",
            "Compliance",
        ),
        Metric(
            "audit_budget",
            "audit budget (orders)",
            "orders",
            COUNT,
            "platform.audit_rate × the orders members sold, over the run",
            "final",
            "Compliance",
        ),
        Metric(
            "audited_orders",
            "orders audited",
            "orders",
            COUNT,
            "orders of the members audited, over the run",
            "final",
            "Compliance",
        ),
        Metric(
            "audit_precision",
            "audit precision",
            "share",
            SHARE,
            "audited member-days on which the member faked an order / audited member-days",
            "cumulative",
            "Compliance",
        ),
        Metric(
            "audit_recall",
            "audit recall",
            "share",
            SHARE,
            "member-days with a fake order on which the member was audited / such member-days",
            "cumulative",
            "Compliance",
        ),
        Metric(
            "brushed_kept_share",
            "brushed order share left",
            "share",
            "{:.2%}",
            "fake orders the audit did not catch / orders: the brushing audits leave (§7.18)",
            "cumulative",
            "Compliance",
        ),
    )

    def __init__(self, host: Host) -> None:
        self.budget = self.audited_orders = 0.0
        self.budget_total = self.audited_total = 0.0
        self.audited = self.hits = self.brushers = self.orders = self.kept = self.seen = 0
        super().__init__(host)

    def step(self, day: Day) -> None:
        orders = day.all_orders()
        sellers, counts = distinct(orders.seller[orders.seller >= 0])
        audited = self.audit(day, sellers, counts)
        self.remember(sellers, counts, day.number)
        self.tally(orders, day.orders.get("fake", Orders()), sellers, counts, audited)

    def audit(self, day: Day, sellers: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The sellers audited today (`sellers` sold `counts` orders); under "score",
        today's fakes of the audited are caught with detection_power, the others kept."""
        platform = day.policy.platform
        self.budget = platform.audit_rate * int(counts.sum())
        if self.config.targeting == "random":
            return sellers[self.world.streams.draw(AUDIT_CATCH, sellers) < platform.audit_rate]
        luck = float(self.world.streams.draw(AUDIT_MARGIN, np.zeros(1, np.int64))[0])
        scores = self.scores(sellers, counts, day.number)
        audited = allocate(sellers, counts, scores, self.budget, luck)
        fakes = day.orders.get("fake")
        if fakes is not None and fakes.size:
            odds = self.world.streams.draw(AUDIT_CATCH, fakes.seller)
            caught = np.isin(fakes.seller, audited) & (odds < platform.detection_power)
            fakes.refund_day = np.where(caught, day.number + 1, NO_REFUND)
        return audited

    def scores(self, sellers: np.ndarray, counts: np.ndarray, day: int) -> np.ndarray:
        """Today's risk score of each seller: spike_weight × its spike z-score +
        refund_weight × its refund z-score; observables only."""
        cfg, people = self.config, self.people
        score = cfg.spike_weight * spike_scores(counts, self.trailing_mean(sellers, day))
        if cfg.refund_weight:
            seen = people.risk_orders[sellers]
            share = int(people.refunds.sum()) / self.seen if self.seen else 0.0
            score += cfg.refund_weight * refund_scores(people.refunds[sellers], seen, share)
        return score

    def trailing_mean(self, sellers: np.ndarray, day: int) -> np.ndarray:
        """Each seller's exponentially weighted mean of daily orders up to yesterday
        (mean age window_days), decayed over the days it sold nothing."""
        keep = 1.0 - 1.0 / self.config.window_days
        idle = day - 1 - self.people.risk_seen_day[sellers]
        return self.people.risk_order_mean[sellers] * keep ** idle.astype(np.float64)

    def remember(self, sellers: np.ndarray, counts: np.ndarray, day: int) -> None:
        """Fold today's order counts into the sellers' trailing means and records."""
        people, keep = self.people, 1.0 - 1.0 / self.config.window_days
        mean = self.trailing_mean(sellers, day)
        people.risk_order_mean[sellers] = keep * mean + (1.0 - keep) * counts
        people.risk_seen_day[sellers] = day
        people.risk_orders[sellers] += counts
        self.seen += int(counts.sum())

    def tally(
        self,
        orders: Orders,
        fakes: Orders,
        sellers: np.ndarray,
        counts: np.ndarray,
        audited: np.ndarray,
    ) -> None:
        """Count the orders audited and, against the ground truth the desk never reads,
        the audited member-days that were brushing ones and the fakes left uncaught."""
        brushers = np.unique(orders.seller[orders.brushed])
        self.audited_orders = int(counts[np.isin(sellers, audited)].sum())
        self.audited_total += self.audited_orders
        self.budget_total += self.budget
        self.audited += audited.size
        self.hits += int(np.isin(audited, brushers).sum())
        self.brushers += brushers.size
        self.orders += orders.size
        self.kept += int((fakes.brushed & (fakes.refund_day == NO_REFUND)).sum())

    def report(self, day: Day) -> dict[str, Any]:
        """Today's budget and orders audited; precision, recall, share left so far."""
        return {"audit_budget": self.budget, "audited_orders": self.audited_orders} | self.rates()

    def final(self) -> dict[str, Any]:
        """The run's budget and orders audited, and its precision, recall, share left."""
        return {"audit_budget": self.budget_total, "audited_orders": self.audited_total} | (
            self.rates()
        )

    def rates(self) -> dict[str, Any]:
        """Precision, recall and the brushed share left, over the run so far."""
        return {
            "audit_precision": self.hits / self.audited if self.audited else float("nan"),
            "audit_recall": self.hits / self.brushers if self.brushers else float("nan"),
            "brushed_kept_share": self.kept / self.orders if self.orders else 0.0,
        }
