"""The model as a plan of mechanisms: what the plan holds, who owns which per-person
array, named draws, and a mechanism added from outside the package."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import SocialCommerceModel
from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.model import PLAN
from simulation.world.people import State
from simulation.world.streams import slot

GIFT_CONTACT = slot("sharing", 40, "which contact gets a member's gift")


class Gift(Mechanism):
    """A toy mechanism: each member gives one contact a gift a day, which closes a
    fifth of the gap between that contact's trust in the member and full trust."""

    name = "gift"
    states = (State("gifts_given", np.int64, 0, "gifts a member has given"),)
    metrics = (
        Metric("gifts", "gifts", "gifts per day", "{:,}", "gifts given today", "daily"),
        Metric("gifts_total", "gifts given", "gifts", "{:,}", "gifts over the run", "final"),
    )

    def __init__(self, host: Host) -> None:
        self.today = 0
        super().__init__(host)

    def step(self, day: Day) -> None:
        members = self.people.members
        members = members[self.world.graph.degree_of(members) > 0]
        draws = self.world.streams.draw(GIFT_CONTACT, members)
        _, _, ties = self.world.graph.contacts_at_fraction(members, draws)
        self.world.trust.raise_toward_one(np.unique(ties), 0.2, day.number)
        self.people.gifts_given[members] += 1
        self.today = int(members.size)

    def report(self, day: Day) -> dict:
        return {"gifts": self.today}

    def final(self) -> dict:
        return {"gifts_total": int(self.people.gifts_given.sum())}


def test_a_mechanism_from_outside_joins_the_plan_and_reports(small_scenario):
    plain = SocialCommerceModel(small_scenario)
    gifted = SocialCommerceModel(small_scenario, extra=[Gift])
    plain.run()
    gifted.run()
    assert [entry.name for entry in gifted.plan][-5:] == [
        "gift",
        "observation",
        "filings",
        "compliance",
        "diffusion",
    ]
    assert gifted.world.people.owner["gifts_given"] == "gift"
    days = gifted.datacollector.get_model_vars_dataframe()
    assert (
        "gifts" in days.columns
        and days["gifts"].iloc[0] == small_scenario.population.initial_members
    )
    assert gifted.summary()["gifts_total"] == days["gifts"].sum()
    before = plain.datacollector.get_model_vars_dataframe()
    assert days["mean_trust"].iloc[10:].mean() > before["mean_trust"].iloc[10:].mean()
    assert "gifts" not in before.columns


def test_the_plan_is_the_documented_order(small_scenario):
    model = SocialCommerceModel(small_scenario)
    assert [type(entry) for entry in model.plan] == list(PLAN)
    table = model.describe_plan()
    assert isinstance(table, pd.DataFrame) and list(table["mechanism"])[:3] == [
        "interventions",
        "platform and competitors",
        "sharing",
    ]
    owners = model.world.people.owner
    for entry in model.plan:
        for part in (entry, *entry.parts):
            assert all(owners[state.name] == part.name for state in part.states)


def test_an_array_has_one_owner_and_a_draw_one_name(small_scenario):
    class Thief(Mechanism):
        name = "thief"
        states = (State("fatigue", np.float32),)

    with pytest.raises(ValueError, match="'fatigue' is owned by 'exposure'"):
        SocialCommerceModel(small_scenario, extra=[Thief])
    with pytest.raises(ValueError, match="cannot also be"):
        slot("sharing", 40, "another use of the gift's draw")
    with pytest.raises(ValueError, match="unknown decision"):
        slot("gifts", 0, "a decision no stream has")


def test_two_mechanisms_cannot_share_a_name(small_scenario):
    class Churn2(Mechanism):
        name = "churn"

    with pytest.raises(ValueError, match="share a name"):
        SocialCommerceModel(small_scenario, extra=[Churn2])


def test_profiling_is_off_unless_asked(small_scenario):
    assert SocialCommerceModel(small_scenario).clock is None
    model = SocialCommerceModel(small_scenario, profile=True)
    model.run(3)
    assert set(model.clock.seconds) == {entry.name for entry in model.plan} | {"reports"}


def test_an_extra_mechanism_goes_where_its_after_says(small_scenario):
    class Early(Mechanism):
        name = "early gift"
        after = "sharing"

    class Nowhere(Mechanism):
        name = "lost gift"
        after = "breakfast"

    model = SocialCommerceModel(small_scenario, extra=[Early, Gift])
    names = [entry.name for entry in model.plan]
    assert names[names.index("sharing") + 1] == "early gift"
    assert names[names.index("churn") + 1] == "gift"
    with pytest.raises(ValueError, match="'breakfast': no such entry"):
        SocialCommerceModel(small_scenario, extra=[Nowhere])


def test_newcomers_an_extra_mechanism_adds_after_settlement_keep_the_books_straight(
    small_scenario,
):
    class WalkIn(Mechanism):
        """A consumer walks in and joins every day, after the day was settled."""

        name = "walk-in"

        def bind(self, host: Host) -> None:
            self.recruitment = host.mechanism("recruitment")

        def step(self, day: Day) -> None:
            walker = np.flatnonzero(self.people.role == 0)[:1]
            self.recruitment.enrol(walker, np.full(walker.size, -1), day.number)
            day.newcomers["walk-in"] = walker

    model = SocialCommerceModel(small_scenario, extra=[WalkIn])
    model.run(10)
    assert model.datacollector.get_model_vars_dataframe()["new_members"].min() >= 1
