"""The garbage collector in the notebook kernels a run starts.

A kernel the runner starts lives for one notebook: it imports pandas (and, to draw, matplotlib),
presents the figures and is ended. In such a short-lived process Python's cyclic garbage collector
mostly re-examines the hundreds of thousands of objects the imports created, which live until the
process ends anyway, in every kernel (bench/README.md has the measured cost). The final
collection at exit is avoided by the runner ending its kernels at once after their last cell.

So, in a kernel the runner started (environment variable :data:`ENV` set to ``"1"`` by
:func:`kpi_lib.run.pool.execute_notebook`, inherited by the kernel), :func:`imports_settled` pauses the
collector while the notebook helpers import their libraries, then moves everything loaded out of
its reach (:func:`gc.freeze`). Nothing is computed differently: the collector only reclaims
reference cycles, and freezing only keeps some alive until the process ends.

Elsewhere (a notebook opened in JupyterLab, tests, the runner itself) nothing changes: a
long-lived kernel keeps its normal collector, since frozen objects are never reclaimed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

#: set to "1" in the environment of the kernels the runner starts
ENV = "KPI_RUN_KERNEL"


def in_run_kernel() -> bool:
    """Whether this process is a notebook kernel started by the runner (see :data:`ENV`)."""
    return os.environ.get(ENV) == "1"


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (back on after, if it was on): for work
    that builds many long-lived linked objects at once (imports, a parse tree), where the
    collector would examine the growing heap again and again and find nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def imports_settled() -> Iterator[None]:
    """Around a helper's imports in a run's kernel: the collector paused while importing, then
    everything imported frozen (out of the collector's reach). A plain pass-through in any other
    process, or when the collector is already off."""
    if not in_run_kernel() or not gc.isenabled():
        yield
        return
    with collector_paused():
        try:
            yield
        finally:
            gc.freeze()
