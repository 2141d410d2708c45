"""Where a sweep's runs execute: in this process, a local process pool, or Dask.

All three offer the `concurrent.futures` interface. The local pool is loky's,
which starts clean worker processes and so works from a notebook cell or a script
without an `if __name__ == "__main__"` guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

from simulation.scenario import ScenarioError

DASK_MISSING = "Dask is not installed; install it with: pip install 'sharelab[dask]'"


class InlineExecutor(Executor):
    """Runs each task when submitted, in this process (one worker, no pool)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(err)
        return future


@contextmanager
def executor(workers: int = 1, dask: str | None = None) -> Iterator[Executor]:
    """An executor for `workers` local processes, or for a Dask cluster: `dask="local"`
    starts a LocalCluster of `workers` processes, an address joins a running one."""
    if dask is not None:
        with _dask_executor(workers, dask) as pool:
            yield pool
    elif workers <= 1:
        yield InlineExecutor()
    else:
        from loky import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, kill_workers=True)


@contextmanager
def _dask_executor(workers: int, address: str) -> Iterator[Executor]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError("--dask", None, DASK_MISSING) from None
    if address == "local":
        cluster = LocalCluster(
            n_workers=max(workers, 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(address, timeout="10s")
        except OSError as err:
            raise ScenarioError("--dask", address, f"cannot reach the cluster: {err}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
