"""The research commands through the CLI: formats, errors, and the same answers as the library."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.query import count_faces, faces, history
from kaokore.query.filters import FaceFilter
from tests.query.conftest import MANIFEST_A, SmallDb

runner = CliRunner()


def invoke(small_db: SmallDb, *args: str) -> tuple[int, str, str]:
    url = small_db.database.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "--home", str(small_db.home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_query_faces_formats(small_db: SmallDb) -> None:
    code, out, _ = invoke(small_db, "query", "faces", "--status", "noble", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["face_id"]) for r in rows] == [
        r.face_id for r in faces(small_db.database, where=FaceFilter(status="貴族"))
    ]
    assert rows[0]["status_en"] == "noble" and rows[0]["holder_en"] == "Kyoto University"
    code, out, _ = invoke(small_db, "query", "faces", "--holder", "Keio University", "-f", "json")
    assert code == 0 and {r["work"] for r in json.loads(out)} == {"絵巻乙"}
    code, out, _ = invoke(small_db, "query", "faces", "--tag", "鬼", "--period", "1600-1700")
    assert code == 0 and "1 of 1 faces" in out and "1651" in out


def test_query_faces_contact_sheet(small_db: SmallDb, tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    code, _, err = invoke(small_db, "query", "faces", "--format", "contact", "--out", str(out))
    assert code == 0 and "6 faces (2 without a stored crop)" in err
    with Image.open(out) as image:
        assert image.format == "PNG"
    code, _, err = invoke(small_db, "query", "faces", "--format", "contact")
    assert code == 2 and err.strip() == "Error: --format contact writes a PNG: give --out FILE.png"


def test_query_errors_are_one_line(small_db: SmallDb) -> None:
    code, _, err = invoke(small_db, "query", "faces", "--status", "samurai")
    assert code == 2 and err.startswith(
        "Error: --status 'samurai': not a known value. Valid values are: noble (貴族)"
    )
    code, _, err = invoke(small_db, "query", "faces", "--period", "someday")
    assert code == 2 and err.startswith("Error: --period 'someday': cannot read it")
    code, _, err = invoke(small_db, "query", "faces", "--format", "xml")
    assert code == 2 and err.strip() == "Error: --format 'xml': use table, csv, json, contact"


def test_query_stats(small_db: SmallDb) -> None:
    code, out, _ = invoke(small_db, "query", "stats", "--by", "work,gender", "--format", "json")
    assert code == 0
    cells = {(r["work"], r["gender"]): r["count"] for r in json.loads(out)}
    assert cells[("絵巻甲", "男")] == 2 and cells[("草子丙", "不明")] == 1
    code, out, _ = invoke(
        small_db, "query", "stats", "--by", "身分", "-f", "csv", "--in-release", "1.0"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["status"]: int(r["count"]) for r in rows} == {"貴族": 1, "武士": 1, "僧侶": 1}
    assert {r["status_en"] for r in rows} == {"noble", "warrior", "monk"}
    code, out, _ = invoke(small_db, "query", "stats", "--by", "agent")
    assert code == 0 and "machine" in out


def test_query_history(small_db: SmallDb) -> None:
    face_id = small_db.ids["a2"]
    code, out, _ = invoke(small_db, "query", "history", str(face_id), "--format", "json")
    assert code == 0
    records = json.loads(out)
    status = [(r["value"], r["current"]) for r in records if r["label"] == "身分"]
    assert sorted(status) == [("庶民", False), ("貴族", True)]
    assert all(r["document_url"] == "https://example.org/curation/faces.json" for r in records)
    assert len(records) == len(history(small_db.database, face_id))
    member = "https://example.org/iiif/book-a/canvas/p1#xywh=100,50,60,60"
    assert history(small_db.database, member)[0].label  # by member id
    code, _, err = invoke(small_db, "query", "history", "99999")
    assert code == 2 and err.strip() == "Error: FACE 99999: no face has this id"


def test_sql_command(small_db: SmallDb) -> None:
    code, out, _ = invoke(
        small_db,
        "sql",
        "SELECT status_en, count(*) AS n FROM faces_current GROUP BY 1 ORDER BY 1",
        "-f",
        "csv",
    )
    assert code == 0 and out.splitlines()[0] == "status_en,n"
    code, _, err = invoke(small_db, "sql", "DELETE FROM faces")
    assert code == 2 and err.startswith("Error: kaokore sql is read-only: DELETE is refused")
    assert count_faces(small_db.database) == 6
    code, out, _ = invoke(small_db, "sql", "--views", "-f", "json")
    assert code == 0
    assert any(
        r["view"] == "faces_current" and r["column"] == "period_from" for r in json.loads(out)
    )


def test_sparql_command(small_db: SmallDb, tmp_path: Path) -> None:
    query = 'SELECT ?v WHERE { ?b kaokore:label "原典" ; rdf:value ?v } ORDER BY ?v'
    code, out, _ = invoke(small_db, "sparql", query, "--holder", "Keio University", "-f", "json")
    assert code == 0 and {r["v"] for r in json.loads(out)} == {"絵巻乙"}
    graph = tmp_path / "faces.ttl"
    code, _, _ = invoke(small_db, "export", "rdf", "--out", str(graph))
    assert code == 0 and graph.read_text(encoding="utf-8").startswith("@prefix")
    (tmp_path / "q.rq").write_text(
        "SELECT (COUNT(?f) AS ?n) WHERE { ?f a oa:Annotation }", encoding="utf-8"
    )
    code, out, _ = invoke(
        small_db, "sparql", f"@{tmp_path / 'q.rq'}", "--graph", str(graph), "-f", "csv"
    )
    assert code == 0 and out.splitlines() == ["n", "6"]


def test_export_rdf_json_ld_to_stdout(small_db: SmallDb) -> None:
    code, out, _ = invoke(small_db, "export", "rdf", "--format", "json-ld", "--status", "warrior")
    assert code == 0 and "@context" in json.loads(out)


def test_export_curation_command(small_db: SmallDb, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    code, _, err = invoke(
        small_db, "export", "curation", "--out", str(out), "--id", "https://x.org/c.json"
    )
    assert code == 0 and "5 faces exported, 1 left out" in err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@type"] == "cr:Curation" and doc["selections"][0]["within"]["@id"] == MANIFEST_A
    code, out_text, _ = invoke(
        small_db, "export", "curation", "--as", "annotation-page", "--gender", "female"
    )
    assert code == 0 and json.loads(out_text)["type"] == "AnnotationPage"


def test_similar_command(small_db: SmallDb, tmp_path: Path) -> None:
    code, out, _ = invoke(small_db, "similar", "--compute")
    assert code == 0 and "hist-hog:" in out
    code, out, _ = invoke(small_db, "similar", str(small_db.ids["a1"]), "--k", "2", "-f", "json")
    assert code == 0
    records = json.loads(out)
    assert [r["rank"] for r in records] == [1, 2] and records[0]["face_id"] == small_db.ids["b1"]
    curation = tmp_path / "near.json"
    code, _, _ = invoke(
        small_db, "similar", str(small_db.ids["a1"]), "-f", "curation", "--out", str(curation)
    )
    assert code == 0 and json.loads(curation.read_text(encoding="utf-8"))["@type"] == "cr:Curation"
    sheet = tmp_path / "near.png"
    code, _, _ = invoke(
        small_db, "similar", str(small_db.ids["a1"]), "-f", "contact", "--out", str(sheet)
    )
    assert code == 0 and sheet.exists()
    code, _, err = invoke(small_db, "similar")
    assert code == 2 and err.startswith("Error: Give a FACE")


@pytest.mark.parametrize(
    "command",
    [["query", "faces"], ["query", "stats"], ["query", "history"], ["sql"], ["sparql"], ["similar"],
     ["export", "rdf"], ["export", "curation"]],
)  # fmt: skip
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Examples" in result.stdout and "kaokore " in result.stdout
