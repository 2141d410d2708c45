"""The scenario schema: every key a scenario file may set, its type, range and default.

Sections are strict pydantic models: an unknown key, a wrong type, a value out of
range or a number that is not finite (nan, inf) is an error that names the key.
Units are given in each field's description.

Each key has a scope, marked once here: "world" keys shape what is drawn at the start
(the graph, the population, people's traits, the catalogue) and key the world's random
stream; "run" keys say what is run; every other key is "policy", which interventions
may change mid-run (`scope_of`, `world_values`).
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scope = Literal["world", "run", "policy"]
WORLD: dict[str, Any] = {"scope": "world"}
RUN: dict[str, Any] = {"scope": "run"}

THRESHOLDS = ("min_sales", "min_team", "min_team_sales")
SAFE_NAME = re.compile(r"[^\W_][\w.+-]{0,79}")
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(ge=0.0)]


class RuleError(ValueError):
    """A whole-scenario rule broken at one key (dotted, list items by index), so the
    error line can name the key and the file that set it, and where each `related`
    key it was weighed against was set."""

    def __init__(self, key: str, message: str, related: tuple[str, ...] = ()) -> None:
        self.key, self.related = key, related
        super().__init__(message)


class Section(BaseModel):
    """Base of every scenario table: strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class RunConfig(Section):
    steps: int = Field(365, ge=0, description="days to simulate")
    seed: int = Field(42, ge=0, description="seed of the run's numpy Generator")


class PopulationConfig(Section):
    size: int = Field(20_000, gt=0, description="people on the social graph")
    initial_members: int = Field(20, ge=0, description="members on day 0 (no sponsor)")
    scale: float = Field(
        1.0,
        gt=0.0,
        description="real people each simulated person stands for: counts and money are "
        "shown in real units (× scale); the simulation itself does not change",
        json_schema_extra=RUN,
    )


class _GraphBase(Section):
    mean_degree: float = Field(20.0, gt=0.0, description="mean number of ties per person")


class ErdosRenyiGraph(_GraphBase):
    kind: Literal["erdos_renyi"]


class WattsStrogatzGraph(_GraphBase):
    kind: Literal["watts_strogatz"]
    rewire_prob: Probability = Field(0.1, description="share of ring ties rewired at random")


class BarabasiAlbertGraph(_GraphBase):
    kind: Literal["barabasi_albert"]


class CirclesGraph(_GraphBase):
    kind: Literal["circles"]
    circle_size: int = Field(50, ge=2, description="people per social circle")
    within_share: Probability = Field(0.8, description="share of a person's ties inside its circle")


class CompleteGraph(Section):
    kind: Literal["complete"]


class EdgelistGraph(Section):
    kind: Literal["edgelist"]
    path: str = Field(description="file of 'u v' lines; relative to the scenario file")


GraphConfig = Annotated[
    ErdosRenyiGraph
    | WattsStrogatzGraph
    | BarabasiAlbertGraph
    | CirclesGraph
    | CompleteGraph
    | EdgelistGraph,
    Field(discriminator="kind"),
]
GRAPH_KINDS: dict[str, type[Section]] = {
    "erdos_renyi": ErdosRenyiGraph,
    "watts_strogatz": WattsStrogatzGraph,
    "barabasi_albert": BarabasiAlbertGraph,
    "circles": CirclesGraph,
    "complete": CompleteGraph,
    "edgelist": EdgelistGraph,
}


class SharingConfig(Section):
    shares_per_day: float = Field(
        3.0, ge=0.0, description="shares a member of effort 1 sends per day (Poisson mean)"
    )
    effort_mean: Probability = Field(
        0.5, description="mean member effort in [0, 1] (Beta)", json_schema_extra=WORLD
    )
    targeting: Literal["random", "matched"] = Field(
        "random",
        description="share products at random (by shareability) or matched to the contact's need",
    )
    hype_mean: float = Field(
        0.0,
        ge=0.0,
        description="mean exaggeration of members' claims (exponential across members)",
        json_schema_extra=WORLD,
    )


class TrustConfig(Section):
    baseline: Probability = Field(0.5, description="trust in a contact at start and at rest")
    recovery_rate: float = Field(0.02, ge=0.0, description="per day, toward baseline")
    fatigue_tolerance: float = Field(
        3.0, ge=0.0, description="fatigue (decayed count of shares received) a person tolerates"
    )
    fatigue_decay: float = Field(0.3, ge=0.0, description="per day, exponential")
    erosion: Rate = Field(0.1, description="share of trust lost per share beyond tolerance")
    good_purchase_gain: Rate = Field(0.1, description="share of the gap to 1 gained")
    bad_purchase_loss: Rate = Field(0.3, description="share of trust lost after a bad purchase")


class PurchaseConfig(Section):
    price: float = Field(99.0, gt=0.0, description="RMB per order at list price")
    market_price: float = Field(109.0, gt=0.0, description="RMB, the same basket elsewhere")
    price_elasticity: float = Field(1.5, ge=0.0, description="exponent of market/price")
    gross_margin: Rate = Field(0.35, description="share of the list price above cost of goods")
    conversion: Probability = Field(0.08, description="purchase chance of a share at full scores")
    need_mean: Probability = Field(
        0.5, description="mean need for each product (Beta)", json_schema_extra=WORLD
    )
    taste_homophily: Probability = Field(
        0.0,
        description="weight of contacts' needs in a person's own (circles share tastes)",
        json_schema_extra=WORLD,
    )
    fatigue_sensitivity: float = Field(0.2, ge=0.0, description="conversion × exp(-s·fatigue)")
    bad_experience_prob: Probability = Field(0.05, description="chance an order disappoints")
    refund_prob: Probability = Field(0.5, description="chance a disappointing order is returned")
    refund_days: int = Field(7, ge=1, description="days from order to refund")
    repurchase_days: int = Field(30, ge=1, description="days of a buyer's repurchase cycle")
    repurchase_prob: Probability = Field(0.5, description="chance of reordering at cycle × trust")
    self_purchase_prob: Probability = Field(0.02, description="per member per day, scaled by need")
    member_discount: Rate = Field(0.1, description="members' discount on their own orders")


class RecruitmentConfig(Section):
    invite: Literal["once", "every_step"] = Field(
        "every_step", description="members invite contacts once after joining, or every day"
    )
    invite_prob: Probability = Field(0.01, description="per member, per contact, per invitation")
    horizon_days: float = Field(
        180.0, ge=0.0, description="days of benefit a contact weighs against the entry cost"
    )
    effort_cost: Money = Field(
        100.0,
        description="RMB, mean personal cost of joining (exponential across people)",
        json_schema_extra=WORLD,
    )
    income_claim: Money = Field(
        0.0,
        description="RMB/day inviters claim to earn; contacts weigh the larger of claim and truth",
    )


class TierConfig(Section):
    """A rung of the tier ladder: what it pays and what it takes to hold it."""

    name: str = Field(description="the tier's name")
    direct_rate: Rate = Field(description="share of each own sale paid to the seller")
    min_sales: Money = Field(0.0, description="RMB of own retail sales in the last period")
    min_team: int = Field(0, ge=0, description="members in the downline, at any depth")
    min_team_sales: Money = Field(0.0, description="RMB of the downline's sales in the last period")
    overrides: bool = Field(True, description="may earn overrides and differential pay")
    training: Money = Field(0.0, description="extra RMB a day of training for its members")


def default_tiers() -> list[TierConfig]:
    return [
        TierConfig(name="member", direct_rate=0.10),
        TierConfig(name="senior", direct_rate=0.15, min_sales=300.0),
    ]


class CommissionConfig(Section):
    entry_fee: Money = Field(0.0, description="RMB paid to the platform on joining")
    package_cost: Money = Field(
        0.0, description="RMB cost of goods of a gift package the entry fee buys; 0 = pure fee"
    )
    renewal_fee: Money = Field(
        0.0, description="RMB a member pays every renewal_days of membership to stay; 0 = none"
    )
    renewal_days: int = Field(30, ge=1, description="days between renewal fees")
    override_rates: list[Rate] = Field(
        default_factory=lambda: [0.03], description="share of a sale paid d levels up"
    )
    differential: bool = Field(
        False, description="级差: uplines earn their tier's direct rate minus the rate paid below"
    )
    recruiting_bonus: list[Money] = Field(
        default_factory=list, description="RMB paid d levels up per new member"
    )
    qualification_sales: Money = Field(
        0.0, description="RMB of own retail sales in the last period needed to earn team pay"
    )
    qualification_customers: int = Field(
        0, ge=0, description="distinct outside customers in the last period needed for team pay"
    )
    review_days: int = Field(
        30, ge=1, description="days of a period: tiers and qualification are reviewed at its end"
    )
    demotion: bool = Field(True, description="members who miss their tier's thresholds fall back")
    clawback: bool = Field(True, description="refunded orders take back their commissions")
    payout_cap: float = Field(
        0.3, ge=0.0, description="day's payouts at most this share of the day's GMV; 0 = no cap"
    )


class ChurnConfig(Section):
    reservation_income: float = Field(
        1.0, description="RMB/day of net income below which a member considers quitting"
    )
    grace_days: int = Field(60, ge=0, description="days of membership before income is judged")
    quit_prob: Probability = Field(0.02, description="per day, while below reservation")
    inactive_days: int = Field(
        90, ge=0, description="quit after this many days with no sale or recruit; 0 = never"
    )
    switching_cost: Money = Field(
        200.0, description="RMB a member weighs against moving to a competitor"
    )
    circle_trust_floor: Probability = Field(
        0.0, description="members may quit when the trust their shares meet falls below; 0 = off"
    )
    platform_trust_floor: Probability = Field(
        0.0, description="people stop buying (members may quit) below this trust in the platform"
    )


class PlatformConfig(Section):
    organic_join_prob: Probability = Field(
        0.00005, description="per non-member per day, reached by advertising"
    )
    organic_buy_prob: Probability = Field(
        0.0005, description="per person in the market per day, buying direct"
    )
    target_payout_ratio: float = Field(
        0.0, ge=0.0, description="payout ratio the platform steers direct rates toward; 0 = off"
    )
    feedback_days: int = Field(7, ge=1, description="days between direct-rate adjustments")
    feedback_step: Rate = Field(0.005, description="change of every direct rate per adjustment")
    training_budget: Money = Field(
        0.0, description="RMB a day the platform spends on training and support per member"
    )
    training_effect: float = Field(
        0.5, ge=0.0, description="the most training can lift a member's conversion (×(1 + this))"
    )
    training_halfway: Money = Field(
        50.0, gt=0.0, description="RMB of training a member needs for half the full lift"
    )
    audit_rate: Probability = Field(0.05, description="share of orders the platform audits")
    detection_power: Probability = Field(0.5, description="chance an audit spots a fake order")
    ban_prob: Probability = Field(0.5, description="chance a caught brusher is banned")


class BrushingConfig(Section):
    max_orders_per_day: int = Field(
        0, ge=0, description="fake orders a member may place a day (刷单); 0 = no brushing"
    )
    cost_share: Rate = Field(
        0.15, description="share of a fake order's price the brusher loses (fees, resale loss)"
    )
    horizon_days: float = Field(
        90.0, ge=0.0, description="days of a higher tier's extra pay a brusher counts on"
    )
    reach_days: int = Field(7, ge=1, description="how many days of brushing a tier may be worth")


class RiskConfig(Section):
    """The data desk's risk warning (风险预警, §7.18): where the audit budget goes."""

    targeting: Literal["random", "score"] = Field(
        "random",
        description="audits go to random orders, or to the orders of the top-scored sellers",
    )
    spike_weight: float = Field(
        1.0, ge=0.0, description="score weight of a seller's orders against its own history"
    )
    refund_weight: float = Field(
        0.0, ge=0.0, description="score weight of a seller's refunds against the platform's share"
    )
    window_days: float = Field(
        30.0, ge=1.0, description="days, mean age of the order history a spike is measured on"
    )


class CommunityConfig(Section):
    """Community and belonging (社群, §7.17): groups and events the platform pays for."""

    budget: Money = Field(
        0.0, description="RMB a month per member spent on groups and events; 0 = off"
    )
    halfway: float = Field(
        20.0, gt=0.0, description="RMB a month per member giving half the full daily gain"
    )
    gain: Rate = Field(0.05, description="most of the gap to full belonging a day's upkeep closes")
    decay: Rate = Field(0.02, description="share of belonging lost a day without upkeep")
    churn_relief: Rate = Field(0.5, description="churn hazard × (1 − this × belonging)")
    effort_lift: float = Field(0.3, ge=0.0, description="sharing effort × (1 + this × belonging)")


class ContentConfig(Section):
    """The content channel (内容化与场景化, §7.16): posts and live sessions to followers."""

    mean_followers: float = Field(
        20.0, ge=0.0, description="mean audience of a person (Pareto)", json_schema_extra=WORLD
    )
    follower_exponent: float = Field(
        2.0,
        gt=1.0,
        description="Pareto tail exponent of audience sizes (smaller: heavier tail)",
        json_schema_extra=WORLD,
    )
    local_share: Probability = Field(
        0.5,
        description="share of a person's followers drawn from its 2-hop neighbourhood",
        json_schema_extra=WORLD,
    )
    platform_hosts: int = Field(
        5, ge=0, description="platform-run hosts (live rooms)", json_schema_extra=WORLD
    )
    host_followers: int = Field(
        500, ge=0, description="followers of each platform-run host", json_schema_extra=WORLD
    )
    effort_share: Probability = Field(
        0.0,
        description="share of members' effort put into content rather than private "
        "sharing; 0 = no content channel at all",
    )
    posts_per_day: float = Field(
        1.0, ge=0.0, description="posts a host of effort 1 puts out a day (Poisson mean)"
    )
    reach: Probability = Field(0.2, description="share of a host's followers one post reaches")
    trust: Probability = Field(0.15, description="trust a follower puts in one content exposure")
    quality: float = Field(1.0, ge=0.0, description="content quality: conversion × this")
    live_every_days: int = Field(
        0, ge=0, description="a live session every this many days (0 = none)"
    )
    live_reach: Probability = Field(
        0.5, description="share of a host's followers a live day's posts reach"
    )
    live_discount: float = Field(
        0.2, ge=0.0, lt=1.0, description="flash discount off list price on a live day (below 1)"
    )
    recruit: Probability = Field(
        0.0, description="chance a member's content invites a follower reached (0 = never)"
    )


class CompetitorConfig(Section):
    name: str = Field("competitor", description="how reports name it")
    launch_day: int = Field(0, ge=0, description="day it starts to act")
    direct_rate: Rate = Field(0.15, description="its commission on a member's own sales")
    discount: Rate = Field(0.0, description="its price advantage over ours")
    quality: Probability = Field(0.5, description="how much buyers trust its goods, 0–1")
    reach: Probability = Field(0.2, description="share of our repeat buyers it gets to tempt")
    poach_prob: Probability = Field(
        0.01, description="per member per day, chance it makes an offer"
    )


class ProductConfig(Section):
    """A product category; a key left out takes its `[purchase]` value."""

    name: str = Field(description="the category's name")
    price: float | None = Field(None, gt=0.0, description="RMB per order at list price")
    market_price: float | None = Field(None, gt=0.0, description="RMB, the same elsewhere")
    gross_margin: Rate | None = Field(None, description="share of the price above cost")
    quality: Probability | None = Field(
        None, description="chance an order satisfies (1 − the chance it disappoints)"
    )
    repurchase_days: int | None = Field(None, ge=1, description="days of the repurchase cycle")
    shareability: float = Field(1.0, ge=0.0, description="how well it sells by sharing (×)")


class Intervention(Section):
    """A policy change on a given day: dotted scenario keys and their new values."""

    day: int = Field(ge=1, description="day it takes effect, before anything else that day")
    set: dict[str, Any] = Field(description="dotted keys (or nested tables) and new values")
    note: str = Field("", description="what the change stands for")


class Scenario(Section):
    """A whole scenario: what is simulated, for how long, under which scheme."""

    name: str = Field(
        "scenario", description="used to name the results folder", json_schema_extra=RUN
    )
    description: str = Field(
        "", description="one line on what the scenario is for", json_schema_extra=RUN
    )
    run: RunConfig = Field(RunConfig(), json_schema_extra=RUN)
    population: PopulationConfig = Field(PopulationConfig(), json_schema_extra=WORLD)
    graph: GraphConfig = Field(
        default_factory=lambda: WattsStrogatzGraph(kind="watts_strogatz"), json_schema_extra=WORLD
    )
    sharing: SharingConfig = SharingConfig()
    trust: TrustConfig = TrustConfig()
    purchase: PurchaseConfig = PurchaseConfig()
    recruitment: RecruitmentConfig = RecruitmentConfig()
    commission: CommissionConfig = CommissionConfig()
    churn: ChurnConfig = ChurnConfig()
    platform: PlatformConfig = PlatformConfig()
    brushing: BrushingConfig = BrushingConfig()
    risk: RiskConfig = RiskConfig()
    community: CommunityConfig = CommunityConfig()
    content: ContentConfig = ContentConfig()
    competitors: list[CompetitorConfig] = Field(default_factory=list)
    products: list[ProductConfig] = Field(default_factory=list, json_schema_extra=WORLD)
    tiers: list[TierConfig] = Field(default_factory=default_tiers, min_length=1)
    interventions: list[Intervention] = Field(default_factory=list, json_schema_extra=RUN)

    @model_validator(mode="after")
    def _entry_tier_is_open(self) -> Scenario:
        entry = self.tiers[0]
        if entry.min_sales or entry.min_team or entry.min_team_sales:
            raise RuleError("tiers.0", f"{entry.name} is the entry tier: it takes no thresholds")
        return self

    @model_validator(mode="after")
    def _name_is_a_folder_name(self) -> Scenario:
        if not SAFE_NAME.fullmatch(self.name):
            raise RuleError(
                "name",
                "must be 1–80 letters, digits, '_', '.', '+' or '-', starting with a letter "
                "or digit: it names the results folder",
            )
        return self

    @model_validator(mode="after")
    def _names_are_unique(self) -> Scenario:
        for table, rows in (
            ("tiers", self.tiers),
            ("products", self.products),
            ("competitors", self.competitors),
        ):
            names = [row.name for row in rows]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise RuleError(table, f"each name once, but {', '.join(twice)} repeats")
        return self

    @model_validator(mode="after")
    def _ladder_climbs(self) -> Scenario:
        for upper, (below, above) in enumerate(pairwise(self.tiers), start=1):
            easier = all(getattr(above, t) <= getattr(below, t) for t in THRESHOLDS)
            if upper > 1 and easier:
                raise RuleError(
                    f"tiers.{upper}",
                    f"{above.name} asks no more than {below.name} below it on every threshold "
                    f"({', '.join(THRESHOLDS)}), so {below.name} could never be held",
                )
        return self

    @model_validator(mode="after")
    def _interventions_fall_in_the_run(self) -> Scenario:
        for index, intervention in enumerate(self.interventions):
            if intervention.day > self.run.steps:
                raise RuleError(
                    f"interventions.{index}.day",
                    f"day {intervention.day} is after the run's last day ({self.run.steps}), "
                    "so it would never apply",
                    ("run.steps",),
                )
        return self

    @model_validator(mode="after")
    def _population_fits(self) -> Scenario:
        if self.population.initial_members > self.population.size:
            raise RuleError(
                "population.initial_members",
                f"{self.population.initial_members} exceeds population.size "
                f"({self.population.size})",
            )
        return self


def field_scope(field: Any) -> Scope:
    extra = field.json_schema_extra
    return extra["scope"] if isinstance(extra, dict) and "scope" in extra else "policy"


def scope_of(key: str) -> Scope:
    """The scope of a dotted key (`"sharing.effort_mean"`): the first non-policy scope
    on its path, else "policy"; a key the schema does not know is "policy" (the
    schema refuses it when validated)."""
    model: Any = Scenario
    for part in key.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return "policy"
        field = fields[part]
        if field_scope(field) != "policy":
            return field_scope(field)
        model = field.annotation
    return "policy"


def world_keys() -> list[str]:
    """Every key marked "world", as dotted keys (a whole section where it is marked)."""
    keys = []
    for name, field in Scenario.model_fields.items():
        if field_scope(field) == "world":
            keys.append(name)
            continue
        section = field.annotation
        for sub, subfield in getattr(section, "model_fields", {}).items():
            if field_scope(subfield) == "world":
                keys.append(f"{name}.{sub}")
    return keys


def world_values(scenario: Scenario) -> dict[str, Any]:
    """The values of the world keys: what shapes the world drawn at the start."""
    dumped = scenario.model_dump(mode="json")
    values = {}
    for key in world_keys():
        value: Any = dumped
        for part in key.split("."):
            value = value[part]
        values[key] = _drawn(key, value)
    return values


def _drawn(key: str, value: Any) -> Any:
    """A world section's values less its keys marked "run" (how a world is reported,
    not how it is drawn: population.scale), so they leave the world's stream alone."""
    if "." in key or not isinstance(value, dict):
        return value
    section = getattr(Scenario.model_fields[key].annotation, "model_fields", None)
    if section is None:
        return value
    return {name: v for name, v in value.items() if field_scope(section[name]) != "run"}
