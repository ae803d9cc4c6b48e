"""Helpers for harvest tests: a copy of the sample mirror, a database snapshot, an ingest."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kaokore.db import Database
from kaokore.db.models import Annotation, Face
from kaokore.ingest.client import ClientSettings
from kaokore.ingest.harvester import HarvestOptions, harvest
from kaokore.ingest.report import HarvestReport
from kaokore.mirror import sample_dir

#: Fast, still-bounded settings for tests against 127.0.0.1.
TEST_CLIENT = ClientSettings(
    host_rate=0, host_concurrency=8, backoff=0.01, max_backoff=0.05, timeout=2.0, retries=6
)


def copy_mirror(target: Path) -> Path:
    """A writable copy of the bundled sample mirror, so a test can change documents."""
    shutil.copytree(sample_dir(), target)
    return target


def ground_truth() -> dict[str, Any]:
    return json.loads((sample_dir() / "faces.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def run_ingest(
    database: Database, sources: list[str], *, client: ClientSettings = TEST_CLIENT, **options: Any
) -> HarvestReport:
    return asyncio.run(
        harvest(database, sources, client_settings=client, options=HarvestOptions(**options))
    )


def snapshot(database: Database) -> dict[str, Any]:
    """What a user sees: faces (by key) with their cut, crop and current labels."""
    with database.session() as session:
        faces = {
            face.key: {
                "deleted": face.deleted,
                "square": (face.square_x, face.square_y, face.square_w, face.square_h),
                "member": face.member_uri.split("/", 3)[-1] if face.member_uri else None,
                "crop": face.blob_sha256,
                "crop_status": face.crop_status,
            }
            for face in session.scalars(select(Face))
        }
        for key, label, value, agent in session.execute(
            select(Face.key, Annotation.label, Annotation.value, Annotation.agent)
            .join(Annotation, Annotation.face_id == Face.id)
            .where(Annotation.retracted_at.is_(None))
        ):
            faces[key].setdefault("labels", []).append((label, value, agent))
    for face in faces.values():
        face["labels"] = sorted(face.get("labels", []))
    return faces


def edit_json(path: Path, change: Any) -> None:
    """Load a JSON document of the mirror, let ``change`` edit it, write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    result = change(data)
    path.write_text(
        json.dumps(result if result is not None else data, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
