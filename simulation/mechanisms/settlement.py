"""Settlement: the day's orders and newcomers are settled together under the
commission scheme, so the payout cap covers all of the day's pay; newcomers pay the
entry fee, members the renewal fee when due; sellers are credited with their retail
sales (§7.6)."""

from __future__ import annotations

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.mechanisms.commission.chain import Where
from simulation.mechanisms.commission.scheme import CommissionScheme
from simulation.scenario.schema import Scenario
from simulation.world.orders import DIFFERENTIAL, OVERRIDE, Payouts
from simulation.world.people import MEMBER, NEVER, People, State
from simulation.world.threads import parallel_kernel


class Settlement(Mechanism):
    """Posts sales, cost of goods, fees and payout lines to the ledger; a fee that buys a
    gift package gives the newcomer its cost of goods; the deepest level ever paid on
    sales (overrides, differential: team pay, 团队计酬) and who earned team pay when
    are kept for the compliance indicators."""

    name = "settlement"
    section = "commission"
    metrics = (
        Metric(
            "owed_pay",
            "pay withheld by the cap, owed (RMB)",
            "RMB",
            "{:,.2f}",
            "RMB of pay the payout cap withheld that members still hold at the end (paid on "
            "later days as the cap allows, forfeited on leaving)",
            "final",
            "Economics",
        ),
    )
    states = (
        State("sales", np.int64, 0, "cumulative personal retail sales (not own purchases), cents"),
        State("package_received", np.int64, 0, "cost of goods of gift packages received, cents"),
        State("team_paid_day", np.int32, NEVER, "last day the member earned team pay"),
    )

    def __init__(self, host: Host) -> None:
        self.paid_depth = 0
        self.owed = Payouts.empty()
        super().__init__(host)

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.scheme = CommissionScheme.from_scenario(policy)

    def step(self, day: Day) -> None:
        orders, newcomers = day.all_orders(), day.all_newcomers()
        people, ledger = self.people, self.world.ledger
        settled = self.scheme.settle(
            orders,
            newcomers,
            people.sponsor,
            people.tier,
            Where(lambda ids: people.role[ids] == MEMBER),
            people.qualified,
            self.owed,
        )
        payouts, self.owed = settled.payouts, settled.owed
        ledger.post_sales(
            settled.sales,
            settled.cost_of_goods,
            settled.brushed_sales,
            settled.brushed_cost_of_goods,
        )
        ledger.post_fees(newcomers, self.scheme.entry_fee)
        renewing = self.renewing(day.number)
        ledger.post_fees(renewing, self.scheme.renewal_fee)
        people.package_received[newcomers] += self.scheme.package_cost
        ledger.post_payouts(payouts)
        team = (payouts.kind == OVERRIDE) | (payouts.kind == DIFFERENTIAL)
        if team.any():
            self.paid_depth = max(self.paid_depth, int(payouts.level[team].max()))
            people.team_paid_day[payouts.recipient[team]] = day.number
        sold = (orders.seller >= 0) & ~orders.self_purchase
        np.add.at(people.sales, orders.seller[sold], orders.amount[sold])
        day.settled, day.payouts, day.fee_payers = orders, payouts, int(newcomers.size)
        day.renewals = int(renewing.size)
        if self.scheme.package_cost > 0:
            day.packages = self.scheme.entry_fee * int(newcomers.size)

    def renewing(self, today: int) -> np.ndarray:
        """Members whose membership reaches a whole number of renewal periods today."""
        if self.scheme.renewal_fee == 0:
            return np.empty(0, np.int64)
        members = self.people.members
        tenure = today - self.people.joined_day[members]
        return members[(tenure > 0) & (tenure % self.scheme.renewal_days == 0)]

    def final(self) -> dict[str, float]:
        owed = self.owed.take(np.flatnonzero(self.people.role[self.owed.recipient] == MEMBER))
        return {"owed_pay": owed.total / 100}


VALUATIONS = ("need", "retail", "cost")


def net_income(people: People, ids: np.ndarray, valuation: str, gross_margin: float) -> np.ndarray:
    """What membership has brought each of `ids`, in cents: pay received (net of
    clawbacks) and discount savings on its own kept purchases, plus the goods of any gift
    package, less the entry and renewal fees paid and what faking orders cost it.

    The package is valued at its cost of goods ("cost"), at retail, cost / (1 − gross
    margin) ("retail"), or at retail weighted by the member's need ("need": the value
    the joining rule weighs, §7.5)."""
    if valuation not in VALUATIONS:
        raise ValueError(f"valuation {valuation!r}: one of {', '.join(VALUATIONS)}")
    return _net_income(
        np.asarray(ids),
        people.package_received,
        people.income,
        people.discount_savings,
        people.fees_paid,
        people.brush_cost,
        people.need,
        1.0 if valuation == "cost" else max(1.0 - gross_margin, 0.01),
        valuation == "need",
    )


@parallel_kernel
def _net_income(
    ids: np.ndarray,
    package: np.ndarray,
    income: np.ndarray,
    savings: np.ndarray,
    fees: np.ndarray,
    faking: np.ndarray,
    need: np.ndarray,
    divisor: float,
    by_need: bool,
) -> np.ndarray:
    """`net_income` over `ids` in one pass: goods = package / divisor (× largest need)."""
    net = np.empty(ids.size, dtype=np.float64)
    for i in numba.prange(ids.size):
        person = ids[i]
        goods = np.float64(package[person])
        if divisor != 1.0:
            goods = goods / divisor
        if by_need:
            largest = np.float32(0.0)
            for product in range(need.shape[1]):
                largest = max(largest, need[person, product])
            goods = goods * np.float64(largest)
        gained = np.float64(income[person] + savings[person]) + goods
        net[i] = gained - np.float64(fees[person]) - np.float64(faking[person])
    return net
