"""``kaokore`` commands run in their own process, as a user or a scheduled job runs them.

Why a module: the CLI's own tests and the full-scale harvest both start ``kaokore serve``
and wait for its port; one helper keeps the start-up wait and the clean stop in one place.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "kaokore_serve"]


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def kaokore_serve(mirror: Path | None, *args: str) -> Iterator[str]:
    """``kaokore serve [MIRROR]`` in its own process; yields its base URL once it listens."""
    port = free_port()
    folder = [str(mirror)] if mirror is not None else []
    command = [sys.executable, "-m", "kaokore", "serve", *folder, "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"kaokore serve exited with {process.returncode}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
