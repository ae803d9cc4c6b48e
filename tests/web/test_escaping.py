"""Untrusted text from upstream (titles, labels, tags) is escaped on every page and export."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.web.conftest import HOSTILE_TITLE, ONERROR, SCRIPT


def _pages(face_id: int, client: TestClient) -> dict[str, str]:
    work_id = re.search(r'href="/works/(\d+)">&lt;script', client.get("/works").text)
    assert work_id, "the hostile work is listed, escaped"
    tag = quote(SCRIPT, safe="")
    return {
        "faces": client.get("/faces").text,
        "faces filtered": client.get(f"/faces?tag={tag}").text,
        "faces by text": client.get(f"/faces?text={quote('onerror', safe='')}").text,
        "face": client.get(f"/faces/{face_id}").text,
        "works": client.get("/works").text,
        "work": client.get(f"/works/{work_id[1]}").text,
        "charts": client.get(f"/charts?tag={tag}").text,
        "chart svg": client.get("/charts/holder.svg").text,
        "board": client.get(f"/board?ids={face_id}&label={quote(SCRIPT, safe='')}").text,
        "error": client.get(f"/faces?work={quote(SCRIPT + 'x', safe='')}").text,
    }


def test_hostile_text_is_escaped_everywhere(hostile: tuple[TestClient, int]) -> None:
    client, face_id = hostile
    pages = _pages(face_id, client)
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert '"onerror=' not in html, name
        assert "onerror=alert(1) x=" not in html.replace("&#34;onerror=alert(1) x=&#34;", ""), name
    # ... and shown, as text, where it belongs
    assert "&lt;script&gt;alert(&#39;kaokore&#39;)&lt;/script&gt;" in pages["face"]
    assert "&#34;onerror=alert(1) x=&#34;" in pages["face"]
    assert "&lt;script&gt;" in pages["works"] and "&lt;script&gt;" in pages["chart svg"]
    assert "&lt;script&gt;" in pages["faces filtered"]  # the selected tag facet, escaped


def test_hostile_text_in_json_and_csv_is_data(hostile: tuple[TestClient, int]) -> None:
    client, face_id = hostile
    face = client.get(f"/api/faces/{face_id}")
    assert face.headers["content-type"] == "application/json"
    assert face.json()["work"] == HOSTILE_TITLE
    assert ONERROR in face.json()["tags"]
    curation = client.get(f"/board/curation.json?ids={face_id}&label={quote(SCRIPT, safe='')}")
    assert json.loads(curation.text)["label"] == SCRIPT  # JSON, served as JSON, not HTML
    assert curation.headers["content-type"] == "application/json"
    csv_text = client.get(f"/board/faces.csv?ids={face_id}")
    assert csv_text.headers["content-type"].startswith("text/csv")


def test_no_inline_script_is_allowed(hostile: tuple[TestClient, int]) -> None:
    client, face_id = hostile
    response = client.get(f"/faces/{face_id}")
    policy = response.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "<script>" not in response.text.replace(
        '<script src="/static/app.js" defer></script>', ""
    )
