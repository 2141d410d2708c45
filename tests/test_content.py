"""The content channel (§7.16): the follower graph, exposures, flash prices, content
fatigue, orders and recruitment through content, on hand-built cases and small runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from simulation.mechanisms.base import Day, Mechanism
from simulation.mechanisms.content import top_share
from simulation.model import SocialCommerceModel
from simulation.scenario import ScenarioError, load_scenario
from simulation.scenario.schema import ContentConfig
from simulation.world.followers import FollowerGraph, audience_sizes, build_followers
from simulation.world.footprint import PER_FOLLOW, footprint
from simulation.world.generators import build_graph
from simulation.world.orders import PLATFORM
from tests.conftest import SCENARIOS, hand_model, scenario

rng = np.random.default_rng
STAR = [(0, 1), (0, 2), (0, 3)]
# Everything a reached follower in the market is offered, it buys: trust, quality and
# need make p = 1 (price at market: no price effect, no fatigue effect).
CERTAIN = {
    "purchase": {
        "conversion": 1.0,
        "price": 100.0,
        "market_price": 100.0,
        "fatigue_sensitivity": 0.0,
        "bad_experience_prob": 0.0,
        "self_purchase_prob": 0.0,
    },
    "sharing": {"shares_per_day": 0.0},
}


def content_model(n, pairs, follows, platform_hosts=0, content=None, **sections):
    """A hand model of n people on `pairs`, whose follower graph is `follows`
    ((host, follower) pairs; hosts n.. are platform-run), with person 0 a member of
    effort 1 and the content channel configured by `content`."""
    sections = {"content": {"effort_share": 1.0, **(content or {})}} | sections
    model = hand_model(pairs, n, **sections)
    host, follower = (np.array(side, dtype=np.int64) for side in zip(*follows, strict=True))
    graph = FollowerGraph.from_pairs(n, n + platform_hosts, host, follower, model.world.graph)
    model.mechanism("content").follow(graph)
    people = model.world.people
    model.mechanism("recruitment").enrol(np.array([0]), np.array([-1]), 0)
    people.effort[0] = 1.0
    return model


def test_a_follower_graph_is_deterministic_heavy_tailed_and_local():
    n = 20_000
    graph = build_graph(scenario().graph, n, rng(1))
    config = ContentConfig(mean_followers=20.0, follower_exponent=2.0, local_share=0.5)
    first = build_followers(config, graph, rng(7))
    again = build_followers(config, graph, rng(7))
    other = build_followers(config, graph, rng(8))
    assert np.array_equal(first.indptr, again.indptr)
    assert np.array_equal(first.follower, again.follower)
    assert not np.array_equal(first.indptr, other.indptr)
    audience = first.audience[:n]
    # Repeats and self-follows are dropped, so under the mean drawn: a large audience's
    # local half saturates its 2-hop neighbourhood.
    assert 17.0 < audience.mean() < 20.0
    drawn = audience_sizes(config.model_copy(update={"follower_exponent": 3.0}), n, rng(2))
    assert drawn.mean() == pytest.approx(20.0, rel=0.03)
    assert drawn.min() >= math.floor(20.0 * 2 / 3)
    # Five platform-run hosts of 500 uniform draws each, repeats dropped: about
    # n(1 − e^(−500/n)) ≈ 494 distinct followers.
    assert first.hosts == n + 5
    assert np.all(np.abs(first.audience[n:] - n * (1 - math.exp(-500 / n))) < 8)
    # Pareto with α = 2: the top 1% hold 0.01^(1 − 1/α) = 10% of follows; a thin tail
    # (audiences of about 20 each) would give them about 2%.
    top = np.sort(audience)[-n // 100 :].sum() / audience.sum()
    assert 0.07 < top < 0.14
    thin = build_followers(config.model_copy(update={"follower_exponent": 50.0}), graph, rng(7))
    assert np.sort(thin.audience[:n])[-n // 100 :].sum() / thin.audience[:n].sum() < 0.03
    # Local: half the follows come from 2 hops; uniform follows would be within 2 hops
    # about (2-hop neighbourhood) / n ≈ 1% of the time.
    adjacency = sp.csr_matrix(
        (np.ones(graph.indices.size), graph.indices, graph.indptr), shape=(n, n)
    )
    near = ((adjacency + adjacency @ adjacency) > 0).tocsr()
    host = np.repeat(np.arange(n), audience)
    follower = first.follower[: first.indptr[n]]
    within = np.asarray(near[host, follower]).ravel()
    assert 0.45 < within.mean() < 0.56
    assert np.array_equal(
        first.tied[: first.indptr[n]], np.asarray(adjacency[host, follower]).ravel() > 0
    )
    assert not first.tied[first.indptr[n] :].any()
    assert np.all(follower != host)


def test_every_follower_is_reached_once_at_full_reach_and_the_ties_are_known():
    follows = [(0, 1), (0, 2), (0, 5), (6, 3), (6, 4)]
    model = content_model(
        6, STAR, follows, platform_hosts=1, content={"posts_per_day": 50.0, "reach": 1.0}
    )
    host, follower, tied = model.mechanism("content").expose(day=1)
    assert sorted(zip(host.tolist(), follower.tolist(), tied.tolist(), strict=True)) == [
        (0, 1, True),
        (0, 2, True),
        (0, 5, False),
        (6, 3, False),
        (6, 4, False),
    ]


def test_expected_exposures_follow_the_closed_form():
    # A host of effort 1 with F followers, posts ~ Poisson(λ), each reaching a follower
    # with chance r: a follower is reached with chance 1 − E[(1 − r)^K] = 1 − exp(−λr).
    followers = 2000
    follows = [(0, i) for i in range(1, followers + 1)]
    model = content_model(
        followers + 1, STAR, follows, content={"posts_per_day": 2.0, "reach": 0.1}
    )
    content, streams = model.mechanism("content"), model.world.streams
    seen = []
    for day in range(1, 201):
        streams.start_day(day)
        seen.append(content.expose(day)[0].size)
    assert np.mean(seen) == pytest.approx(followers * (1 - math.exp(-0.2)), rel=0.03)


def test_a_live_day_widens_reach_and_sells_at_the_flash_price():
    follows = [(0, 1), (0, 2), (0, 3)]
    content = {
        "posts_per_day": 50.0,
        "reach": 0.0,
        "live_every_days": 3,
        "live_reach": 1.0,
        "live_discount": 0.2,
        "trust": 1.0,
    }
    model = content_model(4, STAR, follows, content=content, **CERTAIN)
    people, mechanism = model.world.people, model.mechanism("content")
    model.world.streams.start_day(2)
    assert mechanism.expose(day=2)[0].size == 0
    model.world.streams.start_day(3)
    host, follower, _ = mechanism.expose(day=3)
    orders, hosts = mechanism.convert(host, follower, day=3)
    assert sorted(orders.buyer) == [1, 2, 3]
    assert list(orders.amount) == [8000] * 3
    assert list(orders.seller) == [0] * 3 and list(hosts) == [0] * 3
    assert list(people.last_seller[[1, 2, 3]]) == [0] * 3
    assert list(people.last_tie[[1, 2, 3]]) == [-1] * 3
    # The day after, at list price (followers back in the market).
    people.next_due[[1, 2, 3]] = 0
    orders, _ = mechanism.convert(host, follower, day=4)
    assert list(orders.amount) == [10000] * 3


def test_a_platform_hosts_sales_are_the_platforms():
    model = content_model(
        3, [(0, 1)], [(3, 1), (3, 2)], platform_hosts=1, content={"trust": 1.0}, **CERTAIN
    )
    mechanism = model.mechanism("content")
    orders, hosts = mechanism.convert(np.array([3, 3]), np.array([1, 2]), day=1)
    assert list(orders.seller) == [PLATFORM, PLATFORM]
    assert list(hosts) == [3, 3]


def test_conversion_scales_with_trust_quality_and_content_fatigue():
    followers = 40_000
    follows = [(0, i) for i in range(1, followers + 1)]
    purchase = CERTAIN["purchase"] | {"conversion": 0.5, "fatigue_sensitivity": 0.5}
    model = content_model(
        followers + 1,
        STAR,
        follows,
        content={"trust": 0.4, "quality": 1.5, "posts_per_day": 50.0, "reach": 1.0},
        purchase=purchase,
    )
    people, mechanism = model.world.people, model.mechanism("content")
    people.need[:] = 0.5
    host, follower, _ = mechanism.expose(day=1)  # fatigue 1 each
    orders, _ = mechanism.convert(host, follower, day=1)
    expected = 0.5 * 1.5 * 0.4 * 0.5 * math.exp(-0.5)
    assert orders.size / followers == pytest.approx(expected, abs=0.01)


def test_content_fatigue_decays_as_tie_fatigue_does():
    follows = [(0, 1), (2, 1)]
    model = content_model(3, [(0, 1), (1, 2)], follows, trust={"fatigue_decay": 0.3})
    mechanism, people = model.mechanism("content"), model.world.people
    mechanism.tire(np.array([1, 1]), day=1)
    assert people.content_fatigue[1] == 2.0
    assert mechanism.fatigue_of(np.array([1]), 4)[0] == pytest.approx(2 * math.exp(-0.9))
    mechanism.tire(np.array([1]), day=4)
    assert people.content_fatigue[1] == pytest.approx(2 * math.exp(-0.9) + 1)
    assert people.fatigue[1] == 0.0  # tie fatigue is a separate channel


def test_followers_reached_join_when_the_benefit_seen_beats_the_cost():
    sections = {
        "recruitment": {"horizon_days": 10.0, "income_claim": 0.0},
        "commission": {"entry_fee": 50.0},
        "purchase": {"self_purchase_prob": 0.0},
    }
    # 300 RMB over 10 days read over a 30-day review period: 10 RMB a day; seen at content
    # trust 0.5 over 10 days, 50, the fee: worth it to 1 (no effort cost), not to 2.
    model = content_model(
        3, [], [(0, 1), (0, 2)], content={"recruit": 1.0, "trust": 0.5}, **sections
    )
    people = model.world.people
    people.income[0] = 300_00
    people.join_cost[[1, 2]] = [0.0, 1.0]
    newcomers, sponsors = model.mechanism("content").invite(
        np.array([0, 0]), np.array([1, 2]), day=10
    )
    assert list(newcomers) == [1] and list(sponsors) == [0]
    never = content_model(
        3, [], [(0, 1), (0, 2)], content={"recruit": 0.0, "trust": 0.5}, **sections
    )
    never.world.people.income[0] = 300_00
    never.world.people.join_cost[:] = 0.0
    assert never.mechanism("content").invite(np.array([0, 0]), np.array([1, 2]), 10)[0].size == 0


def test_a_content_buyer_reorders_from_its_host_at_content_trust_without_a_tie():
    model = content_model(
        3, [(1, 2)], [(0, 1)], content={"trust": 1.0}, purchase={"repurchase_prob": 1.0}
    )
    people, trust = model.world.people, model.world.trust
    people.next_due[1] = 7
    people.last_seller[1], people.last_tie[1] = 0, -1
    before = trust.read(np.arange(model.world.graph.n_ties), 7).copy()
    orders = model.mechanism("purchases").repurchase(day=7)[0]
    assert list(orders.buyer) == [1] and list(orders.seller) == [0]
    assert np.array_equal(trust.read(np.arange(model.world.graph.n_ties), 7), before)


def test_private_sharing_keeps_one_minus_the_content_share_of_effort():
    model = hand_model(
        [(0, i) for i in range(1, 11)],
        11,
        sharing={"shares_per_day": 4.0},
        content={"effort_share": 0.75},
    )
    people = model.world.people
    people.join(np.array([0]), np.array([-1]), 0)
    people.effort[0] = 0.5
    sharing, streams = model.mechanism("sharing"), model.world.streams
    counts = []
    for day in range(1, 2001):
        streams.start_day(day)
        counts.append(sharing.share().size)
    assert np.mean(counts) == pytest.approx(4.0 * 0.5 * 0.25, rel=0.07)


def test_top_share_of_hosts():
    assert top_share(np.array([1] * 99 + [100]), 0.01) == pytest.approx(100 / 199)
    assert top_share(np.array([5, 5]), 0.01) == 0.5
    assert top_share(np.zeros(3, dtype=np.int64), 0.01) == 0.0


SMALL = {
    "run": {"steps": 40, "seed": 5},
    "population": {"size": 1500, "initial_members": 30},
    "graph": {"kind": "watts_strogatz", "mean_degree": 10},
}


class Channels(Mechanism):
    """Records, after settlement, how many orders each channel placed and how many
    were settled."""

    name = "channels"
    after = "settlement"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.days: list[tuple[dict[str, int], int]] = []

    def step(self, day: Day) -> None:
        self.days.append(({k: v.size for k, v in day.orders.items()}, day.settled.size))


def test_with_content_on_orders_by_channel_add_up_and_content_reaches_beyond_ties():
    config = scenario(**SMALL, content={"effort_share": 0.5, "live_every_days": 5, "recruit": 0.05})
    model = SocialCommerceModel(config, extra=(Channels,))
    model.run()
    days = model.datacollector.get_model_vars_dataframe()
    recorded = model.mechanism("channels").days
    for (by_channel, settled), content_orders in zip(recorded, days["content_orders"], strict=True):
        assert sum(by_channel.values()) == settled
        assert by_channel["content"] == content_orders
    assert days["content_orders"].sum() > 0
    assert (days["orders"] >= days["content_orders"]).all()
    summary = model.summary()
    assert summary["content_orders"] == days["content_orders"].sum()
    assert summary["content_exposures"] == days["content_exposures"].sum()
    assert summary["all_exposures"] == days["content_exposures"].sum() + days["exposures"].sum()
    assert summary["content_gmv"] == pytest.approx(days["content_gmv"].sum())
    assert summary["content_new_members"] == days["content_new_members"].sum()
    assert 0 < summary["reach_beyond_ties"] <= 1
    assert summary["content_new_members"] > 0
    assert 0 < summary["content_gmv_share"] < 1
    assert 0 < summary["content_top1_share"] <= 1
    # Content meets trust 0.15, shares meet tie trust near 0.5: the mean falls between.
    assert 0.15 < summary["exposure_trust"] < 0.5


def test_content_off_changes_nothing_whatever_its_other_keys():
    plain = SocialCommerceModel(scenario(**SMALL))
    plain.run()
    content = {
        "mean_followers": 3.0,
        "platform_hosts": 9,
        "posts_per_day": 4.0,
        "reach": 0.9,
        "live_every_days": 2,
        "recruit": 0.5,
    }
    dark = SocialCommerceModel(scenario(**SMALL, content=content))
    dark.run()
    a = plain.datacollector.get_model_vars_dataframe()
    b = dark.datacollector.get_model_vars_dataframe()
    assert a.equals(b)
    assert (a["content_exposures"] == 0).all() and (a["content_orders"] == 0).all()
    assert dark.mechanism("content").graph is None  # never drawn


class Receivers(Mechanism):
    """Records everyone who received a share, right after sharing."""

    name = "receivers"
    after = "sharing"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.seen: set[int] = set()

    def step(self, day: Day) -> None:
        self.seen |= set(day.shares.receiver.tolist())


def test_people_reached_are_the_share_receivers_when_content_is_off():
    model = SocialCommerceModel(scenario(**SMALL), extra=(Receivers,))
    model.run()
    seen = model.mechanism("receivers").seen
    assert set(np.flatnonzero(model.world.people.reached).tolist()) == seen
    assert model.summary()["people_reached"] == len(seen) / 1500


def test_the_footprint_counts_the_follower_graph_only_when_content_may_run():
    off = scenario(population={"size": 10_000})
    on = scenario(population={"size": 10_000}, content={"effort_share": 0.2})
    later = scenario(
        population={"size": 10_000},
        run={"steps": 10},
        interventions=[{"day": 5, "set": {"content.effort_share": 0.2}}],
    )
    follows = 10_000 * 20.0 + 5 * 500
    assert footprint(on).bytes - footprint(off).bytes == pytest.approx(PER_FOLLOW * follows)
    assert footprint(later).bytes == footprint(on).bytes


def test_a_flash_discount_of_the_whole_price_is_refused_at_load():
    """A 100% discount would price a live-day order at 0 (and its demand factor
    (1 − d)^−ε at infinity): refused at load, in one line, not mid-run."""
    with pytest.raises(ScenarioError, match="live_discount"):
        load_scenario(SCENARIOS / "baseline.toml", {"content.live_discount": 1.0})
    assert load_scenario(SCENARIOS / "baseline.toml", {"content.live_discount": 0.99})
