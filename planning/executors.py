"""Where block solves run: worker threads in this process, or a Dask cluster.

Both take a top-level function and a list of picklable tasks and return the results in task
order, so the decomposition is the same computation whichever runs it. Threads are the default:
highspy releases the GIL while HiGHS solves, so two workers keep two cores busy (each solve uses
one HiGHS thread). A Dask cluster (``dask.distributed``) is used when an address is configured;
its workers need this package installed and receive each block's data, never the whole problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from planning.errors import ConfigError

IN_FLIGHT_PER_WORKER = 4  # Dask tasks queued per worker thread: enough to hide the round trip
Task = TypeVar("Task")
Result = TypeVar("Result")


class BlockExecutor(Protocol):
    """Runs ``fn`` over tasks; results come back in task order."""

    workers: int

    def map(self, fn: Callable[[Task], Result], tasks: Sequence[Task]) -> list[Result]: ...

    def close(self) -> None: ...


class ThreadExecutor:
    """In-process worker threads (the default)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="buyplan-block")

    def map(self, fn: Callable[[Task], Result], tasks: Sequence[Task]) -> list[Result]:
        if self.workers == 1:
            return [fn(task) for task in tasks]
        return list(self._pool.map(fn, tasks))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class DaskExecutor:
    """Block solves on a Dask cluster reached at ``address`` (``tcp://host:8786``)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as error:  # pragma: no cover - the dependency is declared
            raise ConfigError(
                "decomposition.dask_address is set but dask.distributed is not installed: "
                "pip install 'buyplan[dask]', or leave the address empty to use worker threads"
            ) from error
        try:
            self._client: Any = Client(address, timeout="30s")
        except OSError as error:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {address}: start it (dask scheduler) or fix "
                "decomposition.dask_address"
            ) from error
        self.workers = max(1, sum(self._client.nthreads().values()))

    def map(self, fn: Callable[[Task], Result], tasks: Sequence[Task]) -> list[Result]:
        """Tasks stream to the cluster, at most ``IN_FLIGHT_PER_WORKER`` per worker at a time.

        Submitting every block at once would serialise the whole catalogue's block data into
        the client and scheduler together (gigabytes at 50,000 SKUs); a bounded window keeps
        memory at a few blocks per worker and the workers busy.
        """
        from distributed import as_completed

        results: list[Any] = [None] * len(tasks)
        window = IN_FLIGHT_PER_WORKER * self.workers
        index_of: dict[Any, int] = {}

        def submit(i: int) -> Any:
            # pure=False: two equal tasks are still two solves (a cluster cache would hide timings).
            future = self._client.submit(fn, tasks[i], pure=False)
            index_of[future.key] = i
            return future

        pending = as_completed([submit(i) for i in range(min(window, len(tasks)))])
        next_task = min(window, len(tasks))
        for future in pending:
            results[index_of.pop(future.key)] = future.result()
            future.release()
            if next_task < len(tasks):
                pending.add(submit(next_task))
                next_task += 1
        return results

    def close(self) -> None:
        self._client.close()


def make_executor(workers: int, dask_address: str | None) -> BlockExecutor:
    """Dask when an address is configured, else ``workers`` threads."""
    if dask_address:
        return DaskExecutor(dask_address)
    return ThreadExecutor(workers)
