"""Embeddings, nearest faces and contact sheets on the hand-made database."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kaokore.errors import UsageError
from kaokore.query import compute_embeddings, contact_sheet, faces, similar
from kaokore.query.embeddings import hist_hog
from kaokore.query.filters import FaceFilter
from tests.query.conftest import SmallDb


@pytest.fixture(scope="module")
def embedded(small_db: SmallDb) -> SmallDb:
    report = compute_embeddings(small_db.database, recompute=True)
    assert report.model == "hist-hog"
    assert report.computed == 4 and report.without_crop == 2 and report.dims == 704
    again = compute_embeddings(small_db.database)
    assert again.computed == 0 and again.unchanged == 4
    return small_db


def test_hist_hog_is_unit_length_and_deterministic() -> None:
    image = Image.new("RGB", (50, 70), (120, 30, 30))
    first, second = hist_hog(image), hist_hog(image)
    assert first.dtype == np.float32 and first.shape == (704,)
    assert np.allclose(first, second) and np.isclose(np.linalg.norm(first), 1.0)


def test_nearest_face_is_the_near_duplicate(embedded: SmallDb) -> None:
    ids = embedded.ids
    query, neighbours = similar(embedded.database, ids["a1"], k=3)
    assert query.face_id == ids["a1"]
    assert neighbours[0].face.face_id == ids["b1"]  # same palette and strokes, other work
    assert neighbours[0].score > neighbours[-1].score
    assert [n.rank for n in neighbours] == [1, 2, 3]
    assert ids["a1"] not in [n.face.face_id for n in neighbours]


def test_other_works_only(embedded: SmallDb) -> None:
    ids = embedded.ids
    _query, neighbours = similar(embedded.database, ids["a2"], k=5, other_works=True)
    assert {n.face.face_id for n in neighbours} == {ids["b1"], ids["b2"]}
    assert neighbours[0].face.face_id == ids["b2"]  # the same blue face, in work B


def test_filters_restrict_candidates(embedded: SmallDb) -> None:
    _query, neighbours = similar(
        embedded.database, embedded.ids["a1"], where=FaceFilter(status="warrior"), k=5
    )
    assert [n.face.status for n in neighbours] == ["武士"]


def test_faces_without_embeddings_are_explained(embedded: SmallDb) -> None:
    with pytest.raises(UsageError, match="no 'hist-hog' embedding.*--compute"):
        similar(embedded.database, embedded.ids["a3"])
    with pytest.raises(UsageError, match="^model 'imagenet': unknown; use hist-hog"):
        compute_embeddings(embedded.database, model="imagenet")


def test_contact_sheet_with_placeholders(small_db: SmallDb, tmp_path: Path) -> None:
    rows = faces(small_db.database)
    out = contact_sheet(
        rows, tmp_path / "sheet.png", blob_dir=small_db.home / "blobs", columns=3, tile=64
    )
    with Image.open(out) as image:
        assert image.size == (3 * 68, 2 * (68 + 14))
        # the third face (a3) has no crop: its tile is the grey placeholder
        assert image.getpixel((2 * 68 + 10, 30)) == (200, 200, 200)
        # the first face (a1) is the red crop
        red, green, blue = image.getpixel((2 + 50, 2 + 10))
        assert red > 150 and blue < 100


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("torchvision") is None, reason="needs torch and torchvision"
)
def test_random_backbone_embeddings(small_db: SmallDb) -> None:
    report = compute_embeddings(small_db.database, model="random-resnet18")
    assert report.computed == 4 and report.dims == 512
    _query, neighbours = similar(
        small_db.database, small_db.ids["a1"], k=1, model="random-resnet18"
    )
    assert neighbours[0].face.face_id == small_db.ids["b1"]


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("torchvision") is None, reason="needs torch and torchvision"
)
def test_classifier_checkpoint_embeddings(small_db: SmallDb, tmp_path: Path) -> None:
    """A `kaokore train classify` run folder: config.json naming the arch, and best.pt."""
    import json

    import torch
    import torchvision

    run = tmp_path / "resnet18-run"
    run.mkdir()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=4)
    torch.save(model.state_dict(), run / "best.pt")
    (run / "config.json").write_text(
        json.dumps({"arch": "resnet18", "image_size": 64}), encoding="utf-8"
    )
    report = compute_embeddings(small_db.database, checkpoint=run)
    assert report.model == "classifier:resnet18-run" and report.dims == 512 and report.computed == 4
    _query, neighbours = similar(small_db.database, small_db.ids["b2"], k=3, model=report.model)
    assert len(neighbours) == 3 and all(-1.0 <= n.score <= 1.0 + 1e-6 for n in neighbours)
