"""Face embeddings: vectors computed from the stored crops, kept per face and model.

Why several models, and what each is worth (say which one you used when you cite a result):

* ``hist-hog`` (default; NumPy only, no torch): a colour histogram (HSV, 8x4x4 bins) and a
  histogram of oriented gradients (64x64 grey, 8x8 cells, 9 orientations). It finds faces
  with a similar palette, paper tone and line layout: faces from the same scroll, painter's
  hand or pigment set rank high. It knows nothing of gender, status or identity.
* ``random-<arch>`` (torch; e.g. ``random-resnet18``): the penultimate features of a
  torchvision network with a fixed, seeded random initialisation (``kaokore.learn.fid``).
  Random convolutions respond to colour, texture and blur at several scales: a richer
  low-level descriptor than ``hist-hog``, deterministic, but with no learnt semantics.
* a classifier checkpoint (``--checkpoint RUN``: a ``kaokore train classify`` run folder with
  ``config.json`` and ``best.pt``): the trained network's penultimate layer. Faces close
  here look alike *to a model trained on gender and status*: the most meaningful of the
  three for iconography, and biased towards the classes it was trained on. Stored under
  ``classifier:<run folder>`` unless ``model`` names it.

Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import delete, select

from kaokore.db.models import utcnow
from kaokore.db.models_research import FaceEmbedding
from kaokore.errors import ArgumentError
from kaokore.query.connect import DatabaseLike, using_database
from kaokore.query.contact import open_crop
from kaokore.query.faces import load_rows, select_faces
from kaokore.query.filters import FaceFilter
from kaokore.query.rows import FaceRow

__all__ = [
    "DEFAULT_MODEL",
    "EmbeddingReport",
    "compute_embeddings",
    "hist_hog",
    "load_vectors",
]

DEFAULT_MODEL = "hist-hog"
Extractor = Callable[[list[Image.Image]], np.ndarray]


@dataclass(frozen=True, kw_only=True, slots=True)
class EmbeddingReport:
    """What :func:`compute_embeddings` did."""

    model: str
    dims: int
    computed: int
    unchanged: int
    without_crop: int


def _l2(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: np.ndarray = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def hist_hog(image: Image.Image) -> np.ndarray:
    """The ``hist-hog`` vector of one image: 128 colour bins and 576 HOG bins, L2-normalised."""
    rgb = image.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR)
    hsv = np.asarray(rgb.convert("HSV"), dtype=np.int32)
    h = hsv[..., 0] * 8 // 256
    s = hsv[..., 1] * 4 // 256
    v = hsv[..., 2] * 4 // 256
    colour = np.bincount((h * 16 + s * 4 + v).ravel(), minlength=128).astype(np.float64)
    grey = np.asarray(rgb.convert("L"), dtype=np.float64) / 255.0
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    bins = np.minimum((angle / 20.0).astype(np.int32), 8)
    cells = np.zeros((8, 8, 9))
    cell_y, cell_x = np.divmod(np.arange(64 * 64), 64)
    np.add.at(cells, (cell_y // 8, cell_x // 8, bins.ravel()), magnitude.ravel())
    cells /= np.maximum(np.linalg.norm(cells, axis=2, keepdims=True), 1e-6)
    parts = [colour / max(float(np.linalg.norm(colour)), 1e-12), cells.ravel() / 8.0]
    vector: np.ndarray = _l2(np.concatenate(parts)[None, :])[0]
    return vector


def _hist_hog_extractor(images: list[Image.Image]) -> np.ndarray:
    return np.stack([hist_hog(image) for image in images])


def _torch_extractor(model: str, checkpoint: Path | None) -> Extractor:
    try:
        import torch

        from kaokore.learn.fid import load_extractor
    except ImportError as exc:
        raise ArgumentError(
            "model",
            model,
            "needs torch and torchvision: pip install 'kaokore[train]' "
            f"(or use {DEFAULT_MODEL}, which needs neither)",
        ) from exc
    if checkpoint is not None:
        network = load_extractor(checkpoint)
    else:
        arch = model.removeprefix("random-")
        network = load_extractor(None, arch=arch, input_size=128)

    def extract(images: list[Image.Image]) -> np.ndarray:
        size = network.input_size
        batch = np.stack(
            [
                np.asarray(image.convert("RGB").resize((size, size)), dtype=np.float32) / 255.0
                for image in images
            ]
        )
        tensor = torch.from_numpy(batch).permute(0, 3, 1, 2)
        with torch.no_grad():
            features = network(tensor).cpu().numpy()
        return _l2(np.asarray(features, dtype=np.float32))

    return extract


def _extractor(model: str, checkpoint: Path | None) -> Extractor:
    if checkpoint is not None or model.startswith("random-"):
        return _torch_extractor(model, checkpoint)
    if model == DEFAULT_MODEL:
        return _hist_hog_extractor
    raise ArgumentError(
        "model",
        model,
        f"unknown; use {DEFAULT_MODEL}, random-<torchvision arch> (random-resnet18), or a "
        "checkpoint (a run folder of a trained classifier)",
    )


def model_name(model: str | None, checkpoint: Path | None) -> str:
    """The name vectors are stored under: ``model``, else ``classifier:<run>`` or the default."""
    if model:
        return model
    if checkpoint is not None:
        path = Path(checkpoint)
        return f"classifier:{(path if path.is_dir() else path.parent).name}"
    return DEFAULT_MODEL


def compute_embeddings(
    database: DatabaseLike,
    *,
    model: str | None = None,
    checkpoint: Path | None = None,
    blob_dir: Path | None = None,
    batch_size: int = 64,
    recompute: bool = False,
    now: dt.datetime | None = None,
    where: FaceFilter | None = None,
) -> EmbeddingReport:
    """Compute and store the vectors of the faces matching ``where`` that have a crop.

    A face keeps its vector while its crop is unchanged; ``recompute=True`` redoes all.
    """
    name = model_name(model, checkpoint)
    extractor = _extractor(name if checkpoint is None else (model or "classifier"), checkpoint)
    face_filter = where or FaceFilter()
    now = now or utcnow()
    computed = unchanged = without_crop = 0
    dims = 0
    with using_database(database) as db:
        root = Path(blob_dir) if blob_dir is not None else db.settings.blob_dir
        with db.session() as session:
            rows = load_rows(session, select_faces(session, face_filter))
            stored = dict(
                session.execute(
                    select(FaceEmbedding.face_id, FaceEmbedding.blob_sha256).where(
                        FaceEmbedding.model == name
                    )
                ).all()
            )
        todo: list[tuple[FaceRow, Image.Image]] = []
        for row in rows:
            if row.blob_sha256 is None:
                without_crop += 1
                continue
            if not recompute and row.face_id in stored and stored[row.face_id] == row.blob_sha256:
                unchanged += 1
                continue
            image = open_crop(row, root)
            if image is None:
                without_crop += 1
                continue
            todo.append((row, image))
            if len(todo) >= batch_size:
                dims = _store(db, name, todo, extractor, now)
                computed += len(todo)
                todo = []
        if todo:
            dims = _store(db, name, todo, extractor, now)
            computed += len(todo)
    return EmbeddingReport(
        model=name, dims=dims, computed=computed, unchanged=unchanged, without_crop=without_crop
    )


def _store(
    db: Any,
    name: str,
    batch: Sequence[tuple[FaceRow, Image.Image]],
    extractor: Extractor,
    now: dt.datetime,
) -> int:
    vectors = extractor([image for _row, image in batch])
    with db.session() as session:
        ids = [row.face_id for row, _image in batch]
        session.execute(
            delete(FaceEmbedding).where(FaceEmbedding.model == name, FaceEmbedding.face_id.in_(ids))
        )
        session.add_all(
            FaceEmbedding(
                face_id=row.face_id,
                model=name,
                dims=int(vector.shape[0]),
                vector=np.asarray(vector, dtype="<f4").tobytes(),
                blob_sha256=row.blob_sha256,
                created_at=now,
            )
            for (row, _image), vector in zip(batch, vectors, strict=True)
        )
    return int(vectors.shape[1])


def load_vectors(
    session: Any, model: str, face_ids: Sequence[int] | None = None
) -> tuple[list[int], np.ndarray]:
    """The stored vectors of ``model`` (optionally only ``face_ids``) as ids and a matrix."""
    query = select(FaceEmbedding.face_id, FaceEmbedding.vector, FaceEmbedding.dims).where(
        FaceEmbedding.model == model
    )
    ids: list[int] = []
    vectors: list[np.ndarray] = []
    wanted = set(face_ids) if face_ids is not None else None
    for face_id, blob, dims in session.execute(query):
        if wanted is not None and face_id not in wanted:
            continue
        vector = np.frombuffer(blob, dtype="<f4")
        if vector.shape[0] != dims:
            continue
        ids.append(face_id)
        vectors.append(vector)
    if not vectors:
        return [], np.zeros((0, 0), dtype=np.float32)
    return ids, np.stack(vectors)
