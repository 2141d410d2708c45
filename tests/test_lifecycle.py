"""Order brushing and its audit, hype and after-sales: hand-built cases, and each
mechanism moving its metric in the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.mechanisms.base import Day, Shares
from simulation.world.orders import FAKE_BUYER, NO_REFUND
from simulation.world.people import FORMER, MEMBER, People
from tests.conftest import SCENARIOS, hand_model, scenario


def brushing_world(**sections) -> tuple[People, SocialCommerceModel]:
    tiers = [
        {"name": "a", "direct_rate": 0.10},
        {"name": "b", "direct_rate": 0.30, "min_sales": 1000.0},
    ]
    model = hand_model(
        [],
        10,
        tiers=sections.pop("tiers", tiers),
        commission={"review_days": 100},
        purchase={"price": 100.0, "gross_margin": 0.35},
        brushing={
            "max_orders_per_day": 3,
            "cost_share": 0.15,
            "horizon_days": 100.0,
            "reach_days": 2,
        },
        **sections,
    )
    model.mechanism("recruitment").enrol(np.array([0, 1, 2]), np.full(3, -1), 0)
    return model.world.people, model


def test_members_near_a_tier_threshold_brush_the_orders_they_need():
    people, model = brushing_world(platform={"audit_rate": 0.0})
    people.sales[[0, 1, 2]] = [800_00, 0, 990_00]
    orders = model.mechanism("brushing").brush(10)
    # member 0: 2 orders reach the tier; real sales read over the 100-day period are RMB 8
    # a day, so the gain per order is 10 + 0.2·8·100/2 − 15 > 0.
    # member 1: 10 orders away (more than 3·2): volume alone pays 10 − 15 < 0.
    # member 2: one order away.
    assert sorted(orders.seller) == [0, 0, 2]
    assert np.all(orders.buyer == FAKE_BUYER) and np.all(orders.brushed)
    assert np.all(orders.refund_day == NO_REFUND)
    assert list(people.brush_cost[[0, 1, 2]]) == [2 * 1500, 0, 1500]


def test_volume_brushing_pays_when_the_rate_beats_the_cost():
    people, model = brushing_world(platform={"audit_rate": 0.0})
    people.sales[1] = 2000_00
    people.tier[1] = 1
    orders = model.mechanism("brushing").brush(10)
    assert list(orders.seller) == [1, 1, 1]


def test_a_stiff_audit_deters_brushing():
    people, model = brushing_world(
        platform={"audit_rate": 1.0, "detection_power": 1.0, "ban_prob": 1.0}
    )
    people.sales[[0, 2]] = [800_00, 990_00]
    people.income[[0, 2]] = 5000_00
    assert model.mechanism("brushing").brush(10).size == 0


def test_caught_brushers_are_banned_and_their_fakes_voided():
    people, model = brushing_world(
        platform={"audit_rate": 1.0, "detection_power": 1.0, "ban_prob": 1.0}
    )
    people.sales[2] = 990_00
    orders = model.mechanism("brushing").brush(10)
    assert list(orders.refund_day) == [11]
    banned = model.mechanism("audits").ban(orders.seller, 10)
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
    assert on["brushed_gmv"] > 0 and off["brushed_gmv"] == 0
    audited = run(**{"platform.audit_rate": 0.6})
    assert audited["brushed_order_share"] < 0.5 * on["brushed_order_share"]


def test_hype_lifts_conversion_now_and_refunds_later():
    calm = run(**{"sharing.hype_mean": 0.0})
    hyped = run(**{"sharing.hype_mean": 1.0})
    assert hyped["gmv"] > 1.2 * calm["gmv"]
    assert hyped["refund_rate"] > 1.5 * calm["refund_rate"]


def test_disappointment_rises_with_the_sellers_hype():
    sections = {"purchase": {"bad_experience_prob": 0.1}}
    model = hand_model([(0, 2), (1, 3)], 4, **sections)
    model.world.people.hype[[0, 1]] = [0.0, 4.0]
    product = np.zeros(3, dtype=np.int64)
    chance = model.mechanism("purchases").disappointment(np.array([0, 1, -1]), product)
    assert chance == pytest.approx([0.1, 0.5, 0.1])


def test_refund_concentration_is_the_gini_of_refunds_across_sellers():
    summary = run(**{"sharing.hype_mean": 1.0})
    assert 0 < summary["refund_concentration"] < 1


def competition_world(**competitor) -> SocialCommerceModel:
    config = scenario(
        run={"steps": 10},
        population={"size": 50, "initial_members": 0},
        graph={"kind": "erdos_renyi", "mean_degree": 4},
        recruitment={"horizon_days": 100.0},
        churn={"switching_cost": 200.0},
        purchase={"price_elasticity": 1.0},
        competitors=[{"name": "rival", "launch_day": 1, "poach_prob": 1.0} | competitor],
    )
    model = SocialCommerceModel(config)
    model.mechanism("recruitment").enrol(np.arange(3), np.full(3, -1), 0)
    model.world.people.effort[:3] = 0.8
    return model


def rival_day(model: SocialCommerceModel, day: int) -> Day:
    """The events of `day` after the first competitor's turn alone."""
    events = Day(day, model.policy)
    model.mechanism("competition").competitors[0].step(events)
    return events


def test_an_approached_member_switches_multi_homes_or_stays_by_the_money():
    model = competition_world(direct_rate=0.2, discount=0.0)
    people = model.world.people
    people.joined_day[:3] = -10
    day = 1
    tenure = day + 10
    people.sales[:3] = np.array([200, 200, 200]) * 100 * tenure
    people.income[:3] = np.array([50, 39, 20]) * 100 * tenure
    events = rival_day(model, day)
    # theirs = 0.2·200 = 40 RMB/day. Member 0 earns 50: stays. Member 1 earns 39: gains
    # 1·100 < 200, multi-homes. Member 2 earns 20: gains 20·100 > 200, switches.
    assert list(events.leavers["switched"]) == [2]
    assert people.role[2] == FORMER
    assert list(people.multi_homing[:3]) == [False, True, False]
    effort = people.effort * people.effort_split
    assert effort[1] == pytest.approx(0.8 * 39 / (39 + 40))
    assert effort[0] == pytest.approx(0.8)


def test_a_competitor_before_its_launch_does_nothing():
    model = competition_world(launch_day=5)
    events = rival_day(model, 3)
    assert events.competitor_pull == 0.0 and "switched" not in events.leavers
    assert not model.world.people.multi_homing.any()


def test_competitor_pull_takes_repeat_buyers():
    model = competition_world(quality=1.0, reach=1.0, discount=0.0)
    assert rival_day(model, 4).competitor_pull == pytest.approx(1.0)
    people = model.world.people
    people.next_due[10:50] = 4
    orders, lost = model.mechanism("purchases").repurchase(day=4, pull=1000.0)
    assert orders.size == 0 and lost == 40
    assert np.all(people.next_due[10:50] == 4 + model.policy.purchase.repurchase_days)


def test_competitor_entry_moves_churn_and_multi_homing_in_the_baseline():
    rival = {
        "name": "rival",
        "launch_day": 120,
        "direct_rate": 0.2,
        "discount": 0.1,
        "quality": 0.6,
        "reach": 0.3,
        "poach_prob": 0.02,
    }
    base = load_scenario(SCENARIOS / "baseline.toml")
    alone = SocialCommerceModel(base)
    alone.run()
    contested = SocialCommerceModel(
        base.model_copy(
            update={
                "competitors": [
                    type(base).model_fields["competitors"].annotation.__args__[0](**rival)
                ]
            }
        )
    )
    contested.run()
    quiet, busy = alone.summary(), contested.summary()
    assert quiet["churned_to_competitors"] == 0 and quiet["multi_homing_share"] == 0
    assert busy["churned_to_competitors"] > 20 and busy["multi_homing_share"] > 0.1
    days = contested.datacollector.get_model_vars_dataframe()
    assert days["orders_lost_to_competitors"].iloc[:119].sum() == 0
    assert days["orders_lost_to_competitors"].iloc[119:].sum() > 0
    assert busy["gmv"] < quiet["gmv"]


def test_a_members_sense_of_its_circle_is_a_running_mean_of_trust_met():
    people, model = brushing_world()
    people.circle_trust[:3] = 0.5
    shares = Shares(np.array([0, 0, 1]), np.array([5, 6, 7]), np.array([0, 1, 2]))
    model.mechanism("exposure").sense_circle(shares, np.array([0.2, 0.4, 0.9]))
    assert people.circle_trust[:3] == pytest.approx([0.9 * 0.5 + 0.1 * 0.3, 0.54, 0.5])


def test_worn_out_circles_and_wary_members_quit():
    people, model = brushing_world(
        churn={
            "circle_trust_floor": 0.4,
            "platform_trust_floor": 0.3,
            "quit_prob": 1.0,
            "reservation_income": 0.0,
            "inactive_days": 0,
        }
    )
    people.circle_trust[:3] = [0.5, 0.3, 0.5]
    people.platform_trust[:3] = [0.5, 0.5, 0.2]
    assert sorted(model.mechanism("churn").churn(day=5)) == [1, 2]


def test_disappointed_buyers_leave_the_market():
    model = hand_model(
        [(0, 1), (2, 3)],
        4,
        churn={"platform_trust_floor": 0.3},
        trust={"bad_purchase_loss": 0.5, "good_purchase_gain": 0.1, "baseline": 0.5},
    )
    people, purchases = model.world.people, model.mechanism("purchases")
    purchases.judge_platform(np.array([1]), np.array([2]))
    assert people.platform_trust[[1, 2]] == pytest.approx([0.25, 0.55])
    assert list(purchases.in_market(np.arange(4), day=0)) == [True, False, True, True]


def test_churn_floors_act_in_the_baseline():
    on = SocialCommerceModel(load_scenario(SCENARIOS / "baseline.toml"))
    off = SocialCommerceModel(
        load_scenario(
            SCENARIOS / "baseline.toml",
            {"churn.circle_trust_floor": 0.0, "churn.platform_trust_floor": 0.0},
        )
    )
    on.run()
    off.run()
    days_on, days_off = (m.datacollector.get_model_vars_dataframe() for m in (on, off))
    assert days_on["lapsed_consumers"].iloc[-1] > 0 == days_off["lapsed_consumers"].iloc[-1]
    early = slice(0, 150)
    assert (
        days_on["churned_members"].iloc[early].sum()
        > 1.05 * days_off["churned_members"].iloc[early].sum()
    )


def test_training_lifts_skill_with_diminishing_returns_and_costs_the_platform():
    model = hand_model(
        [(0, 1), (2, 3)], 4, platform={"training_effect": 0.5, "training_halfway": 50.0}
    )
    model.world.people.trained[:3] = [0, 50_00, 150_00]
    skill = model.mechanism("purchases").skill(np.arange(3))
    assert skill == pytest.approx([1.0, 1.25, 1.375])


def test_training_acts_in_the_baseline():
    trained = SocialCommerceModel(
        load_scenario(SCENARIOS / "baseline.toml", {"platform.training_budget": 0.3})
    )
    untrained = SocialCommerceModel(
        load_scenario(SCENARIOS / "baseline.toml", {"platform.training_budget": 0.0})
    )
    trained.run()
    untrained.run()
    assert all(b.training >= 30 for b in trained.world.ledger.books)
    assert trained.summary()["training_spend"] > 3 * untrained.summary()["training_spend"]
    late = slice(150, None)
    conversion = [
        m.datacollector.get_model_vars_dataframe()["conversion_rate"].iloc[late].mean()
        for m in (trained, untrained)
    ]
    assert conversion[0] > 1.05 * conversion[1]


def test_products_inherit_what_they_leave_out_from_purchase():
    from simulation.world.catalogue import Catalogue

    config = scenario(
        purchase={
            "price": 100.0,
            "gross_margin": 0.4,
            "bad_experience_prob": 0.05,
            "repurchase_days": 30,
            "member_discount": 0.1,
        },
        products=[
            {"name": "tea", "price": 50.0, "quality": 0.9},
            {"name": "rice", "repurchase_days": 7, "shareability": 2.0},
        ],
    )
    goods = Catalogue.from_scenario(config)
    assert list(goods.price) == [5000, 10000]
    assert list(goods.member_price) == [4500, 9000]
    assert list(goods.cost_of_goods) == [3000, 6000]
    assert goods.bad_experience == pytest.approx([0.1, 0.05])
    assert list(goods.cycle) == [30, 7] and list(goods.shareability) == [1.0, 2.0]
    assert Catalogue.from_scenario(scenario()).size == 1


CATALOGUE = [{"name": f"category {k}", "price": 60.0 + 20 * k, "quality": 0.95} for k in range(6)]


def test_matched_targeting_converts_better_than_random():
    def conversion(targeting):
        model = SocialCommerceModel(
            load_scenario(
                SCENARIOS / "baseline.toml",
                {
                    "sharing.targeting": targeting,
                    "products": CATALOGUE,
                    "run.steps": 150,
                },
            )
        )
        model.run()
        days = model.datacollector.get_model_vars_dataframe()
        return days["conversion_rate"].iloc[30:].mean()

    assert conversion("matched") > 1.15 * conversion("random")


def test_tastes_are_shared_within_circles():
    config = {"products": CATALOGUE, "graph.kind": "circles", "population.size": 4000}
    mixed = SocialCommerceModel(
        load_scenario(SCENARIOS / "baseline.toml", config | {"purchase.taste_homophily": 0.0})
    )
    shared = SocialCommerceModel(
        load_scenario(SCENARIOS / "baseline.toml", config | {"purchase.taste_homophily": 0.8})
    )

    def neighbour_correlation(model):
        graph, need = model.world.graph, model.world.people.need[:, 0]
        src = np.repeat(np.arange(graph.n), graph.degree)
        return np.corrcoef(need[src], need[graph.indices])[0, 1]

    # Blending 0.8 of the contacts' mean on 50-person circles of mean degree 20 gives
    # a neighbour correlation near 0.30 (0.29-0.32 over six seeds); none without it.
    assert abs(neighbour_correlation(mixed)) < 0.05
    assert neighbour_correlation(shared) > 0.2


def test_the_tier_ladder_acts_in_the_baseline():
    with_ladder = run()
    flat = run(tiers=[{"name": "member", "direct_rate": 0.10}])
    assert flat["brushed_order_share"] == 0 < with_ladder["brushed_order_share"]
    assert with_ladder["payout_ratio"] > flat["payout_ratio"]


def test_brushing_reads_real_sales_only():
    people, model = brushing_world(platform={"audit_rate": 0.0})
    people.sales[[0, 2]] = [900_00, 990_00]
    # Real sales of RMB 900 and 990, read over the 100-day period: 9 and 9.9 a day; the
    # tier's extra pay (0.2 × 9 × 100 = 180 for one fake) beats the cost: both brush.
    assert sorted(model.mechanism("brushing").brush(10).seller) == [0, 2]
    people.sales[[0, 2]] = [900_00 + 10_00, 990_00]
    people.faked_sales[0] = 900_00
    # Member 0's sales are fakes but RMB 10: its real rate is RMB 0.1 a day, the tier
    # is worth 0.2 × 0.1 × 100 = 2 for its one fake, short of the cost 15 − 10 direct;
    # member 2's own fake of day 10 leaves it RMB 890 of real sales: it still brushes.
    assert list(model.mechanism("brushing").brush(11).seller) == [2]


def test_no_brushing_for_a_tier_whose_team_thresholds_are_not_met():
    tiers = [
        {"name": "a", "direct_rate": 0.10},
        {"name": "b", "direct_rate": 0.30, "min_sales": 1000.0, "min_team": 2},
    ]
    people, model = brushing_world(platform={"audit_rate": 0.0}, tiers=tiers)
    people.sales[2] = 990_00
    assert model.mechanism("brushing").brush(10).size == 0
    model.mechanism("recruitment").enrol(np.array([5, 6]), np.array([2, 2]), 1)
    assert list(model.mechanism("brushing").brush(10).seller) == [2]


def test_what_a_member_sees_is_spread_over_at_least_a_review_period():
    from simulation.mechanisms.recruitment import per_day_seen

    seen = per_day_seen(np.array([300_00, 300_00]), np.array([0, 99]), 100, 30)
    assert list(seen) == pytest.approx([3.0, 10.0])
