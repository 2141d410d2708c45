"""The random streams of a run, all derived from its one seed.

The world (graph, people's traits, founders) draws from a stream keyed by the
seed and the world's own parameters; each behavioural decision draws from its own
stream keyed by the seed. Two runs with the same seed that differ only in policy
(the commission scheme, say) therefore share their world and their decisions'
random numbers: common random numbers, so paired comparisons are tight.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from simulation.scenario.schema import Scenario

DECISIONS = ("platform", "sharing", "purchase", "recruitment", "churn")


def world_parameters(scenario: Scenario) -> dict:
    """The parameters that shape the world rather than behaviour in it."""
    return {
        "population": scenario.population.model_dump(mode="json"),
        "graph": scenario.graph.model_dump(mode="json"),
        "need_mean": scenario.purchase.need_mean,
        "effort_mean": scenario.sharing.effort_mean,
        "effort_cost": scenario.recruitment.effort_cost,
    }


def world_key(scenario: Scenario) -> tuple[int, int]:
    """Two 32-bit words identifying the world's parameters."""
    digest = hashlib.sha256(json.dumps(world_parameters(scenario), sort_keys=True).encode())
    return int.from_bytes(digest.digest()[:4], "little"), int.from_bytes(
        digest.digest()[4:8], "little"
    )


@dataclass(frozen=True)
class Streams:
    """One Generator for the world and one per behavioural decision."""

    world: np.random.Generator
    platform: np.random.Generator
    sharing: np.random.Generator
    purchase: np.random.Generator
    recruitment: np.random.Generator
    churn: np.random.Generator

    @classmethod
    def for_run(cls, seed: int, scenario: Scenario) -> Streams:
        def stream(*key: int) -> np.random.Generator:
            return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))

        decisions = {name: stream(1, index) for index, name in enumerate(DECISIONS)}
        return cls(world=stream(0, *world_key(scenario)), **decisions)
