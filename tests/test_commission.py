"""Settlement on hand-built sponsor trees, against payouts computed by hand, and the ledger."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.commission.orders import DIRECT, OVERRIDE, PLATFORM, RECRUITING, Orders
from simulation.commission.scheme import CommissionScheme
from simulation.scenario.schema import CommissionConfig
from simulation.world.ledger import Ledger, LedgerImbalance
from simulation.world.people import FORMER, MEMBER, People

A, B, C, D, E, OUTSIDER = 0, 1, 2, 3, 4, 9


def chain() -> People:
    """A ← B ← C ← D, all members; D is in tier 1, the rest in tier 0."""
    people = People(10)
    people.role[[A, B, C, D]] = MEMBER
    people.sponsor[[B, C, D]] = [A, B, C]
    people.tier[D] = 1
    return people


def scheme(**changes) -> CommissionScheme:
    config = {
        "tier_sales": [0.0, 1000.0],
        "direct_rate": [0.10, 0.15],
        "override_rates": [0.05, 0.02],
        "recruiting_bonus": [10.0, 5.0],
        "payout_cap": 0.0,
    } | changes
    return CommissionScheme.from_config(CommissionConfig.model_validate(config))


def day_orders() -> Orders:
    """D sells 100 RMB to an outsider; C buys 90 RMB for itself; one direct sale."""
    return Orders(
        seller=[D, C, PLATFORM],
        buyer=[OUTSIDER, C, 8],
        amount=[10000, 9000, 9900],
        cost_of_goods=[6500, 6500, 6500],
    )


def paid(payouts, n=10):
    return dict(enumerate(payouts.by_recipient(n)))


def test_direct_overrides_and_recruiting_bonus_by_hand():
    people = chain()
    people.role[E] = MEMBER
    people.sponsor[E] = D
    payouts = scheme().settle(day_orders(), np.array([E]), people.tier, people.upline)
    # D: 15% of 10000 + bonus 1000; C: 5% of 10000 + bonus 500;
    # B: 2% of 10000 + 5% of C's 9000; A: 2% of 9000. No direct pay on C's self-purchase.
    assert paid(payouts) == {A: 180, B: 650, C: 1000, D: 2500} | {
        i: 0 for i in (E, 5, 6, 7, 8, OUTSIDER)
    }
    kinds = {
        (int(r), int(k), int(lv))
        for r, k, lv in zip(payouts.recipient, payouts.kind, payouts.level, strict=True)
    }
    assert (D, DIRECT, 0) in kinds and (A, OVERRIDE, 2) in kinds and (C, RECRUITING, 2) in kinds


def test_the_cap_scales_every_line_pro_rata_and_holds():
    people = chain()
    people.role[E] = MEMBER
    people.sponsor[E] = D
    payouts = scheme(payout_cap=0.1).settle(day_orders(), np.array([E]), people.tier, people.upline)
    gmv = 10000 + 9000 + 9900
    scale = 0.1 * gmv / 4330
    assert payouts.total <= 0.1 * gmv
    assert paid(payouts)[D] == int(1500 * scale) + int(1000 * scale)
    assert paid(payouts)[A] == int(180 * scale)


def test_a_cap_that_is_not_reached_changes_nothing():
    people = chain()
    capped = scheme(payout_cap=0.5).settle(
        day_orders(), np.array([], int), people.tier, people.upline
    )
    free = scheme().settle(day_orders(), np.array([], int), people.tier, people.upline)
    assert capped.total == free.total == 1500 + 500 + 200 + 450 + 180


def test_pay_passes_over_departed_uplines():
    people = chain()
    people.role[C] = FORMER
    payouts = scheme().settle(
        Orders([D], [OUTSIDER], [10000], [6500]), np.array([], int), people.tier, people.upline
    )
    assert paid(payouts)[B] == 500 and paid(payouts)[A] == 200 and paid(payouts)[C] == 0
    assert people.sponsor[D] == B


def test_nobody_is_paid_above_the_top_of_the_tree():
    people = chain()
    payouts = scheme(override_rates=[0.1, 0.1, 0.1, 0.1, 0.1]).settle(
        Orders([B], [OUTSIDER], [10000], [6500]), np.array([], int), people.tier, people.upline
    )
    assert set(payouts.recipient) == {A, B}
    assert payouts.total == 1000 + 1000


def test_paid_levels():
    assert scheme().paid_levels == 2
    assert scheme(override_rates=[0.0, 0.0, 0.01], recruiting_bonus=[]).paid_levels == 3
    assert scheme(override_rates=[], recruiting_bonus=[]).paid_levels == 0


def test_entry_fee_in_cents():
    assert scheme(entry_fee=365.0).entry_fee_cents == 36500


def test_ledger_balances_and_catches_a_lost_cent():
    people = chain()
    people.role[E] = MEMBER
    people.sponsor[E] = D
    ledger = Ledger(people.income, people.fees_paid)
    ledger.open_day(1)
    orders = day_orders()
    ledger.post_sales(orders.amount, orders.cost_of_goods)
    ledger.post_fees(np.array([E]), 36500)
    payouts = scheme().settle(orders, np.array([E]), people.tier, people.upline)
    ledger.post_payouts(payouts.recipient, payouts.cents, payouts.kind)
    book = ledger.close_day()
    assert book.sales + book.fees == book.payouts + book.cost_of_goods + book.margin
    assert book.margin == 28900 + 36500 - 4330 - 3 * 6500
    assert people.income.sum() == book.payouts == 4330
    assert people.fees_paid[E] == 36500
    ledger.open_day(2)
    ledger.post_payouts(np.array([A]), np.array([100]), np.array([DIRECT]))
    ledger.today.direct += 1
    with pytest.raises(LedgerImbalance, match="day 2"):
        ledger.close_day()
