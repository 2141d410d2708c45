"""How many threads the engine's parallel loops use: all numba's for a large world, one
for a small one, where a loop over a few thousand people gains less from threads than
waking them costs; and kernels compiled both ways, so a small world skips the parallel
loops' set-up too."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numba

PARALLEL_FROM = 50_000  # people: from here up, two threads ran a year faster on 2 cores


def engine_threads(people: int) -> int:
    """Threads for a world of `people` (numba's count, NUMBA_NUM_THREADS, caps them)."""
    return numba.config.NUMBA_NUM_THREADS if people >= PARALLEL_FROM else 1


def use_threads(count: int) -> None:
    """Run this thread's parallel loops on `count` threads from now on."""
    if numba.get_num_threads() != count:
        numba.set_num_threads(count)


def parallel_kernel(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` compiled twice (cached), its prange loops run in order and in
    parallel; a call takes the parallel one only when this thread has more than one
    thread to run it on. Both give the same results: a loop's iterations are
    independent."""
    serial = numba.njit(cache=True)(function)
    twin = types.FunctionType(
        function.__code__,
        function.__globals__,
        f"{function.__name__}_parallel",
        function.__defaults__,
        function.__closure__,
    )
    twin.__qualname__ = f"{function.__qualname__}_parallel"  # its own cache file
    parallel = numba.njit(cache=True, parallel=True)(twin)

    @functools.wraps(function)
    def run(*args: Any) -> Any:
        return (run.parallel if numba.get_num_threads() > 1 else run.serial)(*args)

    run.serial, run.parallel = serial, parallel  # type: ignore[attr-defined]
    return run
