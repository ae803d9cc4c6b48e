"""A time and memory bound for pure-Python work that has no timeout of its own (SPARQL).

Why a watchdog thread and not a subprocess: rdflib evaluates queries in Python, in the
graph the caller already holds; copying the graph to another process would cost more than
most queries. A watchdog looks at the clock and the process's resident memory every few
milliseconds and, past a bound, raises an exception *in the working thread* (CPython's
``PyThreadState_SetAsyncExc``, delivered between two bytecodes), which unwinds the
evaluation and frees what it built (again every few milliseconds until it lands, since
a bare ``except:`` in the evaluated code may swallow one). The bound on memory is on
growth over the resident size at the start, checked every 20 ms: a query cannot get far
past it.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from kaokore.errors import QueryLimitError

__all__ = ["DEFAULT_MAX_MEMORY", "bounded", "resident_memory"]

T = TypeVar("T")

#: Bytes a bounded evaluation may add to the process's resident memory (1 GiB).
DEFAULT_MAX_MEMORY: Final = 1 << 30
_CHECK_EVERY: Final = 0.02


class _Interrupted(BaseException):
    """Raised asynchronously in the working thread; BaseException so no handler eats it."""


def resident_memory() -> int | None:
    """The process's resident set size in bytes (Linux), else its peak, else None."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover (Windows)
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


def bounded(
    work: Callable[[], T],
    *,
    timeout: float | None,
    max_memory: int | None,
    what: str = "The query",
) -> T:
    """Run ``work()`` in this thread; stop it past ``timeout`` seconds or ``max_memory`` bytes.

    Raises :class:`QueryLimitError` naming the bound and the option that raises it.
    """
    if timeout is None and max_memory is None:
        return work()
    target = threading.get_ident()
    start_memory = resident_memory() if max_memory is not None else None
    deadline = None if timeout is None else time.monotonic() + timeout
    lock = threading.Lock()
    finished = threading.Event()
    reason: list[str] = []

    def watch() -> None:
        while not finished.wait(_CHECK_EVERY):
            if reason:
                # Raised again until it lands: rdflib has bare ``except:`` clauses that
                # may swallow one delivery.
                with lock:
                    if not finished.is_set():
                        _raise_in(target, _Interrupted)
                continue
            why = None
            if deadline is not None and time.monotonic() > deadline:
                why = f"ran past its time limit of {timeout:g} s (raise it with --timeout)"
            elif start_memory is not None and max_memory is not None:
                now = resident_memory()
                if now is not None and now - start_memory > max_memory:
                    why = (
                        f"used more than {max_memory / 2**20:.0f} MiB of memory "
                        "(raise it with --max-memory)"
                    )
            if why is not None:
                with lock:
                    if not finished.is_set():
                        reason.append(why)
                        _raise_in(target, _Interrupted)

    watchdog = threading.Thread(target=watch, name="kaokore-query-watchdog", daemon=True)
    previous_hook = sys.unraisablehook

    def quiet_hook(unraisable: Any) -> None:
        # A delivery that lands in a finaliser or a weakref callback cannot propagate; it
        # is dropped (the next one is on its way), not reported.
        if not isinstance(unraisable.exc_value, _Interrupted):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_hook
    try:
        try:
            watchdog.start()
            return work()
        finally:
            with lock:
                finished.set()
                if reason:
                    _raise_in(target, None)  # withdraw an interrupt not yet delivered
            watchdog.join()
            sys.unraisablehook = previous_hook
    except _Interrupted:
        why = reason[0] if reason else "was interrupted"
        raise QueryLimitError(f"{what} was stopped: it {why}") from None
