"""Where a sweep's runs execute: in this process, a local process pool, or Dask.

All three offer the `concurrent.futures` interface. The local pool is loky's,
which starts clean worker processes and so works from a notebook cell or a script
without an `if __name__ == "__main__"` guard; its workers watch the process that
started them and exit when it has gone, even killed with -9.
"""

from __future__ import annotations

import errno
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

from simulation.scenario import ScenarioError
from simulation.world.threads import share_cores

DASK_MISSING = "Dask is not installed; install it with: pip install 'sharelab[dask]'"
DASK_ADDRESS = re.compile(r"(tcp|tls)://(?P<host>[\w.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})")
DASK_CONNECT_TIMEOUT = "10s"
PARENT_WATCH_S = 0.5


class InlineExecutor(Executor):
    """Runs each task when submitted, in this process (one worker, no pool)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(err)
        return future


def dask_address(text: str) -> str:
    """`local`, `tcp://HOST:PORT` or `tls://HOST:PORT`, checked before anything starts."""
    match = DASK_ADDRESS.fullmatch(text)
    if text != "local" and (match is None or not 0 < int(match["port"]) < 65536):
        raise ScenarioError("--dask", text, "expected local, tcp://HOST:PORT or tls://HOST:PORT")
    return text


@contextmanager
def executor(workers: int = 1, dask: str | None = None) -> Iterator[Executor]:
    """An executor for `workers` local processes, or for a Dask cluster: `dask="local"`
    starts a LocalCluster of `workers` processes, an address joins a running one."""
    if dask is not None:
        with _dask_executor(workers, dask_address(dask)) as pool:
            yield pool
    elif workers <= 1:
        yield InlineExecutor()
    else:
        from loky import ProcessPoolExecutor

        pool = ProcessPoolExecutor(
            max_workers=workers, initializer=start_worker, initargs=(os.getpid(), workers)
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, kill_workers=True)


def start_worker(parent: int, workers: int) -> None:
    """A local worker's initializer: watch the parent, and take a share of the cores
    (numba's threads wait busily, so more threads than cores in all slow every run)."""
    watch_parent(parent)
    share_cores(workers)


def watch_parent(parent: int) -> None:
    """A worker's initializer: exit as soon as the process that started the pool has
    gone (killed with -9 it cannot shut its workers down, and they would run on)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="sharelab-parent-watch", daemon=True).start()


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
        client.run(share_cores, workers)
    else:
        cluster = None
        try:
            client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except OSError:
            raise OSError(errno.EHOSTUNREACH, "cannot reach the Dask cluster", address) from None
        except (TypeError, ValueError) as err:
            raise ScenarioError("--dask", address, f"cannot join the cluster: {err}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
