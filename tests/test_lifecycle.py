"""Order brushing and its audit, hype and after-sales: hand-built cases, and each
mechanism moving its metric in the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.agents.consumers import Consumers
from simulation.agents.members import Members
from simulation.commission.orders import FAKE_BUYER, NO_REFUND
from simulation.world.people import FORMER, MEMBER, People
from simulation.world.streams import Streams
from simulation.world.trust import TieTrust
from tests.conftest import SCENARIOS, graph_from_pairs, scenario

PRICE, COST = 10000, 6500


def brushing_world(**sections) -> tuple[People, Members]:
    config = scenario(
        population={"size": 10, "initial_members": 0},
        commission={"tier_sales": [0.0, 1000.0], "direct_rate": [0.10, 0.30]},
        brushing={
            "max_orders_per_day": 3,
            "cost_share": 0.15,
            "horizon_days": 100.0,
            "reach_days": 2,
        },
        **sections,
    )
    people = People(10)
    members = Members(people, None, None, config, Streams(1, config))
    members.join(np.array([0, 1, 2]), np.full(3, -1), day=0)
    return people, members


def test_members_near_a_tier_threshold_brush_the_orders_they_need():
    people, members = brushing_world(platform={"audit_rate": 0.0})
    people.sales[[0, 1, 2]] = [800_00, 0, 990_00]
    orders = members.brush(day=10, price=PRICE, cost_of_goods=COST)
    # member 0: 2 orders reach the tier; gain per order 10 + 0.2·80·100/2 − 15 > 0.
    # member 1: 10 orders away (more than 3·2): volume alone pays 10 − 15 < 0.
    # member 2: one order away.
    assert sorted(orders.seller) == [0, 0, 2]
    assert np.all(orders.buyer == FAKE_BUYER) and np.all(orders.brushed)
    assert np.all(orders.refund_day == NO_REFUND)
    assert list(people.brush_cost[[0, 1, 2]]) == [2 * 1500, 0, 1500]


def test_volume_brushing_pays_when_the_rate_beats_the_cost():
    people, members = brushing_world(platform={"audit_rate": 0.0})
    people.sales[1] = 2000_00
    people.tier[1] = 1
    orders = members.brush(day=10, price=PRICE, cost_of_goods=COST)
    assert list(orders.seller) == [1, 1, 1]


def test_a_stiff_audit_deters_brushing():
    people, members = brushing_world(
        platform={"audit_rate": 1.0, "detection_power": 1.0, "ban_prob": 1.0}
    )
    people.sales[[0, 2]] = [800_00, 990_00]
    people.income[[0, 2]] = 5000_00
    assert members.brush(day=10, price=PRICE, cost_of_goods=COST).size == 0


def test_caught_brushers_are_banned_and_their_fakes_voided():
    people, members = brushing_world(
        platform={"audit_rate": 1.0, "detection_power": 1.0, "ban_prob": 1.0}
    )
    people.sales[2] = 990_00
    orders = members.brush(day=10, price=PRICE, cost_of_goods=COST)
    assert list(orders.refund_day) == [11]
    banned = members.ban(orders.seller, day=10)
    assert list(banned) == [2] and people.role[2] == FORMER
    assert people.role[0] == MEMBER


def run(**overrides):
    model = SocialCommerceModel(load_scenario(SCENARIOS / "baseline.toml", overrides))
    model.run()
    return model.summary()


def test_brushing_acts_in_the_baseline_and_audits_catch_it():
    on = run()
    off = run(**{"brushing.max_orders_per_day": 0})
    assert on["brushed_order_share"] > 0.002 and off["brushed_order_share"] == 0
    assert on["gmv"] > off["gmv"]
    audited = run(**{"platform.audit_rate": 0.6})
    assert audited["brushed_order_share"] < 0.5 * on["brushed_order_share"]


def test_hype_lifts_conversion_now_and_refunds_later():
    calm = run(**{"sharing.hype_mean": 0.0})
    hyped = run(**{"sharing.hype_mean": 1.0})
    assert hyped["gmv"] > 1.2 * calm["gmv"]
    assert hyped["refund_rate"] > 1.5 * calm["refund_rate"]


def test_disappointment_rises_with_the_sellers_hype():
    config = scenario(
        population={"size": 4, "initial_members": 0}, purchase={"bad_experience_prob": 0.1}
    )
    people = People(4)
    people.hype[[0, 1]] = [0.0, 4.0]
    graph = graph_from_pairs(4, [(0, 2), (1, 3)])
    consumers = Consumers(people, TieTrust(graph, config.trust), config, Streams(0, config))
    assert consumers.disappointment(np.array([0, 1, -1])) == pytest.approx([0.1, 0.5, 0.1])


def test_refund_concentration_is_the_gini_of_refunds_across_sellers():
    summary = run(**{"sharing.hype_mean": 1.0})
    assert 0 < summary["refund_concentration"] < 1
