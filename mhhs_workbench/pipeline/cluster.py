"""Writing a data set's chunks on a Dask cluster (the ``scale`` extra: ``dask[distributed]``).

Each chunk is one task keyed by its index (:func:`~mhhs_workbench.pipeline.run.write_chunk`): it writes
its message files straight into the shared staging folder and sends back only its table rows and
aggregate sums, which this process appends in chunk order. A task that fails is retried; it
rewrites the same files under the same names, so nothing is duplicated or lost, and the data set is
byte-identical to one written in a single process.

``workers=N`` starts a :class:`~distributed.LocalCluster` on 127.0.0.1 with N single-threaded
worker processes; ``scheduler=ADDRESS`` uses a running cluster (``dask scheduler`` and
``dask worker`` on other hosts), whose workers must see the output folder at the same path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from mhhs_workbench.pipeline.run import ChunkResult, RunPlan, write_chunk

#: Chunks in flight per worker: enough to keep workers busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2
#: Times a failed chunk task is tried again.
RETRIES = 2


#: Seconds to reach a scheduler and find a worker there, unless the caller gives its own
#: (``--timeout`` of the command line).
CONNECT_TIMEOUT_S = 30.0


class ScaleUnavailable(RuntimeError):
    """Dask is not installed, or the cluster cannot be reached or started."""


def run_dask(
    plan: RunPlan, root: Path, *, workers: int | None = None, scheduler: str | None = None,
    timeout: float | None = None,
) -> Iterator[ChunkResult]:
    """Write the chunks on a Dask cluster; yield their results in chunk order.

    Parameters
    ----------
    plan : RunPlan
        The run.
    root : pathlib.Path
        Staging folder of the data set (on a file system every worker shares).
    workers : int, optional
        Start a local cluster with this many single-threaded workers.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``); takes precedence over ``workers``.
    timeout : float, optional
        Seconds to wait for the scheduler to answer, for a worker to join it and for the plan
        to reach the workers; default :data:`CONNECT_TIMEOUT_S`. Each chunk's own work is not
        bounded by it.

    Raises
    ------
    ScaleUnavailable
        Dask is missing, or the cluster cannot be started, or the scheduler does not answer
        within ``timeout`` (the message names its address and the timeout).
    """
    seconds = CONNECT_TIMEOUT_S if timeout is None else timeout
    with ExitStack() as stack:
        client = _connect(stack, workers, scheduler, seconds)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        window = n_workers * IN_FLIGHT_PER_WORKER
        try:
            plan_future = client.scatter(plan, broadcast=True, timeout=seconds)
        except TimeoutError:
            raise ScaleUnavailable(f"cannot use the Dask cluster{f' at {scheduler}' if scheduler else ''}: "
                                   f"the plan did not reach its workers within {seconds:g} s") from None
        root_text = str(Path(root).absolute())
        futures = {}
        submitted = 0
        try:
            for index in range(plan.n_chunks):
                while submitted < plan.n_chunks and submitted < index + window:
                    futures[submitted] = client.submit(write_chunk, plan_future, submitted, root_text,
                                                       key=f"mhhs-chunk-{submitted}", retries=RETRIES,
                                                       pure=False)
                    submitted += 1
                result = futures.pop(index).result()
                yield result
        finally:
            # stopped early (an error, Ctrl-C): no chunk may still write once we return; a task
            # already running on an external cluster finishes, but finds no folder to write in
            if futures:
                client.cancel(list(futures.values()))


def _connect(stack: ExitStack, workers: int | None, scheduler: str | None, seconds: float) -> Any:
    """A Dask client of the scheduler at ``scheduler``, or of a new local cluster, on ``stack``.

    Parameters
    ----------
    stack : contextlib.ExitStack
        Closes the client (and the local cluster) when the run ends.
    workers : int or None
        Workers of a local cluster (default: one per CPU).
    scheduler : str or None
        Address of a running scheduler, used instead of a local cluster.
    seconds : float
        Longest wait for the scheduler to answer and for a worker to join it.

    Returns
    -------
    distributed.Client
        Connected, with at least one worker.

    Raises
    ------
    ScaleUnavailable
        Dask is missing, the cluster cannot be started or reached, or the wait runs out.
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ScaleUnavailable(
            "running on Dask needs the scale extra: pip install 'mhhs-workbench[scale]'"
        ) from exc
    try:
        if scheduler:
            # distributed's own connect waits for the scheduler's handshake without a limit:
            # a port that accepts and never answers would hold the run (and its lock) for ever
            _probe_scheduler(scheduler, seconds)
            client = stack.enter_context(Client(scheduler, timeout=seconds))
            # a scheduler without workers would leave the run waiting for ever
            client.wait_for_workers(1, timeout=seconds)
            return client
        n = workers or os.cpu_count() or 1
        # on Linux, fork the workers from this process: they start with the package
        # already imported (about 0.2 s instead of a second or more for new interpreters)
        if sys.platform.startswith("linux"):
            stack.enter_context(dask.config.set({"distributed.worker.multiprocessing-method": "fork"}))
        cluster = stack.enter_context(
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None, silence_logs=logging.ERROR)
        )
        return stack.enter_context(Client(cluster))
    except (OSError, ValueError, TimeoutError) as exc:
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        why = " ".join(str(exc).split()) or f"no answer within {seconds:g} s"
        limit = f" (--timeout {seconds:g})" if scheduler else ""
        raise ScaleUnavailable(f"cannot use {where}: {why}{limit}") from None


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect to the scheduler at ``address`` and finish distributed's handshake within ``timeout``.

    Run on an event loop of its own in a thread (the caller may be inside one: a notebook's
    kernel), and abandoned if the loop itself does not return in time.

    Parameters
    ----------
    address : str
        The scheduler's address (``tcp://host:8786``).
    timeout : float
        Seconds allowed for connecting and the handshake together.

    Raises
    ------
    TimeoutError
        The scheduler did not answer within ``timeout``.
    OSError, ValueError
        It could not be reached, or the address is malformed.
    """
    from distributed.comm import connect  # the scale extra, present once run_dask got here

    async def probe() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            asyncio.run(probe())
            outcome.append(None)
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    thread = threading.Thread(target=target, name="mhhs-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    error = outcome[0] if outcome else TimeoutError()
    if isinstance(error, TimeoutError):  # asyncio's too, since Python 3.11
        raise TimeoutError(f"it did not answer within {timeout:g} s")
    if error is not None:
        raise error
