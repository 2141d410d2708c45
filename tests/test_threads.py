"""The engine's parallel loops: threads by world size, each pool worker its share of the
cores, and results that do not depend on how many threads ran them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from simulation import SocialCommerceModel
from simulation.experiments.executors import executor
from simulation.world import threads
from simulation.world.arrays import _group_sums, _spread, grouped
from simulation.world.graph import _fill_rows
from simulation.world.threads import engine_threads, use_threads

TESTS = Path(__file__).resolve().parent
BASELINE = TESTS.parent / "scenarios" / "baseline.toml"

TWO_THREADS = f"""
import json, sys
from pathlib import Path
sys.path.insert(0, {str(TESTS)!r})
import numba
from simulation.world import threads
threads.PARALLEL_FROM = 0
from test_regression import simulate
results = simulate(Path({str(BASELINE)!r}))
print(json.dumps({{"threads": numba.get_num_threads(), "results": results}}))
"""


def test_a_small_world_runs_on_one_thread_a_large_one_on_all() -> None:
    assert engine_threads(threads.PARALLEL_FROM - 1) == 1
    assert engine_threads(threads.PARALLEL_FROM) == numba.config.NUMBA_NUM_THREADS


def test_pool_workers_share_the_cores(monkeypatch) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 8)
    large = threads.PARALLEL_FROM
    for workers, each in ((1, 8), (2, 4), (3, 2), (8, 1), (20, 1)):
        monkeypatch.setitem(threads.share, "workers", 1)
        threads.share_cores(workers)
        assert engine_threads(large) == each
        assert engine_threads(large - 1) == 1
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 3)  # the user's own cap holds
    threads.share_cores(1)
    assert engine_threads(large) == 3


def test_a_model_puts_the_callers_thread_count_back() -> None:
    from tests.conftest import scenario

    before = numba.get_num_threads()
    model = SocialCommerceModel(scenario(run={"steps": 2}, population={"size": 300}))
    model.run()
    assert model.threads == 1 and numba.get_num_threads() == before


def test_two_threads_give_the_recorded_results() -> None:
    from test_regression import RECORDED, differences, record_name

    env = os.environ | {"NUMBA_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", TWO_THREADS], capture_output=True, text=True, env=env, check=True
    )
    out = json.loads(done.stdout)
    recorded = json.loads((RECORDED / record_name(BASELINE)).read_text(encoding="utf-8"))
    assert out["threads"] == 2
    assert differences(recorded, out["results"]) == []


def test_a_kernel_runs_in_order_on_one_thread_and_in_parallel_on_more(monkeypatch):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    calls = []
    monkeypatch.setattr(_spread, "serial", lambda *args: calls.append("serial"))
    monkeypatch.setattr(_spread, "parallel", lambda *args: calls.append("parallel"))
    before = numba.get_num_threads()
    for count in (1, 2, 1):
        with use_threads(count):
            _spread(np.zeros(1), np.ones(1, dtype=np.int64))
    assert calls == ["serial", "parallel", "serial"]
    assert numba.get_num_threads() == before


def test_both_compilations_of_a_kernel_give_the_same_results():
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 5, 10_000)
    uniform = rng.random(10_000)
    assert np.array_equal(_spread.serial(uniform, counts), _spread.parallel(uniform, counts))
    keys = rng.integers(0, 3000, 50_000)
    order, starts, runs = grouped(keys)
    values = rng.random(50_000)
    serial = _group_sums.serial(values, order, starts, runs)
    assert np.array_equal(serial, _group_sums.parallel(values, order, starts, runs))


def test_rows_filled_by_ranges_of_senders_are_filled_in_pair_order():
    rng = np.random.default_rng(5)
    u, v = rng.integers(0, 300, (2, 4000)).astype(np.int32)
    starts = np.zeros(301, dtype=np.int64)
    np.add.at(starts, u[u != v] + 1, 1)
    np.add.at(starts, v[u != v] + 1, 1)
    starts = np.cumsum(starts)
    expected = [[] for _ in range(300)]
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        if a != b:
            expected[a].append(b)
            expected[b].append(a)
    for fill, parts in ((_fill_rows.serial, 1), (_fill_rows.parallel, 3)):
        indptr, indices = starts.copy(), np.empty(int(starts[-1]), dtype=np.int32)
        fill(u, v, indptr, indices, parts)
        assert np.array_equal(indptr, starts)
        assert [indices[indptr[r] : indptr[r + 1]].tolist() for r in range(300)] == expected


@pytest.mark.parametrize("dask", [None, "local"])
def test_a_pool_worker_takes_its_share_of_the_cores(dask):
    def worker_share() -> int:
        from simulation.world import threads as in_worker

        return in_worker.share["workers"]

    with executor(workers=2, dask=dask) as pool:
        assert pool.submit(worker_share).result() == 2
    assert threads.share["workers"] == 1  # this process's own runs keep every core
