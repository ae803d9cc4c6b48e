"""Starting, stopping and refusing: the server's lifecycle and its guard rails."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from kaokore.errors import UsageError
from kaokore.server import LocalIIIFServer, serve


def test_only_loopback_hosts(mirror: Path) -> None:
    with pytest.raises(UsageError, match="127.0.0.1 only"):
        LocalIIIFServer(mirror, host="0.0.0.0")
    with LocalIIIFServer(mirror, host="localhost") as server:
        assert server.base_url.startswith("http://127.0.0.1:")


def test_missing_folder_and_busy_port(tmp_path: Path, mirror: Path) -> None:
    with pytest.raises(UsageError, match="No mirror folder"):
        LocalIIIFServer(tmp_path / "absent")
    with LocalIIIFServer(mirror) as first, pytest.raises(UsageError, match="--port"):
        LocalIIIFServer(mirror, port=first.port)


def test_close_is_idempotent_and_final(mirror: Path, http: httpx.Client) -> None:
    server = LocalIIIFServer(mirror).start()
    url = server.url("/docs/plain.json")
    assert http.get(url).status_code == 200  # leaves a keep-alive connection open
    server.close()
    server.close()
    with pytest.raises(RuntimeError, match="closed"):
        server.start()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=1, trust_env=False)


def test_serve_blocks_until_closed(mirror: Path, http: httpx.Client) -> None:
    ready = threading.Event()
    holder: list[LocalIIIFServer] = []

    def on_ready(server: LocalIIIFServer) -> None:
        holder.append(server)
        ready.set()

    thread = threading.Thread(
        target=serve, args=(mirror,), kwargs={"port": 0, "quiet": True, "on_ready": on_ready}
    )
    thread.start()
    assert ready.wait(5)
    assert http.get(holder[0].url("/docs/plain.json")).json() == {"a": 1}
    holder[0].close()
    thread.join(5)
    assert not thread.is_alive()


def test_other_methods_are_refused_on_a_fresh_connection(mirror: Path) -> None:
    with LocalIIIFServer(mirror) as server, httpx.Client(trust_env=False) as client:
        response = client.post(server.url("/docs/plain.json"), content=b"x" * 10)
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
        assert client.get(server.url("/docs/plain.json")).status_code == 200
        assert [r.status for r in server.requests] == [405, 200]
