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

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from mhhs_workbench.pipeline.run import ChunkResult, RunPlan, write_chunk

#: Chunks in flight per worker: enough to keep workers busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2
#: Times a failed chunk task is tried again.
RETRIES = 2


#: Seconds to reach a scheduler and find a worker there.
CONNECT_TIMEOUT_S = 30


class ScaleUnavailable(RuntimeError):
    """Dask is not installed, or the cluster cannot be reached or started."""


def run_dask(
    plan: RunPlan, root: Path, *, workers: int | None = None, scheduler: str | None = None
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
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ScaleUnavailable(
            "running on Dask needs the scale extra: pip install 'mhhs-workbench[scale]'"
        ) from exc

    with ExitStack() as stack:
        try:
            if scheduler:
                client = stack.enter_context(Client(scheduler, timeout=CONNECT_TIMEOUT_S))
                # a scheduler without workers would leave the run waiting for ever
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            else:
                n = workers or os.cpu_count() or 1
                # on Linux, fork the workers from this process: they start with the package
                # already imported (about 0.2 s instead of a second or more for new interpreters)
                if sys.platform.startswith("linux"):
                    stack.enter_context(dask.config.set({"distributed.worker.multiprocessing-method": "fork"}))
                cluster = stack.enter_context(
                    LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                 dashboard_address=None, silence_logs=logging.ERROR)
                )
                client = stack.enter_context(Client(cluster))
        except (OSError, ValueError, TimeoutError) as exc:
            where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
            raise ScaleUnavailable(f"cannot use {where}: {exc}") from None
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        window = n_workers * IN_FLIGHT_PER_WORKER
        plan_future = client.scatter(plan, broadcast=True)
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
