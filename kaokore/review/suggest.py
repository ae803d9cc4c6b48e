"""``kaokore suggest``: run a trained classifier over the stored crops and store its suggestions.

Why from the crops and not a release folder: the faces worth suggesting for are the ones a
release does not label yet, so the images are made here the way the compiler makes release
images (the stored crop cut square, RGB, Lanczos to 256 px), then the run's evaluation
transform, so the model sees what it was trained on.

The model's identity is its checkpoint's sha256, its network and the release it was trained on
(version, and the checksum of that release's ``SHA256SUMS`` when the folder is still there).
When the release folder is readable, the faces of its training split are marked
``in_training``: a suggestion about a face the model learnt from says little.

Needs the ``train`` extra (torch); runs in batches on the CPU, or on a GPU when one is present.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import torch
from PIL import Image
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from torch import nn

from kaokore.box import Box
from kaokore.compiler.images import RESAMPLE, crop_box
from kaokore.compiler.select import parse_key_square
from kaokore.config import DEFAULT_MAX_IMAGE_PIXELS
from kaokore.db import BlobStore, Database
from kaokore.db.models import Blob, Face
from kaokore.db.models_review import Classifier, Suggestion
from kaokore.errors import ArgumentError
from kaokore.learn.augment import eval_transform
from kaokore.learn.models import build_model
from kaokore.query.faces import select_faces
from kaokore.query.filters import FaceFilter
from kaokore.release.layout import IMAGE_SIZE
from kaokore.review.store import TASKS, ClassifierIdentity, Prediction, store_suggestions

__all__ = [
    "CHECKPOINT",
    "LoadedClassifier",
    "SuggestSummary",
    "load_classifier",
    "suggest",
    "training_face_keys",
]

#: The checkpoint ``kaokore train classify`` writes into its run folder.
CHECKPOINT: Final = "best.pt"
#: Predictions written per transaction.
_STORE_BATCH: Final = 256


@dataclass(frozen=True)
class LoadedClassifier:
    """A classifier ready to predict, with its identity and its training release folder."""

    model: nn.Module
    identity: ClassifierIdentity
    device: torch.device
    release: Path | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SuggestSummary:
    """What a ``kaokore suggest`` run did."""

    model: str
    task: str
    device: str
    considered: int
    suggested: int
    already: int
    no_crop: int
    unreadable: int
    in_training: int
    training_known: bool
    seconds: float


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ArgumentError("device", name, "use auto, cpu or cuda") from exc


def load_classifier(run_dir: Path, *, device: str = "auto") -> LoadedClassifier:
    """Load ``RUN_DIR/best.pt`` (and ``config.json``) as written by ``kaokore train classify``.

    Raises :class:`~kaokore.errors.ArgumentError` (``run_dir``) naming the file when the
    folder is not such a run.
    """
    checkpoint = run_dir / CHECKPOINT
    if not checkpoint.is_file():
        raise ArgumentError(
            "run_dir",
            run_dir,
            f"no {CHECKPOINT} there. Point at a run folder of `kaokore train classify`",
        )
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArgumentError("run_dir", checkpoint, f"cannot read it ({reason})") from exc
    needed = ("model", "arch", "task", "classes", "image_size")
    if not isinstance(saved, dict) or any(key not in saved for key in needed):
        raise ArgumentError("run_dir", checkpoint, "not a kaokore classifier checkpoint")
    config: dict[str, Any] = {}
    config_path = run_dir / "config.json"
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ArgumentError("run_dir", config_path, f"not JSON ({exc})") from exc
    release = Path(config["release"]) if isinstance(config.get("release"), str) else None
    release_checksum = None
    if release is not None and (release / "SHA256SUMS").is_file():
        release_checksum = _sha256(release / "SHA256SUMS")
    elif release is not None and not release.is_dir():
        release = None
    identity = ClassifierIdentity(
        checkpoint_sha256=_sha256(checkpoint),
        arch=str(saved["arch"]),
        task=str(saved["task"]),
        classes=tuple(str(c) for c in saved["classes"]),
        image_size=int(saved["image_size"]),
        release_version=config.get("release_version"),
        release_checksum=release_checksum,
        split=config.get("split"),
        run_dir=str(run_dir.resolve()),
    )
    if identity.task not in TASKS:
        raise ArgumentError("run_dir", checkpoint, f"unknown task {identity.task!r}")
    model = build_model(identity.arch, len(identity.classes), image_size=identity.image_size)
    model.load_state_dict(saved["model"])
    torch_device = _device(device)
    model.to(torch_device).eval()
    return LoadedClassifier(model=model, identity=identity, device=torch_device, release=release)


def training_face_keys(release: Path, split: str | None) -> set[str] | None:
    """The face keys of the training split of a release folder, or None when unknown.

    Reads ``faces.csv`` (image to face key) and the split: ``splits/SPLIT.csv``, else the
    ``set`` column of ``labels.csv``. An official download has no ``faces.csv``: None.
    """
    faces_csv = release / "faces.csv"
    if not faces_csv.is_file():
        return None
    split_path = release / "splits" / f"{split}.csv" if split else release / "labels.csv"
    if not split_path.is_file():
        return None
    with split_path.open(newline="", encoding="utf-8") as handle:
        train = {row["image"] for row in csv.DictReader(handle) if row.get("set") == "train"}
    with faces_csv.open(newline="", encoding="utf-8") as handle:
        return {row["face_key"] for row in csv.DictReader(handle) if row["image"] in train}


def _face_image(data: bytes, face: Face) -> Image.Image:
    """The release image of a face, made from its stored crop as the compiler makes it."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        image = opened.convert("RGB")
    box = crop_box(
        image.width,
        image.height,
        square=Box(x=face.square_x, y=face.square_y, w=face.square_w, h=face.square_h),
        key_square=parse_key_square(face.key),
    )
    if box is not None:
        image = image.crop(box)
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), RESAMPLE)
    return image


def suggest(
    database: Database,
    run_dir: Path,
    *,
    task: str | None = None,
    batch_size: int = 64,
    device: str = "auto",
    limit: int | None = None,
    progress: bool = False,
    where: FaceFilter | None = None,
) -> SuggestSummary:
    """Predict every matching face with a stored crop and store the suggestions.

    ``where`` selects the faces, as in :func:`kaokore.query.faces`. Faces this
    checkpoint already suggested for are skipped. ``task``, when given, must be the model's.
    """
    started = time.perf_counter()
    if batch_size < 1:
        raise ArgumentError("batch_size", batch_size, "must be at least 1")
    loaded = load_classifier(run_dir, device=device)
    identity = loaded.identity
    if task is not None and task != identity.task:
        raise ArgumentError(
            "task", task, f"the model in {run_dir} was trained for {identity.task}, not {task}"
        )
    face_filter = where or FaceFilter()
    store = BlobStore(database.settings.blob_dir)
    with database.session() as session:
        ids = select_faces(session, face_filter, limit=limit)
        rows = _faces_with_crops(session, ids)
        already = _already(session, identity.checkpoint_sha256, [face.id for face, _p in rows])
        train_keys = training_face_keys(loaded.release, identity.split) if loaded.release else None
    todo = [(face, path) for face, path in rows if face.id not in already]
    transform = eval_transform(identity.image_size)
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_IMAGE_PIXELS
    suggested = unreadable = in_training = 0
    pending: list[Prediction] = []
    with _bar(progress, len(todo), f"suggest {identity.task}") as advance:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            tensors, kept = [], []
            for face, path in chunk:
                try:
                    image = _face_image(store.path(path).read_bytes(), face)
                except (OSError, ValueError, Image.DecompressionBombError):
                    unreadable += 1
                    continue
                tensors.append(transform(image))
                kept.append(face)
            if tensors:
                batch = torch.stack(tensors).to(loaded.device)
                with torch.inference_mode():
                    output = loaded.model(batch)
                    logits = output.logits if hasattr(output, "logits") else output
                    probabilities = torch.softmax(logits.float(), dim=1).cpu().tolist()
                for face, probs in zip(kept, probabilities, strict=True):
                    seen = None if train_keys is None else face.key in train_keys
                    in_training += bool(seen)
                    pending.append(
                        Prediction(
                            face_id=face.id,
                            probabilities=tuple(probs),
                            in_training=seen,
                            blob_sha256=face.blob_sha256,
                        )
                    )
            if len(pending) >= _STORE_BATCH or start + batch_size >= len(todo):
                suggested += _flush(database, identity, pending)
                pending = []
            if advance is not None:
                advance(len(chunk))
    return SuggestSummary(
        model=identity.short,
        task=identity.task,
        device=str(loaded.device),
        considered=len(ids),
        suggested=suggested,
        already=len(already),
        no_crop=len(ids) - len(rows),
        unreadable=unreadable,
        in_training=in_training,
        training_known=train_keys is not None,
        seconds=time.perf_counter() - started,
    )


def _flush(database: Database, identity: ClassifierIdentity, pending: list[Prediction]) -> int:
    if not pending:
        return 0
    with database.session() as session:
        return store_suggestions(session, identity, pending)


def _faces_with_crops(session: Any, ids: Sequence[int]) -> list[tuple[Face, str]]:
    """The faces among ``ids`` with a usable stored crop, with the crop's store path."""
    found: list[tuple[Face, str]] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        query = (
            select(Face, Blob.path)
            .join(Blob, Blob.sha256 == Face.blob_sha256)
            .where(Face.id.in_(chunk), Face.crop_status == "ok", Face.deleted.is_(False))
            .order_by(Face.id)
        )
        found.extend((face, path) for face, path in session.execute(query))
    session.expunge_all()
    return found


def _already(session: Any, checkpoint: str, ids: Sequence[int]) -> set[int]:
    classifier = session.scalars(
        select(Classifier.id).where(Classifier.checkpoint_sha256 == checkpoint)
    ).one_or_none()
    if classifier is None:
        return set()
    done: set[int] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        done.update(
            session.scalars(
                select(Suggestion.face_id).where(
                    Suggestion.classifier_id == classifier, Suggestion.face_id.in_(chunk)
                )
            )
        )
    return done


@contextmanager
def _bar(enabled: bool, total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        handle = bar.add_task(label, total=total)
        yield lambda n: bar.advance(handle, n)
