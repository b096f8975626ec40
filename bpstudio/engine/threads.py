"""One BLAS thread: the one helper the CLI, the window and the training child use.

The engine's GEMMs are small (a 2 → 8 → 8 → 2 net, batches of 10–128 rows): on these 2-core
machines a second BLAS thread costs more in hand-offs than it gains, and it would take the core
the other process (window or training child) needs. ``one_blas_thread()`` limits BLAS for a
``with`` block; ``limit_blas_threads()`` for the rest of the process. Both do nothing when
threadpoolctl is missing. Leaves out: OpenMP pools (the engine uses none).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS runs on one thread inside the block (the previous limits come back after it)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def limit_blas_threads() -> Any:
    """BLAS runs on one thread from now on, for the whole process (returns the limiter)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return threadpool_limits(limits=1, user_api="blas")


__all__ = ["limit_blas_threads", "one_blas_thread"]
