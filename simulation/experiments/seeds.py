"""Seeds and run keys of a sweep, derived with numpy's SeedSequence.

A run's seed comes from the base scenario's hash and the replicate number only, so
replicate r uses the same seed at every point of a sweep: with the run's streams
(simulation/world/streams.py) that gives every point the same world (unless the
sweep varies a world key, which draws another world) and the same random numbers
per decision — common random numbers. A run's key adds the point's
parameters, so the same run has the same key and seed in any sweep, whatever the
number of workers or the order in which runs finish.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np


def _words(text: str) -> list[int]:
    digest = hashlib.sha256(text.encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def replicate_seed(base_hash: str, replicate: int) -> int:
    """The seed of replicate `replicate` of a sweep over the scenario with `base_hash`."""
    sequence = np.random.SeedSequence([*_words(base_hash), replicate])
    return int(sequence.generate_state(2, dtype=np.uint32).view(np.uint64)[0]) >> 1


def run_key(base_hash: str, overrides: dict[str, Any], replicate: int) -> str:
    """A stable name for the run of a point and replicate of a base scenario."""
    content = json.dumps([base_hash, overrides, replicate], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:16]
