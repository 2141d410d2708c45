"""Properties of settlement on random trees, orders and schemes (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.mechanisms.commission.chain import next_upline
from simulation.mechanisms.commission.scheme import CommissionScheme
from simulation.scenario.schema import CommissionConfig, TierConfig
from simulation.world.orders import PLATFORM, Orders, Payouts

rates = st.floats(0.0, 0.3, allow_nan=False)


@st.composite
def worlds(draw):
    """A random recruitment forest, membership, qualification, tiers, orders, newcomers."""
    n = draw(st.integers(2, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sponsor = np.array([-1] + [int(rng.integers(-1, i)) for i in range(1, n)], dtype=np.int64)
    member = rng.random(n) < 0.8
    qualified = rng.random(n) < 0.8
    tiers = draw(st.integers(1, 3))
    tier = rng.integers(0, tiers, size=n)
    k = draw(st.integers(0, 30))
    members = np.flatnonzero(member)
    sellers = rng.choice(np.append(members, PLATFORM), size=k) if k else np.empty(0, int)
    buyers = rng.integers(0, n, size=k)
    self_buy = rng.random(k) < 0.3
    buyers = np.where(self_buy & (sellers >= 0), sellers, buyers)
    amounts = rng.integers(1, 100_000, size=k)
    orders = Orders(sellers, buyers, amounts, amounts // 2)
    newcomers = members[rng.random(members.size) < 0.2]
    ladder = [
        TierConfig(name=f"tier {k}", direct_rate=rate, overrides=k > 0 or draw(st.booleans()))
        for k, rate in enumerate(sorted(draw(st.lists(rates, min_size=tiers, max_size=tiers))))
    ]
    config = CommissionConfig(
        entry_fee=draw(st.sampled_from([0.0, 99.0, 365.0])),
        override_rates=draw(st.lists(rates, max_size=5)),
        differential=draw(st.booleans()),
        recruiting_bonus=draw(st.lists(st.floats(0, 200, allow_nan=False), max_size=5)),
        payout_cap=draw(st.sampled_from([0.0, 0.1, 0.3, 0.6])),
    )
    scheme = CommissionScheme.from_config(config, ladder)
    return scheme, orders, newcomers, sponsor, tier, member, qualified


def paid_to(payouts: Payouts, n: int) -> np.ndarray:
    """Cents paid to each of people 0..n-1."""
    return np.bincount(payouts.recipient, weights=payouts.cents, minlength=n).astype(np.int64)


def settle(world, orders=None):
    scheme, base, newcomers, sponsor, tier, member, qualified = world
    return scheme.settle(orders or base, newcomers, sponsor, tier, member, qualified)


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_payouts_are_positive_capped_and_only_to_members(world):
    scheme, orders, _, _, _, member, _ = world
    payouts = settle(world).payouts
    assert np.all(payouts.cents > 0)
    assert np.all(member[payouts.recipient])
    if scheme.payout_cap > 0:
        assert payouts.total <= scheme.payout_cap * orders.amount.sum() + 1e-6


@settings(max_examples=200, deadline=None)
@given(worlds(), st.integers(0, 2**32 - 1))
def test_result_does_not_depend_on_the_order_of_orders(world, seed):
    orders = world[1]
    shuffled = orders.take(np.random.default_rng(seed).permutation(orders.size))
    n = world[3].size
    assert np.array_equal(
        paid_to(settle(world).payouts, n), paid_to(settle(world, shuffled).payouts, n)
    )


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_nobody_is_their_own_upline_and_uplines_are_members(world):
    _, _, _, sponsor, _, member, _ = world
    ids = np.arange(sponsor.size)
    ups = next_upline(ids, sponsor, member)
    assert not np.any(ups == ids)
    assert np.all(member[ups[ups >= 0]])


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_uncapped_pay_never_exceeds_what_the_rates_allow(world):
    scheme, orders, newcomers, *_ = world
    if scheme.payout_cap > 0:
        return
    payouts = settle(world).payouts
    per_sale = scheme.direct_rate.max() + scheme.override_rates.sum()
    bound = per_sale * orders.amount.sum() + scheme.recruiting_bonus.sum() * newcomers.size
    assert payouts.total <= bound + 1e-6
