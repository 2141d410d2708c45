"""The random streams of a run, all derived from its one seed.

The world (graph, people's traits, founders) draws from a stream keyed by the
seed and the world's own parameters; each behavioural decision draws from its own
stream keyed by the seed and the day. Two runs with the same seed that differ only in policy
(the commission scheme, say) therefore share their world and their decisions'
random numbers: common random numbers, so paired comparisons are tight.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numba
import numpy as np

from simulation.scenario.schema import Scenario, world_values
from simulation.world.threads import parallel_kernel

DECISIONS = ("platform", "sharing", "purchase", "recruitment", "churn", "content")


@dataclass(frozen=True)
class Slot:
    """A named per-person draw: one slot of one decision's daily stream. Declared
    once, in the module of the mechanism that draws it (see `slot`)."""

    decision: str
    index: int
    name: str


_SLOTS: dict[tuple[str, int], str] = {}


def slot(decision: str, index: int, name: str) -> Slot:
    """Declare a named draw; two names for one (decision, index) are an error, so no
    two decisions ever share their luck by accident."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")
    taken = _SLOTS.setdefault((decision, index), name)
    if taken != name:
        raise ValueError(f"slot {decision}:{index} is {taken!r}, cannot also be {name!r}")
    return Slot(decision, index, name)


# World keys that shape only the follower graph: they key its own stream, so the rest
# of the world (graph, people, founders) is the same whatever audiences are drawn.
FOLLOWER_SECTION = "content"


def world_key(scenario: Scenario) -> tuple[int, int]:
    """Two 32-bit words identifying the world's parameters, the follower graph's aside."""
    values = world_values(scenario)
    return _words({k: v for k, v in values.items() if k.split(".")[0] != FOLLOWER_SECTION})


def follower_key(scenario: Scenario) -> tuple[int, int]:
    """Two 32-bit words identifying all the world's parameters, the follower graph's too."""
    return _words(world_values(scenario))


def _words(values: dict) -> tuple[int, int]:
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:8], "little")


@parallel_kernel
def uniform_halves(seed: np.uint64, index: np.ndarray, upper: bool) -> np.ndarray:
    """One 32-bit half (upper or lower) of output number index + 1 of the SplitMix64
    generator started at `seed` (Steele, Lea & Flood 2014), as a uniform in [0, 1):
    random access into one well-mixed sequence."""
    out = np.empty(index.size, dtype=np.float64)
    for i in numba.prange(index.size):
        bits = _mix(seed + (np.uint64(index[i]) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15))
        half = (bits >> np.uint64(32)) if upper else (bits & np.uint64(0xFFFFFFFF))
        out[i] = half * 2.0**-32
    return out


@numba.njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class Streams:
    """One Generator for the world, one for the follower graph, one for the platform's
    draws over positions each day, and per-person draws for every decision.

    Each day's decision streams are fresh (keyed by seed, decision and day), so a
    difference in how many draws one day takes does not shift the next day's. For
    decisions each person makes at most once a day, `draw` gives every person
    a uniform draw of their own, which does not depend on who else draws: two runs
    that differ in policy give the same person the same luck.
    """

    def __init__(self, seed: int, scenario: Scenario) -> None:
        self.seed = seed
        self.world = self._stream(0, *world_key(scenario))
        self.followers = self._stream(3, *follower_key(scenario))
        self.start_day(0)

    def start_day(self, day: int) -> None:
        """Key the day's streams to `day`."""
        self.day = day
        self._drawn: dict[tuple[int, int], int] = {}
        self.platform = self._stream(1, DECISIONS.index("platform"), day)

    def draw(self, slot: Slot, people: np.ndarray) -> np.ndarray:
        """Today's own uniform draw in [0, 1) of each of `people` for one named slot:
        person i's draw is the i-th output of a SplitMix64 sequence seeded from the
        decision's stream of the day, so it costs nothing for people who do not draw.
        One 64-bit output serves two slots (32 bits each)."""
        key = (DECISIONS.index(slot.decision), slot.index // 2)
        seed = self._drawn.get(key)
        if seed is None:
            seed = self._drawn[key] = self._stream(2, *key, self.day).bit_generator.random_raw()
        ids = np.asarray(people)
        if ids.dtype.kind not in "iu":
            ids = ids.astype(np.int64)
        return uniform_halves(np.uint64(seed), ids.ravel(), slot.index % 2 == 0).reshape(ids.shape)

    def _stream(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))
