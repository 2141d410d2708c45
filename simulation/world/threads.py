"""How many threads the engine's parallel loops use: all numba's for a large world, one
for a small one, where a loop over a few thousand people gains less from threads than
waking them costs."""

from __future__ import annotations

import numba

PARALLEL_FROM = 50_000  # people: from here up, two threads ran a year faster on 2 cores


def engine_threads(people: int) -> int:
    """Threads for a world of `people` (numba's count, NUMBA_NUM_THREADS, caps them)."""
    return numba.config.NUMBA_NUM_THREADS if people >= PARALLEL_FROM else 1


def use_threads(count: int) -> None:
    """Run this thread's parallel loops on `count` threads from now on."""
    if numba.get_num_threads() != count:
        numba.set_num_threads(count)
