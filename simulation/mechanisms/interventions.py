"""Interventions: the scenario's policy changes scheduled for today take effect, in the
order listed, before anything else that day (§7.11)."""

from __future__ import annotations

from simulation.mechanisms.base import Day, Mechanism
from simulation.scenario.loading import intervention_changes, with_overrides


class Interventions(Mechanism):
    """Applies `[[interventions]]` whose day is today to the policy in force."""

    name = "interventions"
    section = "interventions"

    def step(self, day: Day) -> None:
        for intervention in self.config:
            if intervention.day == day.number:
                changes = intervention_changes(intervention.set)
                day.policy = with_overrides(day.policy, changes, "interventions")
