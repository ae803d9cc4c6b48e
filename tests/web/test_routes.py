"""Every route of ``kaokore web`` against the hand-made database, on SQLite and PostgreSQL.

Expected numbers come from the query layer (``kaokore.query``) or from the fixture's
construction, never from the web code under test.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from kaokore import query
from kaokore.ingest.curation import parse_curation
from kaokore.query.curation_export import canvas_region
from kaokore.query.filters import FaceFilter
from kaokore.web.routes.api import FaceDetail, FacesPage
from tests.web.conftest import WebDb


def _grid_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<figure class="tile" data-face="(\d+)"', html)]


def _facet_counts(html: str, facet: str) -> dict[str, int]:
    block = html.split(f'data-facet="{facet}"', 1)[1].split("</section>", 1)[0]
    return {
        value: int(count.replace(",", ""))
        for value, count in re.findall(
            r'data-value="([^"]*)"[^>]*>.*?<span class="count">([\d,]+)</span>', block, re.S
        )
    }


def test_home_redirects_to_faces(web_db: WebDb) -> None:
    response = web_db.client.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/faces"


def test_faces_page_lists_every_face_with_captions(web_db: WebDb) -> None:
    response = web_db.client.get("/faces")
    assert response.status_code == 200
    html = response.text
    assert sorted(_grid_ids(html)) == sorted(web_db.ids.values())
    assert '<span id="total">6</span>' in html
    assert "絵巻甲" in html and "p. " in html and "noble" in html and "1600-1700" in html


def test_two_facets_change_counts_and_grid(web_db: WebDb) -> None:
    db = web_db.small.database
    html = web_db.client.get("/faces?holder=京都大学&gender=male").text
    expected = query.face_ids(db, where=FaceFilter(holder="京都大学", gender="male"))
    assert sorted(_grid_ids(html)) == sorted(expected) and len(expected) == 2
    # A facet's counts are those of the other filters: gender under holder=Kyoto ...
    assert _facet_counts(html, "gender") == {
        "男": query.count_faces(db, where=FaceFilter(holder="京都大学", gender="男")),
        "女": query.count_faces(db, where=FaceFilter(holder="京都大学", gender="女")),
    }
    # ... and status under both.
    status = _facet_counts(html, "status")
    assert status == {"貴族": 1, "庶民": 1}
    assert sum(status.values()) == query.count_faces(
        db, where=FaceFilter(holder="京都大学", gender="male")
    )


def test_english_and_japanese_values_are_one_query(web_db: WebDb) -> None:
    a = _grid_ids(web_db.client.get("/faces?status=warrior").text)
    b = _grid_ids(web_db.client.get("/faces?status=武士").text)
    assert a == b == [web_db.ids["b1"]]


def test_text_period_release_agent_crop_filters(web_db: WebDb) -> None:
    db = web_db.small.database
    cases = {
        "text=warrior": query.face_ids(db, where=FaceFilter(text="warrior")),
        "period=1600-1650": query.face_ids(db, where=FaceFilter(period="1600-1650")),
        "period=江戸前期": query.face_ids(db, where=FaceFilter(period="江戸前期")),
        "release=1.0": query.face_ids(db, where=FaceFilter(in_release="1.0")),
        "agent=machine": query.face_ids(db, where=FaceFilter(agent="machine")),
        "tag=鬼": query.face_ids(db, where=FaceFilter(tag="鬼")),
        "record_id=110X@1@1": query.face_ids(db, where=FaceFilter(record_id="110X@1@1")),
        "work=絵巻乙": query.face_ids(db, where=FaceFilter(work="絵巻乙")),
    }
    for params, expected in cases.items():
        assert sorted(_grid_ids(web_db.client.get(f"/faces?{params}").text)) == sorted(expected), (
            params
        )
    with_crop = sorted(_grid_ids(web_db.client.get("/faces?crop=yes").text))
    assert with_crop == sorted(web_db.ids[n] for n in ("a1", "a2", "b1", "b2"))


def test_period_and_century_facets_count_what_a_click_gives(web_db: WebDb) -> None:
    html = web_db.client.get("/faces").text
    for facet in ("period", "century"):
        for value, count in _facet_counts(html, facet).items():
            assert count == query.count_faces(
                web_db.small.database, where=FaceFilter(period=value)
            ), (facet, value)


def test_paging_and_size_limit(web_db: WebDb) -> None:
    first = _grid_ids(web_db.client.get("/faces?size=4").text)
    second = _grid_ids(web_db.client.get("/faces?size=4&page=2").text)
    assert first + second == sorted(web_db.ids.values())
    assert len(_grid_ids(web_db.client.get("/faces?size=100000").text)) == 6  # capped, not refused


def test_unknown_value_is_a_400_with_suggestions(web_db: WebDb) -> None:
    response = web_db.client.get("/faces?work=絵巻")
    assert response.status_code == 400
    assert (
        "URL parameter work &#39;絵巻&#39;: no work has this title" in response.text
        and "絵巻甲" in response.text
    )
    assert web_db.client.get("/faces?page=x").status_code == 400


def test_face_page_shows_history_provenance_and_page(web_db: WebDb) -> None:
    a2 = web_db.ids["a2"]
    html = web_db.client.get(f"/faces/{a2}").text
    history = query.history(web_db.small.database, a2)
    retracted = [h for h in history if not h.current]
    assert retracted and f"<del>{retracted[0].value}</del>" in html
    assert html.count('<tr class="current">') == sum(h.current for h in history)
    assert "https://example.org/curation/faces.json" in html
    # the page image from the image service, no wider than the image, and the box over it
    assert "https://img.example.org/iiif/a1/full/1200,/0/default.jpg" in html
    assert "--left: 25.0%; --top: 20.0%; --width: 5.0%; --height: 10.0%" in html
    assert 'id="page-unreachable" hidden' in html
    assert "Open in a IIIF viewer" in html and "manifest=https%3A%2F%2Fexample.org" in html


def test_face_without_page_image_says_so(web_db: WebDb) -> None:
    html = web_db.client.get(f"/faces/{web_db.ids['solo']}").text
    assert "No page image is known for this face" in html
    assert "No crop stored" in html


def test_face_similar_section_without_embeddings(web_db: WebDb) -> None:
    html = web_db.client.get(f"/faces/{web_db.ids['a1']}").text
    assert "kaokore similar --compute" in html


def test_missing_face_is_404(web_db: WebDb) -> None:
    assert web_db.client.get("/faces/999999").status_code == 404
    assert web_db.client.get("/api/faces/999999").status_code == 404


def test_crops(web_db: WebDb) -> None:
    response = web_db.client.get(f"/crops/{web_db.ids['a1']}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (96, 96)
    assert web_db.client.get(f"/crops/{web_db.ids['a3']}").status_code == 404


def test_works_list_and_work_in_page_order(web_db: WebDb) -> None:
    html = web_db.client.get("/works").text
    for title in ("絵巻甲", "絵巻乙", "草子丙"):
        assert title in html
    work_id = int(re.search(r'<a href="/works/(\d+)">絵巻甲</a>', html)[1])  # type: ignore[index]
    row = re.search(r"絵巻甲</a></td>(.*?)</tr>", html, re.S)[1]  # type: ignore[index]
    cells = re.findall(r'<td class="num">(?:<a [^>]*>)?([\d,]*)', row)
    assert cells[:2] == ["2", "3"]  # pages, faces
    page = web_db.client.get(f"/works/{work_id}").text
    # p1: a2 (right) before a1 (left), then p10: a3
    assert _grid_ids(page) == [web_db.ids["a2"], web_db.ids["a1"], web_db.ids["a3"]]
    assert web_db.client.get("/works/999999").status_code == 404


def test_charts_are_svg_with_tables_and_csv(web_db: WebDb) -> None:
    html = web_db.client.get("/charts").text
    assert html.count("<svg ") == 4 and "kaokore query stats --by century,status" in html
    periods = list(csv.DictReader(io.StringIO(web_db.client.get("/charts/period-status.csv").text)))
    assert periods
    for row in periods:  # each cell is what --period P --status S selects
        assert int(row["count"]) == query.count_faces(
            web_db.small.database, where=FaceFilter(period=row["period"], status=row["status"])
        ), row
    svg = web_db.client.get("/charts/holder.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<rect" in svg.text
    table = list(csv.DictReader(io.StringIO(web_db.client.get("/charts/holder.csv").text)))
    expected = query.stats(web_db.small.database, by="holder")
    assert {r["holder"]: int(r["count"]) for r in table} == {
        row.values[0]: row.count for row in expected.rows
    }
    filtered = list(
        csv.DictReader(io.StringIO(web_db.client.get("/charts/orientation.csv?gender=female").text))
    )
    assert sum(int(r["count"]) for r in filtered) == query.count_faces(
        web_db.small.database, where=FaceFilter(gender="female")
    )
    assert web_db.client.get("/charts/nothing.csv").status_code == 404


def test_board_exports_round_trip(web_db: WebDb) -> None:
    ids = [web_db.ids[n] for n in ("a1", "a3", "b1", "solo")]
    text = ",".join(map(str, ids))
    page = web_db.client.get(f"/board?ids={text}")
    assert _grid_ids(page.text) == ids
    response = web_db.client.get(f"/board/curation.json?ids={text}&label=My board")
    document = json.loads(response.text)
    assert document["@type"] == "cr:Curation" and document["label"] == "My board"
    assert response.headers["x-kaokore-skipped"] == "1"  # solo has no canvas
    curation = parse_curation(document, "https://example.org/board.json")
    rows = {r.face_id: r for r in query.faces(web_db.small.database) if r.face_id in ids}
    expected = {
        "{}#xywh={},{},{},{}".format(r.canvas_uri, *canvas_region(r))
        for r in rows.values()
        if r.canvas_uri
    }
    assert {face.member_uri for face in curation.faces} == expected
    table = list(
        csv.DictReader(io.StringIO(web_db.client.get(f"/board/faces.csv?ids={text}").text))
    )
    assert [int(r["face_id"]) for r in table] == ids
    png = web_db.client.get(f"/board/contact.png?ids={text}")
    assert Image.open(io.BytesIO(png.content)).format == "PNG"
    assert web_db.client.get("/board?ids=1,x").status_code == 400


def test_releases_page(web_db: WebDb) -> None:
    html = web_db.client.get("/releases").text
    assert "1.0" in html and ">3</td>" in html  # three members


def test_api_faces_filters_paging_and_limits(web_db: WebDb) -> None:
    db = web_db.small.database
    data = web_db.client.get("/api/faces", params={"status": ["noble", "warrior"]}).json()
    FacesPage.model_validate(data, strict=True)  # the documented shape, field by field
    assert data["total"] == query.count_faces(db, where=FaceFilter(status=["noble", "warrior"]))
    assert [f["face_id"] for f in data["faces"]] == query.face_ids(
        db, where=FaceFilter(status=["noble", "warrior"])
    )
    first = data["faces"][0]
    assert first["status_en"] in ("noble", "warrior") and first["labels"]
    assert first["crop_url"].endswith(f"/crops/{first['face_id']}")
    paged = web_db.client.get("/api/faces?size=2&page=3").json()
    assert [f["face_id"] for f in paged["faces"]] == sorted(web_db.ids.values())[4:6]
    assert web_db.client.get("/api/faces?size=201").status_code == 422
    bad = web_db.client.get("/api/faces?status=nobody")
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("URL parameter status 'nobody': not a known value")
    # the library's in_release is the URL's release: the message names what the URL says
    bad = web_db.client.get("/api/faces?release=9.9")
    assert bad.json()["detail"].startswith("URL parameter release '9.9': no such release")


def test_api_face_facets_works_and_openapi(web_db: WebDb) -> None:
    a2 = web_db.ids["a2"]
    face = web_db.client.get(f"/api/faces/{a2}").json()
    FaceDetail.model_validate(face, strict=True)
    assert any(not h["current"] for h in face["history"])
    facets = web_db.client.get("/api/facets?gender=female").json()
    assert facets["total"] == 2
    status = next(f for f in facets["facets"] if f["name"] == "status")
    assert {v["value"]: v["count"] for v in status["values"]} == {"貴族": 1, "化身": 1}
    works = web_db.client.get("/api/works").json()
    assert sum(w["faces"] for w in works) == 6
    spec = web_db.client.get("/api/openapi.json").json()
    assert {"/api/faces", "/api/faces/{face_id}", "/api/facets", "/api/works"} <= set(spec["paths"])
    size = next(p for p in spec["paths"]["/api/faces"]["get"]["parameters"] if p["name"] == "size")
    assert size["schema"]["maximum"] == 200
    assert "/faces" not in spec["paths"]  # HTML pages are not API


def test_security_headers(web_db: WebDb) -> None:
    headers = web_db.client.get("/faces").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_the_app_cannot_write(web_db: WebDb) -> None:
    from sqlalchemy import text

    database = web_db.client.app.state.kaokore.database  # type: ignore[attr-defined]
    with (
        pytest.raises(Exception, match="(?i)read.?only|not authorized"),
        database.engine.begin() as connection,
    ):
        connection.execute(text("DELETE FROM annotations"))
    assert query.count_faces(web_db.small.database) == 6


def test_api_docs_page_is_offline(web_db: WebDb) -> None:
    html = web_db.client.get("/api/docs").text
    assert "GET /api/faces" in html and "≤ 200" in html and "/api/openapi.json" in html
    assert "cdn" not in html.lower()  # no script from elsewhere


def test_release_diff(tmp_path: Path) -> None:
    from kaokore.config import Settings
    from kaokore.db import open_database
    from kaokore.db.models import Release, ReleaseMember
    from kaokore.web import WebSettings, create_app
    from tests.query.conftest import NOW, fill_small_db

    settings = Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path / 'kaokore.db'}")
    database = open_database(settings)
    ids = fill_small_db(database, tmp_path).ids
    with database.session() as session:
        newer = Release(version="1.1", kind="built", built_at=NOW)
        session.add(newer)
        session.flush()
        # a1 stays (status class 0 -> 1), b1 leaves, a2 enters
        for number, (name, status) in enumerate((("a1", 1), ("solo", None), ("a2", 0))):
            session.add(
                ReleaseMember(
                    release_id=newer.id,
                    face_id=ids[name],
                    file_name=f"{number:08d}.jpg",
                    status=status,
                )
            )
        session.flush()
        old = session.scalar(select(Release.id).where(Release.version == "1.0"))
        for member in session.scalars(select(ReleaseMember).where(ReleaseMember.release_id == old)):
            member.status = 0 if member.face_id == ids["a1"] else member.status
        database.close()
    expected = query.diff(settings, "built:1.0", "built:1.1").summary()
    assert (expected["added"], expected["removed"]) == (1, 1)
    with TestClient(create_app(WebSettings(database=settings, warm_up=False))) as client:
        html = client.get("/releases").text  # the last two by default: kaokore query diff
        assert (
            f"{expected['added']} faces added, {expected['removed']} removed, "
            f"{expected['relabelled_faces']} relabelled"
        ) in html
        assert f'<a href="/faces/{ids["a2"]}">' in html and f'<a href="/faces/{ids["b1"]}">' in html
        rows = list(
            csv.DictReader(
                io.StringIO(client.get("/releases/diff.csv?a=built:1.0&b=built:1.1").text)
            )
        )
        assert rows == [
            {k: ("" if v is None else str(v)) for k, v in change.items()}
            for change in query.diff(settings, "built:1.0", "built:1.1").as_dicts()
        ]
        same = client.get("/releases?a=built:1.1&b=built:1.1").text
        assert "0 faces added, 0 removed, 0 relabelled" in same
        assert client.get("/releases?a=built:1.0&b=built:9.9").status_code == 400
