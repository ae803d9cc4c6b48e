"""Check a harvest of the full-scale upstream (:mod:`kaokore.mirror.upstream`) against the
official KaoKore 1.2 files: every url line's face stored, labels equal, crops close.

Used by the full-scale test and by ``bench/harvest.py --full``, so both say the same thing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from kaokore.db import BlobStore, Database
from kaokore.db.models import Annotation, Blob, Face
from kaokore.vocab import class_index

__all__ = ["RealCheck", "check_against_official"]


@dataclass
class RealCheck:
    """What the harvest holds, compared with the official 1.2 files."""

    #: url lines of 1.2 that name a face, and those whose face was harvested.
    lines: int = 0
    found: int = 0
    #: labelled rows of 1.2 checked, and those whose harvested labels differ.
    labelled: int = 0
    label_mismatches: list[str] = field(default_factory=list)
    #: mean absolute difference (0-255) of the crop and the official image, per file,
    #: for the faces whose region reaches past the page, and for every real face.
    edge_differences: dict[str, float] = field(default_factory=dict)
    differences: dict[str, float] = field(default_factory=dict)
    missing_crops: list[str] = field(default_factory=list)


def _difference(one: bytes, other: bytes) -> float:
    a = np.asarray(Image.open(io.BytesIO(one)).convert("RGB").resize((256, 256)), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(other)).convert("RGB").resize((256, 256)), dtype=np.int16)
    return float(np.abs(a - b).mean())


def check_against_official(
    database: Database, upstream: Path, base_url: str, shared: Path, *, crops: bool = True
) -> RealCheck:
    """Compare ``database`` (harvested from ``upstream`` served at ``base_url``) with 1.2."""
    truth = json.loads((upstream / "truth.json").read_text(encoding="utf-8"))
    official = shared / "data" / "kaokore" / "official" / "v1.2"
    images = shared / "data" / "kaokore" / "images_256"
    labels = {
        name: (int(gender), int(status))
        for name, gender, status, _set in (
            line.split(",") for line in (official / "labels.csv").read_text().splitlines()[1:]
        )
    }
    blobs = BlobStore(database.settings.blob_dir)
    check = RealCheck()
    with database.session() as session:
        faces = {
            face.member_uri: face
            for face in session.scalars(select(Face).where(Face.deleted.is_(False)))
        }
        current: dict[int, dict[str, str]] = {}
        for face_id, label, value in session.execute(
            select(Annotation.face_id, Annotation.label, Annotation.value).where(
                Annotation.retracted_at.is_(None), Annotation.label.in_(("性別", "身分"))
            )
        ):
            current.setdefault(face_id, {})[label] = value
        paths = {sha: path for sha, path in session.execute(select(Blob.sha256, Blob.path))}
        for key, entry in truth.items():
            version, name = key.split("/")
            if version != "1.2":
                continue
            check.lines += 1
            face = faces.get(entry["member"].replace("{BASE}", base_url))
            if face is None:
                continue
            check.found += 1
            if name in labels:
                check.labelled += 1
                tags = current.get(face.id, {})
                got = (
                    class_index("gender", tags.get("性別", "")),
                    class_index("status", tags.get("身分", "")),
                )
                if got != labels[name]:
                    check.label_mismatches.append(f"{name}: {got} != {labels[name]}")
            if not crops or entry["synthetic"] or not (images / name).is_file():
                continue
            if face.blob_sha256 is None or face.blob_sha256 not in paths:
                check.missing_crops.append(name)
                continue
            difference = _difference(
                blobs.read(paths[face.blob_sha256]), (images / name).read_bytes()
            )
            check.differences[name] = difference
            if entry["edge"]:
                check.edge_differences[name] = difference
    return check
