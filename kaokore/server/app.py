"""Start and stop the local IIIF server: in a background thread for tests, blocking for the CLI.

Only loopback addresses are accepted: this server exists so that no test or benchmark
ever needs the network, and it must never be reachable from one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from kaokore.errors import UsageError
from kaokore.server.faults import FaultPlan
from kaokore.server.handler import IIIFHTTPServer
from kaokore.server.log import RequestLog, RequestRecord
from kaokore.server.mirror import Mirror
from kaokore.server.render import DEFAULT_JPEG_QUALITY, Renderer

__all__ = ["DEFAULT_PORT", "LOOPBACK_HOSTS", "LocalIIIFServer", "serve"]

DEFAULT_PORT: Final = 8000
LOOPBACK_HOSTS: Final = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}


class LocalIIIFServer:
    """A IIIF server (Presentation documents + Image API 2.1/3.0) over a mirror folder.

    Use it as a context manager; it answers from a background thread::

        with LocalIIIFServer(sample_dir()) as server:
            httpx.get(f"{server.base_url}/api/face/as/collection.json")

    ``latency`` (seconds) is the host's answer time: every answer leaves that long after its
    request arrived (work such as a crop's render is done meanwhile, and a render that takes
    longer takes what it takes); ``faults`` injects failures; ``strict`` makes
    3.0 services refuse ``full`` and un-``^`` upscales and identifiers with a raw ``/``;
    ``services`` overrides ``services.json`` per identifier (key ``"*"``: every service),
    e.g. ``{"*": {"level": 2}}``.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        strict: bool = True,
        services: Mapping[str, Mapping[str, Any]] | None = None,
        jpeg_quality: int = DEFAULT_JPEG_QUALITY,
        quiet: bool = True,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise UsageError(
                f"No mirror folder at {root}. Pass a folder of IIIF documents "
                "(the bundled sample is kaokore.mirror.sample_dir())."
            )
        if host not in LOOPBACK_HOSTS:
            raise UsageError(f"Host {host!r} is not allowed: the IIIF server binds 127.0.0.1 only.")
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency!r}")
        self.root = root
        self._log = RequestLog()
        try:
            self._server = IIIFHTTPServer(
                (LOOPBACK_HOSTS[host], port),
                mirror=Mirror(root, strict=strict, services=services),
                renderer=Renderer(jpeg_quality=jpeg_quality),
                log=self._log,
                faults=faults,
                latency=latency,
                quiet=quiet,
            )
        except OSError as exc:
            raise UsageError(
                f"Cannot listen on {host}:{port} ({exc.strerror}). "
                "Pass another --port (0 picks a free one)."
            ) from exc
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> LocalIIIFServer:
        """Start answering in a background thread (idempotent)."""
        if self._closed:
            raise RuntimeError("Cannot restart a LocalIIIFServer once it has been closed.")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"kaokore-iiif-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop answering, end stalls and open connections, and release the port."""
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        handlers = self._server.connections()
        for _thread, conn in handlers:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread, _conn in handlers:
            thread.join(timeout=5)
        self._server.server_close()

    def wait(self) -> None:
        """Block until :meth:`close` (from another thread) or Ctrl-C."""
        while not self._server.stopping.wait(0.5):
            pass

    def __enter__(self) -> LocalIIIFServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- state ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:54321``: what ``{BASE}`` becomes in served documents."""
        return self._server.base_url

    def url(self, path: str) -> str:
        """``base_url`` + ``path`` (which starts with ``/``)."""
        return self.base_url + path

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        return self._log.snapshot()

    def reset_log(self) -> None:
        """Empty the request log (and the fault plan's attempt counts stay as they are)."""
        self._log.clear()

    @property
    def faults(self) -> FaultPlan | None:
        return self._server.faults

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        self._server.faults = plan

    @property
    def latency(self) -> float:
        return self._server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, got {seconds!r}")
        self._server.latency = seconds


def serve(
    root: Path | str,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    latency: float = 0.0,
    faults: FaultPlan | None = None,
    strict: bool = True,
    quiet: bool = False,
    on_ready: Callable[[LocalIIIFServer], None] | None = None,
) -> None:
    """Serve ``root`` until Ctrl-C (what ``kaokore serve DIR --port N`` runs).

    ``on_ready`` is called once the port is bound (e.g. to print ``server.base_url``).
    Raises :class:`~kaokore.errors.UsageError` for a missing folder, a non-loopback host or
    a port in use.
    """
    with LocalIIIFServer(
        root, host=host, port=port, latency=latency, faults=faults, strict=strict, quiet=quiet
    ) as server:
        if on_ready is not None:
            on_ready(server)
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
