"""How many threads the engine's parallel loops use: all numba's for a large world, one
for a small one, where a loop over a few thousand people gains less from threads than
waking them costs; and kernels compiled both ways, so a small world skips the parallel
loops' set-up too."""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba

PARALLEL_FROM = 50_000  # people: from here up, two threads ran a year faster on 2 cores

share = {"workers": 1}  # this process's part of the machine: 1 in 1, or a pool's worker


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def share_cores(workers: int) -> None:
    """In each of a pool's `workers` processes: its runs take their share of the cores."""
    share["workers"] = max(workers, 1)


def engine_threads(people: int) -> int:
    """Threads for a world of `people`: one below PARALLEL_FROM, else this process's
    share of the usable cores, at most numba's count (NUMBA_NUM_THREADS)."""
    if people < PARALLEL_FROM:
        return 1
    return max(1, min(numba.config.NUMBA_NUM_THREADS, usable_cores() // share["workers"]))


@contextmanager
def use_threads(count: int) -> Iterator[None]:
    """Run this thread's parallel loops on `count` threads inside the block, and on the
    count it had before after it."""
    before = numba.get_num_threads()
    if before != count:
        numba.set_num_threads(count)
    try:
        yield
    finally:
        if before != count:
            numba.set_num_threads(before)


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
