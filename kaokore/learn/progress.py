"""A rich progress bar per epoch: batches done, running loss and accuracy, images per second.

It writes to stderr, so stdout stays for results, and shows only on rank 0. Rich renders it
live on a terminal and prints its final state otherwise (logs, CI, tests). Where rich is not
installed (the GPU machine's bare python, reached through ``python -m kaokore.learn``) there
is no bar, and messages go to stderr as plain lines through :func:`default_printer`.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Protocol

__all__ = ["EpochProgress", "Printer", "PlainPrinter", "default_printer", "has_rich"]


class Printer(Protocol):
    """Where a run's messages go: a rich Console, or :class:`PlainPrinter`."""

    def print(self, *objects: Any) -> None: ...


class PlainPrinter:
    """Messages as plain lines on stderr, flushed at once (logs of a remote run)."""

    def print(self, *objects: Any) -> None:
        """Write ``objects`` joined by spaces as one line."""
        print(*objects, file=sys.stderr, flush=True)


def has_rich() -> bool:
    """Whether rich can be imported here."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def default_printer() -> Printer:
    """A stderr rich Console when rich is installed, else :class:`PlainPrinter`."""
    if has_rich():
        from rich.console import Console

        console: Printer = Console(stderr=True)
        return console
    return PlainPrinter()


class EpochProgress:
    """Context manager for one epoch's bar; :meth:`advance` after every batch."""

    def __init__(
        self,
        *,
        epoch: int,
        epochs: int,
        total: int,
        enabled: bool = True,
        console: Printer | None = None,
    ) -> None:
        self.enabled = enabled and has_rich()
        self.total = total
        self.description = f"epoch {epoch}/{epochs}"
        self.images = 0
        self.loss_sum = 0.0
        self.correct = 0
        self.started = time.perf_counter()
        self._progress: Any = None
        self._task: Any = None
        self._console = console

    def __enter__(self) -> EpochProgress:
        self.started = time.perf_counter()
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = self._console if isinstance(self._console, Console) else None
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.3f}  "
                    "{task.fields[ips]:.0f} img/s"
                ),
                TimeElapsedColumn(),
                console=console or Console(stderr=True),
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(
                self.description, total=self.total, loss=0.0, acc=0.0, ips=0.0
            )
        return self

    @property
    def images_per_second(self) -> float:
        """Images processed per second since the epoch started."""
        elapsed = time.perf_counter() - self.started
        return self.images / elapsed if elapsed > 0 else 0.0

    def advance(self, *, images: int, loss_sum: float, correct: int) -> None:
        """Record one batch: its size, its summed loss and its correct predictions."""
        self.images += images
        self.loss_sum += loss_sum
        self.correct += correct
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task,
                advance=1,
                loss=self.loss_sum / max(self.images, 1),
                acc=self.correct / max(self.images, 1),
                ips=self.images_per_second,
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, traceback)
