"""Scenarios: the schema of a scenario file and how files are read, inherited and overridden."""

from simulation.scenario.loading import (
    ScenarioError,
    load_scenario,
    parse_override,
    scenario_hash,
    scenario_toml,
    with_overrides,
)
from simulation.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_override",
    "scenario_hash",
    "scenario_toml",
    "with_overrides",
]
