"""Settlement on hand-built sponsor trees, against payouts computed by hand, per preset."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.mechanisms.commission.chain import next_upline
from simulation.mechanisms.commission.refunds import RefundQueue
from simulation.mechanisms.commission.scheme import CommissionScheme
from simulation.scenario import load_scenario
from simulation.world.ledger import WALLET_DAYS, Expected, Ledger, LedgerImbalance
from simulation.world.orders import (
    DIFFERENTIAL,
    DIRECT,
    NO_REFUND,
    OVERRIDE,
    PLATFORM,
    RECRUITING,
    Orders,
    Payouts,
)
from simulation.world.people import People
from tests.conftest import SCENARIOS, hand_model

N = 12
OUTSIDER = 11
A, B, C, D, E, F = range(6)


def preset(name: str, **commission) -> CommissionScheme:
    overrides = {f"commission.{key}": value for key, value in commission.items()}
    return CommissionScheme.from_scenario(
        load_scenario(SCENARIOS / "schemes" / f"{name}.toml", overrides)
    )


class Tree:
    """People 0..N-1: sponsor, tier, member and qualified arrays for settle()."""

    def __init__(self, sponsors: dict[int, int]) -> None:
        self.sponsor = np.full(N, -1, dtype=np.int64)
        self.member = np.zeros(N, dtype=bool)
        for child, parent in sponsors.items():
            self.sponsor[child] = parent
            self.member[[child, parent] if parent >= 0 else [child]] = True
        self.tier = np.zeros(N, dtype=np.int64)
        self.qualified = np.ones(N, dtype=bool)

    def settle(self, scheme: CommissionScheme, orders: Orders, newcomers=(), owed=None):
        newcomers = np.asarray(newcomers, dtype=np.int64)
        self.member[newcomers] = True
        return scheme.settle(
            orders, newcomers, self.sponsor, self.tier, self.member, self.qualified, owed
        )


def chain() -> Tree:
    """A ← B ← C ← D ← E."""
    return Tree({A: -1, B: A, C: B, D: C, E: D})


def star() -> Tree:
    """A with four direct recruits B, C, D, E."""
    return Tree({A: -1, B: A, C: A, D: A, E: A})


def wide() -> Tree:
    """A; B and C under A; D and E under B; F under C."""
    return Tree({A: -1, B: A, C: A, D: B, E: B, F: C})


def sale(seller: int, cents: int = 10000, buyer: int = OUTSIDER) -> Orders:
    return Orders([seller], [buyer], [cents], [6500])


def sales(sellers: list[int], cents: int = 10000) -> Orders:
    return Orders(sellers, [OUTSIDER] * len(sellers), [cents] * len(sellers), [6500] * len(sellers))


def paid(settlement) -> dict[int, int]:
    payouts = settlement.payouts
    totals = np.bincount(payouts.recipient, weights=payouts.cents, minlength=N).astype(np.int64)
    return {person: int(cents) for person, cents in enumerate(totals) if cents}


def kept(settlement) -> int:
    """What the platform keeps of a settled day: sales and fees less pay and goods."""
    return settlement.sales + settlement.fees - settlement.payouts.total - settlement.cost_of_goods


def test_affiliate_pays_the_seller_only():
    scheme = preset("affiliate")
    assert paid(chain().settle(scheme, sale(E))) == {E: 1000}
    assert paid(star().settle(scheme, sales([B, C, D, E]))) == {B: 1000, C: 1000, D: 1000, E: 1000}
    tree = wide()
    tree.tier[F] = 1
    assert paid(tree.settle(scheme, sales([D, F]))) == {D: 1000, F: 1500}


def test_two_level_pays_one_override_and_takes_the_package_fee():
    scheme = preset("two_level")
    assert paid(chain().settle(scheme, sale(E))) == {E: 1000, D: 500}
    tree = star()
    settlement = tree.settle(scheme, sales([B, C]), newcomers=[])
    assert paid(settlement) == {B: 1000, C: 1000, A: 1000}
    tree = wide()
    tree.sponsor[7] = F
    settlement = tree.settle(scheme, sale(F), newcomers=[7])
    assert paid(settlement) == {F: 1000, C: 500}
    assert settlement.fees == 39800
    assert settlement.cost_of_goods == 6500 + 28000
    assert kept(settlement) == 10000 + 39800 - 1500 - 6500 - 28000


def test_unilevel3_pays_three_levels_compressing_past_departed_and_unqualified():
    scheme = preset("unilevel3")
    assert paid(chain().settle(scheme, sale(E))) == {E: 1000, D: 500, C: 300, B: 200}
    tree = chain()
    tree.member[C] = False
    assert paid(tree.settle(scheme, sale(E))) == {E: 1000, D: 500, B: 300, A: 200}
    tree = chain()
    tree.qualified[D] = False
    assert paid(tree.settle(scheme, sale(E))) == {E: 1000, C: 500, B: 300, A: 200}
    tree = chain()
    tree.qualified[D] = False
    assert paid(tree.settle(scheme, sale(D))) == {D: 1000, C: 500, B: 300, A: 200}
    assert paid(wide().settle(scheme, sales([D, F]))) == {
        D: 1000,
        B: 500,
        A: 300 + 300,
        F: 1000,
        C: 500,
    }


def test_self_purchases_pay_overrides_but_no_direct_commission():
    scheme = preset("unilevel3")
    settlement = chain().settle(scheme, Orders([E], [E], [9000], [6500]))
    assert paid(settlement) == {D: 450, C: 270, B: 180}


def test_differential_pays_the_gap_between_tier_rates_up_the_chain():
    scheme = preset("differential")
    tree = chain()
    tree.tier[[A, B, C, D, E]] = [1, 2, 0, 1, 0]
    settlement = tree.settle(scheme, sale(E))
    assert paid(settlement) == {E: 500, D: 500, B: 500}
    kinds = dict(zip(settlement.payouts.recipient, settlement.payouts.kind, strict=True))
    assert kinds == {E: DIRECT, D: DIFFERENTIAL, B: DIFFERENTIAL}
    levels = dict(zip(settlement.payouts.recipient, settlement.payouts.level, strict=True))
    assert levels == {E: 0, D: 1, B: 3}
    tree.qualified[D] = False
    assert paid(tree.settle(scheme, sale(E))) == {E: 500, B: 1000}
    tree.qualified[D] = True
    tree.tier[[A, B, C, D, E]] = [2, 0, 0, 0, 0]  # pay reaches past any number of tiers
    far = tree.settle(scheme, sale(E)).payouts
    assert dict(zip(far.recipient, far.level, strict=True)) == {E: 0, A: 4}
    assert scheme.team_levels is None and scheme.team_recipients == 2
    tree = star()
    tree.tier[A] = 2
    assert paid(tree.settle(scheme, sales([B, C]))) == {B: 500, C: 500, A: 2000}


def test_geometric_pays_a_b_to_the_d():
    scheme = preset("geometric")
    assert paid(chain().settle(scheme, sale(E))) == {E: 1000, D: 500, C: 250, B: 125, A: 62}
    assert paid(wide().settle(scheme, sale(D))) == {D: 1000, B: 500, A: 250}


def test_pyramid_pays_recruiting_bonuses_five_levels_up():
    scheme = preset("pyramid")
    tree = chain()
    tree.sponsor[F] = E
    settlement = tree.settle(scheme, Orders(), newcomers=[F])
    assert paid(settlement) == {E: 12000, D: 6000, C: 3000, B: 2000, A: 1000}
    assert {int(k) for k in settlement.payouts.kind} == {RECRUITING}
    assert settlement.fees == 36500
    tree = star()
    tree.sponsor[[F, 7]] = [B, B]
    settlement = tree.settle(scheme, sale(B, 19900), newcomers=[F, 7])
    assert paid(settlement) == {B: 1990 + 24000, A: 995 + 12000}


def test_cap_scales_every_line_pro_rata_to_the_cent():
    scheme = preset("two_level", payout_cap=0.1)
    settlement = chain().settle(scheme, sale(E))
    assert paid(settlement) == {E: 666, D: 333}
    assert settlement.payouts.total <= 1000
    scheme = preset("pyramid", payout_cap=0.5)
    tree = chain()
    tree.sponsor[F] = E
    settlement = tree.settle(scheme, sale(E), newcomers=[F])
    lines = {E: [1000, 12000], D: [500, 6000], C: [300, 3000], B: [2000], A: [1000]}
    scale = 5000 / sum(sum(cents) for cents in lines.values())
    expected = {who: sum(int(c * scale) for c in cents) for who, cents in lines.items()}
    assert paid(settlement) == expected
    assert 5000 - 8 <= settlement.payouts.total <= 5000


def test_pay_the_cap_withholds_is_owed_and_paid_later_not_lost():
    scheme = preset("pyramid", payout_cap=0.5)
    tree = chain()
    tree.sponsor[F] = E
    bonus = {E: 12000, D: 6000, C: 3000, B: 2000, A: 1000}
    quiet = tree.settle(scheme, Orders(), newcomers=[F])  # newcomers, no orders: cap 0
    assert quiet.payouts.total == 0
    owed = dict(zip(quiet.owed.recipient.tolist(), quiet.owed.cents.tolist(), strict=True))
    assert owed == bonus and set(quiet.owed.order) == {-1}
    capped = tree.settle(scheme, sale(E), owed=quiet.owed)
    assert 5000 - 8 <= capped.payouts.total <= 5000
    due = 24000 + 1000 + 500 + 300  # the owed bonuses, E's direct pay, D's and C's overrides
    assert capped.payouts.total + capped.owed.total == due
    plenty = tree.settle(scheme, sale(E, 1_000_000), owed=capped.owed)
    assert plenty.owed.total == 0
    expected = 100_000 + 50_000 + 30_000  # the big sale's own lines
    assert plenty.payouts.total == expected + capped.owed.total
    tree.member[A] = False  # a member who leaves forfeits what it was owed
    left = tree.settle(scheme, Orders(), owed=quiet.owed)
    assert A not in left.owed.recipient and left.owed.total == 24000 - 1000


def test_clawback_takes_back_a_refunded_orders_commissions_and_the_books_balance():
    scheme = preset("unilevel3")
    tree = chain()
    ledger, returns = Ledger(People(N)), RefundQueue()
    income = ledger.income
    orders = Orders([E, D], [OUTSIDER, 10], [10000, 10000], [6500, 6500], refund_day=[8, NO_REFUND])
    ledger.open_day(1)
    settlement = tree.settle(scheme, orders)
    ledger.post_sales(settlement.sales, settlement.cost_of_goods)
    payouts = settlement.payouts
    ledger.post_payouts(payouts)
    returns.hold(orders, payouts)
    day_one = Expected(sales=20000, fees=0, payouts=payouts.total, refunds=0)
    assert ledger.close_day(day_one).margin == 20000 - 13000 - 2000 - 2000
    ledger.open_day(8)
    refund = returns.release(8)
    assert refund.orders == 1 and refund.amount == 10000
    lines = refund.lines
    ledger.post_refunds(refund.amount, refund.brushed_amount, lines)
    book = ledger.close_day(Expected(sales=0, fees=0, payouts=-lines.total, refunds=10000))
    assert book.clawback == 2000 and book.refunds == 10000
    assert {p: int(income[p]) for p in (A, B, C, D, E)} == {A: 200, B: 300, C: 500, D: 1000, E: 0}
    assert book.margin == -10000 + 2000
    assert returns.release(8).orders == 0


def test_a_ledger_that_loses_a_cent_stops_the_run_at_the_next_wallet_count():
    ledger = Ledger(People(N))
    ledger.open_day(WALLET_DAYS)
    line = Payouts(
        recipient=np.array([A]),
        cents=np.array([100]),
        kind=np.array([OVERRIDE], np.int8),
        level=np.array([1]),
        order=np.array([-1]),
        brushed=np.array([False]),
    )
    ledger.post_payouts(line)
    ledger.today.override += 1
    expected = Expected(sales=0, fees=0, payouts=100, refunds=0)
    with pytest.raises(
        LedgerImbalance,
        match=rf"day {WALLET_DAYS}: .*wallets gained 100 but payouts posted since day 0 101",
    ):
        ledger.close_day(expected)


def test_a_wallet_written_outside_the_ledger_is_found_when_the_run_is_summarised():
    model = hand_model([], 6)
    model.run(3)
    model.world.people.income[2] += 1
    model.step()
    with pytest.raises(LedgerImbalance, match="wallets gained 1 but payouts posted since day 0 0"):
        model.summary()


def test_next_upline_compresses_and_never_returns_the_person():
    tree = chain()
    tree.member[[B, C]] = False
    ups = next_upline(np.array([E, D, C, A]), tree.sponsor, tree.member)
    assert list(ups) == [D, A, A, -1]


def test_team_levels_and_headcount():
    assert preset("affiliate").team_levels == 0
    assert preset("two_level").team_levels == 1
    assert preset("unilevel3").team_levels == 3
    assert preset("differential").team_levels is None  # unbounded: the tree sets it
    assert preset("differential").team_recipients == 2 and preset("differential").pays_team
    assert not preset("affiliate").pays_team and preset("geometric").team_recipients == 8
    assert preset("geometric").team_levels == 8
    assert preset("pyramid").team_levels == 2 and preset("pyramid").pays_on_headcount
    assert not preset("two_level").pays_on_headcount


def test_platform_direct_sales_pay_nobody():
    settlement = chain().settle(preset("unilevel3"), sale(PLATFORM))
    assert settlement.payouts.total == 0
    assert kept(settlement) == 10000 - 6500


def test_pay_on_a_fake_order_is_marked_as_such():
    orders = Orders([E, E], [OUTSIDER, -2], [10000, 10000], [6500, 6500], brushed=[False, True])
    payouts = chain().settle(preset("unilevel3"), orders).payouts
    assert payouts.brushed.any() and not payouts.brushed.all()
    assert np.array_equal(payouts.brushed, payouts.order == 1)
