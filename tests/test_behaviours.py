"""Each behaviour on small hand-built graphs, against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.mechanisms.audits import BAN
from simulation.mechanisms.base import Shares
from simulation.mechanisms.churn import QUIT
from simulation.mechanisms.exposure import _blend_circle
from simulation.mechanisms.observation import active
from simulation.mechanisms.purchases import _favourites, _pick
from simulation.mechanisms.sharing import SHARE_CONTACT, _efforts
from simulation.world.arrays import (
    WEYL,
    binomial_from_uniform,
    consecutive,
    count_at_least,
    gathered_mean,
    group_sums,
    grouped,
    pick_one,
    poisson_from_uniform,
    spread,
)
from simulation.world.graph import WellMixedGraph
from simulation.world.orders import PLATFORM
from simulation.world.people import FORMER, MEMBER
from simulation.world.streams import Streams
from simulation.world.trust import TieTrust
from tests.conftest import graph_from_pairs, hand_model, scenario

STAR = [(0, 4), (1, 4), (2, 4), (3, 4)]


def world(pairs, n, **sections):
    """Scenario, graph, people, trust and the model (for its mechanisms), on a
    hand-built graph with a scenario built from defaults."""
    model = hand_model(pairs, n, **sections)
    world = model.world
    return model.config, world.graph, world.people, world.trust, model


def tie(graph, sender, receiver):
    contacts = graph.indices[graph.indptr[sender] : graph.indptr[sender + 1]]
    return int(graph.indptr[sender] + np.flatnonzero(contacts == receiver)[0])


def shares_to(graph, senders, receiver):
    ties = np.array([tie(graph, s, receiver) for s in senders])
    return Shares(np.array(senders), np.full(len(senders), receiver), ties)


def test_shares_past_tolerance_erode_trust_in_their_senders():
    _, graph, people, trust, model = world(
        STAR, 5, trust={"fatigue_tolerance": 2.0, "erosion": 0.5, "baseline": 0.6}
    )
    met = model.mechanism("exposure").receive(shares_to(graph, [0, 1, 2, 3], 4), day=1)
    assert met == pytest.approx([0.6, 0.6, 0.3, 0.3])
    assert people.fatigue[4] == pytest.approx(4.0)


def test_fatigue_decays_lazily_between_days():
    config, graph, people, _, model = world(
        STAR, 5, trust={"fatigue_tolerance": 10.0, "fatigue_decay": 0.5}
    )
    model.mechanism("exposure").receive(shares_to(graph, [0, 1], 4), day=1)
    model.mechanism("exposure").receive(shares_to(graph, [2], 4), day=3)
    assert people.fatigue[4] == pytest.approx(2 * math.exp(-0.5 * 2) + 1)


def test_exposure_on_a_day_before_the_receivers_last_is_refused_and_changes_nothing():
    _, graph, people, _, model = world(STAR, 5)
    exposure = model.mechanism("exposure")
    exposure.receive(shares_to(graph, [0], 4), day=3)
    exposure.receive(shares_to(graph, [4], 0), day=1)
    before = people.fatigue.copy(), people.fatigue_day.copy()
    with pytest.raises(ValueError, match="before the receiver's last"):
        exposure.receive(Shares(np.array([4, 0, 4]), np.array([0, 4, 0]), np.zeros(3, int)), day=2)
    assert np.array_equal(people.fatigue, before[0]) and np.array_equal(
        people.fatigue_day, before[1]
    )
    assert not exposure.seen.any()


def test_repeated_shares_over_one_tie_erode_it_once_per_share():
    _, graph, _, trust, model = world(
        STAR, 5, trust={"fatigue_tolerance": 0.0, "erosion": 0.5, "baseline": 0.8}
    )
    model.mechanism("exposure").receive(shares_to(graph, [0, 0, 0], 4), day=1)
    assert trust.read(np.array([tie(graph, 0, 4)]), 1) == pytest.approx([0.1])


def test_trust_recovers_toward_baseline():
    _, graph, _, trust, _ = world(STAR, 5, trust={"baseline": 0.5, "recovery_rate": 0.1})
    edge = np.array([tie(graph, 0, 4)])
    trust.write(edge, np.array([0.1]), day=3)
    assert trust.read(edge, 13) == pytest.approx([0.5 - 0.4 * math.exp(-1.0)])


def test_purchase_experience_moves_trust():
    _, graph, _, trust, model = world(
        STAR,
        5,
        trust={"baseline": 0.5, "good_purchase_gain": 0.2, "bad_purchase_loss": 0.5},
    )
    edge = np.array([tie(graph, 0, 4)])
    model.mechanism("purchases").experience(edge, day=1, bad=np.array([False]))
    assert trust.read(edge, 1) == pytest.approx([0.6])
    model.mechanism("purchases").experience(edge, day=1, bad=np.array([True]))
    assert trust.read(edge, 1) == pytest.approx([0.3])


CERTAIN_PURCHASE = {
    "purchase": {
        "conversion": 1.0,
        "price": 100.0,
        "market_price": 100.0,
        "fatigue_sensitivity": 0.0,
        "gross_margin": 0.4,
        "repurchase_days": 30,
    },
    "trust": {"baseline": 1.0, "fatigue_tolerance": 100.0},
}


def test_a_certain_purchase_happens_once_a_day_and_only_in_the_market():
    _, graph, people, _, model = world(STAR + [(0, 1)], 5, **CERTAIN_PURCHASE)
    shares = shares_to(graph, [0, 1, 2], 4)
    shares = Shares(
        np.append(shares.sender, 0),
        np.append(shares.receiver, 1),
        np.append(shares.tie, tie(graph, 0, 1)),
    )
    people.next_due[1] = 5
    met = model.mechanism("exposure").receive(shares, day=1)
    orders = model.mechanism("purchases").respond(shares, met, day=1)
    assert list(orders.buyer) == [4]
    assert orders.seller[0] in (0, 1, 2)
    assert list(orders.amount) == [10000]
    assert list(orders.cost_of_goods) == [6000]
    assert people.next_due[4] == 31
    assert people.last_seller[4] == orders.seller[0]


def test_conversion_follows_trust_need_price_and_fatigue():
    _, graph, people, trust, model = world(
        [(0, i) for i in range(1, 40001)],
        40001,
        purchase={
            "conversion": 0.5,
            "price": 100.0,
            "market_price": 110.0,
            "price_elasticity": 1.0,
            "fatigue_sensitivity": 0.5,
        },
        trust={"baseline": 0.8, "fatigue_tolerance": 100.0},
    )
    people.need[:] = 0.5
    receivers = np.arange(1, 40001)
    shares = Shares(np.zeros(40000, dtype=np.int64), receivers, np.arange(40000))
    met = model.mechanism("exposure").receive(shares, day=1)
    orders = model.mechanism("purchases").respond(shares, met, day=1)
    expected = 0.5 * 0.8 * 0.5 * 1.1 * math.exp(-0.5 * 1.0)
    assert orders.size / 40000 == pytest.approx(expected, abs=0.01)


def test_repurchase_goes_to_the_last_seller_or_to_the_platform_if_it_left():
    config, graph, people, _, model = world(
        STAR, 5, purchase={"repurchase_prob": 1.0}, trust={"baseline": 1.0}
    )
    people.role[[0, 1]] = [MEMBER, FORMER]
    people.next_due[[2, 3]] = 7
    people.last_seller[[2, 3]] = [0, 1]
    people.last_tie[[2, 3]] = [0, 1]
    orders = model.mechanism("purchases").repurchase(day=7)[0]
    assert dict(zip(orders.buyer, orders.seller, strict=True)) == {2: 0, 3: PLATFORM}
    assert people.next_due[2] == 7 + config.purchase.repurchase_days


def test_members_self_purchase_at_the_discount():
    _, _, people, _, model = world(
        STAR, 5, purchase={"self_purchase_prob": 1.0, "price": 100.0, "member_discount": 0.2}
    )
    orders = model.mechanism("purchases").self_purchase(np.array([0, 3]), day=1)
    assert list(orders.buyer) == [0, 3] and list(orders.seller) == [0, 3]
    assert list(orders.amount) == [8000, 8000]
    assert np.all(orders.self_purchase)


def test_sharing_intensity_is_poisson_in_effort():
    _, _, people, _, model = world(
        [(0, i) for i in range(1, 11)], 11, sharing={"shares_per_day": 4.0}
    )
    people.join(np.array([0]), np.array([-1]), 0)
    people.effort[0] = 0.5
    sharing, streams = model.mechanism("sharing"), model.world.streams
    counts = []
    for day in range(1, 2001):
        streams.start_day(day)
        counts.append(sharing.share().size)
    assert np.mean(counts) == pytest.approx(2.0, rel=0.05)
    assert np.var(counts) == pytest.approx(2.0, rel=0.1)
    assert set(sharing.share().receiver) <= set(range(1, 11))


def test_a_contact_joins_when_the_benefit_it_sees_beats_fee_and_effort():
    sections = {
        "recruitment": {"invite": "every_step", "invite_prob": 1.0, "horizon_days": 10.0},
        "commission": {"entry_fee": 50.0},
        "purchase": {"self_purchase_prob": 0.0},
        "trust": {"baseline": 0.5},
    }
    _, _, people, _, model = world([(0, 1), (0, 2)], 3, **sections)
    model.mechanism("recruitment").enrol(np.array([0]), np.array([-1]), 0)
    # 300 RMB over 10 days is read over a 30-day review period: 10 RMB a day, and
    # 10 days × trust 0.5 × 10 = 50, the fee: worth it to 1 (no effort), not to 2.
    people.income[0] = 300_00
    people.join_cost[[1, 2]] = [0.0, 1.0]
    newcomers, sponsors = model.mechanism("recruitment").recruit(day=10)
    assert list(newcomers) == [1]
    assert list(sponsors) == [0]


def test_invite_once_reaches_each_contact_the_day_after_joining_only():
    sections = {
        "recruitment": {"invite": "once", "invite_prob": 1.0, "effort_cost": 0.0},
    }
    path = [(0, 1), (1, 2), (2, 3), (3, 4)]
    _, _, people, _, model = world(path, 5, **sections)
    people.join_cost[:] = 0.0
    model.mechanism("recruitment").enrol(np.array([0]), np.array([-1]), 0)
    for day in range(1, 6):
        newcomers, sponsors = model.mechanism("recruitment").recruit(day)
        model.mechanism("recruitment").enrol(newcomers, sponsors, day)
        assert list(newcomers) == ([day] if day <= 4 else [])
    assert list(people.sponsor) == [-1, 0, 1, 2, 3]


def test_churn_on_low_income_and_inactivity():
    sections = {
        "churn": {
            "reservation_income": 1.0,
            "grace_days": 10,
            "quit_prob": 1.0,
            "inactive_days": 30,
        }
    }
    _, _, people, _, model = world(STAR, 5, **sections)
    model.mechanism("recruitment").enrol(np.arange(4), np.full(4, -1), 0)
    people.income[[0, 1, 2, 3]] = [40_00, 5_00, 40_00, 100_00]
    people.joined_day[3] = 15
    people.last_active_day[[0, 1, 2]] = [19, 19, 0]
    leavers = model.mechanism("churn").churn(day=20)
    assert list(leavers) == [1]
    leavers = model.mechanism("churn").churn(day=30)
    assert sorted(leavers) == [2]
    assert people.role[1] == FORMER and people.left_day[1] == 20


TIERS = [
    {"name": "member", "direct_rate": 0.1},
    {"name": "seller", "direct_rate": 0.2, "min_sales": 100.0},
    {
        "name": "leader",
        "direct_rate": 0.3,
        "min_sales": 100.0,
        "min_team": 2,
        "min_team_sales": 150.0,
    },
]


@pytest.mark.parametrize("demotion", [True, False])
def test_tiers_follow_the_periods_sales_team_and_team_sales(demotion):
    _, _, people, _, model = world(
        [(0, 1)], 6, tiers=TIERS, commission={"review_days": 30, "demotion": demotion}
    )
    model.mechanism("recruitment").enrol(np.arange(5), np.array([-1, 0, 1, -1, -1]), 0)
    people.leave(np.array([1]), 0)
    people.sales[:5] = [120_00, 90_00, 100_00, 99_99, 500_00]
    model.mechanism("tiers").review(day=29)
    assert list(people.tier[:5]) == [0, 0, 0, 0, 0]
    model.mechanism("tiers").review(day=30)
    # member 0: own 120, team {2} (through departed 1): 1 member, team sales 100 → seller.
    # member 4: own 500 but no team → seller; member 3 just short; member 2 → seller.
    assert list(people.tier[[0, 2, 3, 4]]) == [1, 1, 0, 1]
    people.join(np.array([1]), np.array([0]), 0)  # member 1 rejoins under member 0
    people.sales[:5] += [100_00, 60_00, 100_00, 0, 0]
    model.mechanism("tiers").review(day=60)
    # member 0: own 100, team {1, 2} sold 160 → leader; member 4 sold nothing this period.
    assert people.tier[0] == 2
    assert people.tier[4] == (0 if demotion else 1)


def test_qualification_for_team_pay_follows_last_periods_sales_and_customers():
    sections = {
        "commission": {
            "qualification_sales": 100.0,
            "qualification_customers": 2,
            "review_days": 30,
        }
    }
    _, _, people, _, model = world(STAR, 5, **sections)
    model.mechanism("recruitment").enrol(np.array([0, 1, 2]), np.full(3, -1), 0)
    assert not people.qualified[[0, 1, 2]].any()
    people.sales[[0, 1, 2]] = [200_00, 200_00, 50_00]
    people.last_seller[[3, 4]] = [0, 0]
    people.last_order_day[[3, 4]] = [5, 29]
    model.mechanism("tiers").review(day=29)
    assert not people.qualified[[0, 1, 2]].any()
    model.mechanism("tiers").review(day=30)
    assert list(people.qualified[[0, 1, 2]]) == [True, False, False]
    people.sales[0] += 50_00
    model.mechanism("tiers").review(day=60)
    assert not people.qualified[0]


def test_a_gift_package_counts_in_the_benefit_of_joining():
    sections = {
        "commission": {"entry_fee": 398.0, "package_cost": 260.0},
        "purchase": {"gross_margin": 0.35, "self_purchase_prob": 0.0},
        "recruitment": {"horizon_days": 0.0},
    }
    _, _, people, _, model = world(STAR, 5, **sections)
    people.need[[0, 1]] = [[1.0], [0.5]]
    benefit = model.mechanism("recruitment").expected_benefit(np.array([0, 1]), 0.0)
    assert benefit == pytest.approx([400.0, 200.0])


@pytest.mark.parametrize(("claim", "joins"), [(5.0, [1]), (0.0, [])])
def test_an_income_claim_lifts_what_contacts_see(claim, joins):
    sections = {
        "recruitment": {"invite_prob": 1.0, "horizon_days": 10.0, "income_claim": claim},
        "commission": {"entry_fee": 20.0},
        "purchase": {"self_purchase_prob": 0.0},
        "trust": {"baseline": 0.5},
    }
    _, _, people, _, model = world([(0, 1)], 2, **sections)
    model.mechanism("recruitment").enrol(np.array([0]), np.array([-1]), 0)
    people.join_cost[1] = 0.0
    newcomers, _ = model.mechanism("recruitment").recruit(day=1)
    assert list(newcomers) == joins


def test_counts_from_uniforms_follow_their_laws():
    rng = np.random.default_rng(3)
    u = rng.random(200_000)
    counts = poisson_from_uniform(u, np.full(u.size, 2.5))
    assert counts.mean() == pytest.approx(2.5, rel=0.01)
    assert counts.var() == pytest.approx(2.5, rel=0.02)
    trials = np.full(u.size, 40)
    hits = binomial_from_uniform(u, trials, 0.1)
    assert hits.mean() == pytest.approx(4.0, rel=0.01)
    assert hits.var() == pytest.approx(3.6, rel=0.03)
    assert list(binomial_from_uniform(u[:3], np.array([5, 0, 7]), 1.0)) == [5, 0, 7]
    big = binomial_from_uniform(u[:1000], np.full(1000, 100_000), 0.01)
    assert big.mean() == pytest.approx(1000, rel=0.01)


def test_consecutive_offsets_are_distinct_and_wrap():
    offsets = consecutive(np.array([3, 0]), np.array([4, 2]), np.array([5, 2]))
    assert list(offsets) == [3, 4, 0, 1, 0, 1]


def test_pick_one_uses_each_keys_own_draw():
    keys = np.array([7, 2, 7, 7, 2])
    uniform = np.zeros(10)
    uniform[7], uniform[2] = 0.99, 0.0
    assert sorted(pick_one(keys, lambda ids: uniform[ids])) == [1, 3]


def test_a_persons_draw_does_not_depend_on_who_else_draws():
    config = scenario(population={"size": 50, "initial_members": 0})
    one, two = Streams(9, config), Streams(9, config)
    one.start_day(4)
    two.start_day(4)
    everyone = np.arange(50)
    two.draw(SHARE_CONTACT, everyone[:10])
    assert np.array_equal(one.draw(QUIT, everyone), two.draw(QUIT, everyone))
    assert np.array_equal(one.draw(QUIT, everyone[30:]), two.draw(QUIT, everyone)[30:])
    assert not np.array_equal(one.draw(QUIT, everyone), one.draw(BAN, everyone))
    assert one.draw(BAN, everyone).min() >= 0.0 and one.draw(BAN, everyone).max() < 1
    two.start_day(5)
    assert not np.array_equal(one.draw(QUIT, everyone), two.draw(QUIT, everyone))


@pytest.mark.parametrize(("returned", "saved"), [(0.0, 2000), (1.0, 0)])
def test_the_discount_saves_members_money_on_what_they_keep(returned, saved):
    purchase = {
        "self_purchase_prob": 1.0,
        "price": 100.0,
        "member_discount": 0.2,
        "bad_experience_prob": returned,
        "refund_prob": 1.0,
    }
    _, _, people, _, model = world(STAR, 5, purchase=purchase)
    model.mechanism("purchases").self_purchase(np.array([0, 3]), day=1)
    assert list(people.discount_savings[[0, 3]]) == [saved, saved]


@pytest.mark.parametrize("longest", [1, 7, 8, 129, 5000])
def test_group_sums_are_reduceat_bit_for_bit(longest):
    rng = np.random.default_rng(longest)
    sizes = np.r_[longest, rng.integers(1, longest + 1, 30)]
    keys = rng.permutation(np.repeat(np.arange(sizes.size), sizes))
    values = np.log1p(-rng.random(keys.size) * 0.5)
    order, starts, counts = grouped(keys)
    expected = np.add.reduceat(values[order], starts)
    assert np.array_equal(
        group_sums(values, order, starts, counts).view(np.int64), expected.view(np.int64)
    )
    narrow = values.astype(np.float32)
    assert group_sums(narrow, order, starts, counts).dtype == np.float32


@pytest.mark.parametrize("size", [1, 7, 8, 129, 5000, 300_001])
def test_a_mean_and_a_count_over_ids_are_numpy_over_the_gathered_values(size):
    rng = np.random.default_rng(size)
    values = rng.random(2 * size) * rng.choice([1e-3, 1.0, 1e5], 2 * size)
    ids = np.sort(rng.choice(2 * size, size, replace=False))
    gathered = values[ids]
    assert gathered_mean(values, ids) == gathered.mean()
    threshold = float(np.median(gathered))
    expected = np.count_nonzero(gathered >= threshold)
    assert count_at_least.serial(values, ids, threshold) == expected
    assert count_at_least.parallel(values, ids, threshold) == expected


@pytest.mark.parametrize("compiled", ["serial", "parallel"])
@pytest.mark.parametrize("lift", [0.0, 0.3])
def test_member_effort_is_numpy_arithmetic_bit_for_bit(compiled, lift):
    rng = np.random.default_rng(10)
    effort, split = rng.random((2, 5000)).astype(np.float32)
    belonging = rng.random(5000)
    members = np.sort(rng.choice(5000, 3000, replace=False))
    expected = effort[members] * split[members]
    if lift:
        expected *= (1.0 + lift * belonging[members]).astype(np.float32)
    got = getattr(_efforts, compiled)(effort, split, belonging, lift, members)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.int32), expected.view(np.int32))


@pytest.mark.parametrize("compiled", ["serial", "parallel"])
def test_each_sharer_senses_its_circle_as_numpy_would_bit_for_bit(compiled):
    rng = np.random.default_rng(9)
    halves = rng.integers(1, 150, 2000)
    sender = np.repeat(np.arange(0, 4000, 2), 2 * halves)
    # Each sender's shares carry ±2⁵³ in equal numbers on top of values in [0, 1): the
    # small values a sum keeps depend on its order, so any order but NumPy's (a plain
    # pairwise sum, a running one) changes the mean by more than float32 rounding hides.
    signs = np.concatenate([rng.permutation(np.repeat([1.0, -1.0], half)) for half in halves])
    met_trust = rng.random(sender.size) + 2.0**53 * signs
    shuffle = rng.permutation(sender.size)
    sender, met_trust = sender[shuffle], met_trust[shuffle]
    circle = rng.random(4000).astype(np.float32)
    order, starts, counts = grouped(sender)
    senders = sender[order[starts]]
    expected = circle.copy()
    today = np.add.reduceat(met_trust[order], starts) / counts
    expected[senders] = 0.9 * expected[senders] + 0.1 * today
    getattr(_blend_circle, compiled)(circle, sender, met_trust, order, starts, counts)
    assert np.array_equal(circle.view(np.int32), expected.view(np.int32))


@pytest.mark.parametrize(
    ("size", "high"),
    [(3000, 2), (3000, 2**10), (3000, 2**16), (3000, 2**16 + 1), (50_000, 10**6), (9000, 2**40)],
)
def test_grouping_orders_keys_as_a_stable_sort(size, high):
    keys = np.random.default_rng(size + high).integers(0, high, size)
    keys[size // 2] = high - 1  # the widest key, so the passes are those its bits ask for
    keys[:2] = 1, 0  # out of order, so the sort is not skipped
    for typed in (keys, keys.astype(np.int32)) if high < 2**31 else (keys,):
        order, starts, counts = grouped(typed)
        assert np.array_equal(order, np.argsort(typed, kind="stable"))
        assert np.array_equal(typed[order][starts], np.unique(typed))
        assert np.array_equal(counts, np.unique(typed, return_counts=True)[1])


def test_favourite_is_the_first_product_needed_most():
    need = np.random.default_rng(3).integers(0, 4, (200, 5)).astype(np.float32)
    need[7, 2] = need[9, 0] = need[11, 4] = np.nan
    ids = np.r_[np.arange(200), [7, 9, 11, 0]]
    for kernel in (_favourites.serial, _favourites.parallel):
        assert np.array_equal(kernel(need, ids), np.argmax(need[ids], axis=1))
    assert list(_favourites(np.ones((2, 3), dtype=np.float32), np.array([1]))) == [0]


@pytest.mark.parametrize("ascending", [True, False])
def test_active_counts_each_sharer_or_seller_once(ascending):
    rng = np.random.default_rng(7)
    senders = rng.integers(0, 500, 2000)
    senders = np.sort(senders) if ascending else senders
    sellers = rng.integers(0, 800, 300)
    assert active(senders, sellers) == len(set(senders.tolist()) | set(sellers.tolist()))
    assert active(np.array([3, 3, 5]), np.array([5, 9, 9, 1])) == 4
    assert active(senders[:0], np.array([4, 4])) == 1
    assert active(np.array([2, 1]), senders[:0]) == 2


def test_a_buyers_share_is_chosen_where_its_draw_falls_in_the_running_total():
    chance = np.array([0.25, 0.5, 0.125, 0.375, 0.0, 0.5])
    order = np.array(
        [1, 4, 0, 2, 3, 5]
    )  # runs of chance[order]: [0.5, 0] [0.25, 0.125, 0.375] [0.5]
    first, last = np.array([0, 2, 5]), np.array([1, 4, 5])
    # running total 0.5, 0.5 | 0.75, 0.875, 1.25 | 1.75: a draw of 0.5 in the second run
    # lands on 0.5 + 0.5 × 0.75 = 0.875, the end of its second share: the third is chosen
    picks = _pick(chance, order, first, last, np.array([0.99, 0.5, 0.0]))
    assert list(picks) == [0, 4, 5]
    assert list(_pick(chance, order, first, last, np.array([0.0, 0.0, 0.5]))) == [0, 2, 5]
    rng = np.random.default_rng(2)
    chance, order = rng.random(1000) ** 3, rng.permutation(1000)
    first = np.sort(rng.choice(1000, 80, replace=False))
    last = np.r_[first[1:] - 1, 999]
    uniform = rng.random(80)
    weight = np.cumsum(chance[order])
    before = np.where(first > 0, weight[np.maximum(first - 1, 0)], 0.0)
    found = np.searchsorted(weight, before + uniform * (weight[last] - before), side="right")
    assert np.array_equal(_pick(chance, order, first, last, uniform), np.minimum(found, last))


def test_spread_contacts_are_each_members_contacts_at_its_spread_fractions():
    graph = graph_from_pairs(6, [(0, 1), (0, 2), (0, 3), (1, 2), (4, 1)])  # 5 has no contact
    members, counts = np.array([0, 5, 1, 4]), np.array([3, 2, 0, 2])
    uniform = np.array([0.9, 0.3, 0.5, 0.1])
    fractions = spread(uniform, counts)
    assert np.allclose(fractions[:3], np.modf(0.9 + np.arange(3) * WEYL)[0])
    sender, receiver, tie = graph.spread_contacts(members, counts, uniform)
    expected = graph.contacts_at_fraction(np.repeat(members, counts), fractions)
    assert [list(a) for a in (sender, receiver, tie)] == [list(a) for a in expected]
    assert list(sender) == [0, 0, 0, 4, 4]
    assert list(receiver) == [3, 2, 1, 1, 1]  # row of 0 is [1, 2, 3]: ⌊3 × frac(0.9 + kφ)⌋
    assert all(graph.indices[tie] == receiver)
    well_mixed = WellMixedGraph(4)
    sender, receiver, _ = well_mixed.spread_contacts(np.array([2]), np.array([3]), np.array([0.0]))
    assert list(sender) == [2, 2, 2] and 2 not in receiver


def test_a_trust_exactly_at_its_floor_is_not_below_it():
    floor = 0.7  # float32(0.7) < 0.7 in float64: compared in trust's own precision
    sections = {
        "churn": {"quit_prob": 1.0, "circle_trust_floor": floor, "platform_trust_floor": floor}
    }
    _, _, people, _, model = world(STAR, 5, **sections)
    model.mechanism("recruitment").enrol(np.arange(4), np.full(4, -1), 0)
    people.income[:4] = 1_000_00
    people.circle_trust[:4] = [floor, floor, np.nextafter(np.float32(floor), 0), floor]
    people.platform_trust[:4] = [floor, np.nextafter(np.float32(floor), 0), floor, floor]
    assert sorted(model.mechanism("churn").churn(day=1)) == [1, 2]


def test_scaling_trust_multiplies_what_is_read_then_clips_it():
    graph = graph_from_pairs(3, [(0, 1), (1, 2)])  # four directed ties
    config = scenario(trust={"baseline": 0.5, "recovery_rate": 0.1}).trust
    trust, other = TieTrust(graph, config), TieTrust(graph, config)
    for each in (trust, other):
        each.write(np.array([0]), np.array([0.9]), day=2)
    ties, factor = np.array([0, 1, 3]), np.array([0.5, 3.0, 1.0])
    trust.scale(ties, factor, day=4)
    recovered = 0.5 + (np.float32(0.9) - 0.5) * math.exp(-0.1 * 2)
    assert trust.read(ties, 4) == pytest.approx([np.float32(recovered * 0.5), 1.0, 0.5])
    assert list(trust.read(np.array([2]), 4)) == [0.5]  # untouched
    other.write(ties, other.read(ties, 4) * factor, day=4)
    assert np.array_equal(trust.read(ties, 6), other.read(ties, 6))
    trust.scale(ties, factor, day=3)  # a tie touched after the day: the general way
    other.write(ties, other.read(ties, 3) * factor, day=3)
    assert np.array_equal(trust.read(ties, 6), other.read(ties, 6))
