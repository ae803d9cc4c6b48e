"""Which faces a model has seen: content keys, the release checksum and the leak check.

Releases renumber their files (version 1.0's ``00000000.jpg`` is version 1.2's
``00008796.jpg``), so a file name cannot say whether two folders share a face. The key of a
face here is the SHA-256 of its image bytes: the same in an official download, in the
version 1.0 folder that ``tools/make_v10_split.py`` links from the 1.2 images, in a release
that lists it in ``SHA256SUMS``, and in a folder unpacked from a GPU pack (which records the
original keys in ``face_keys.csv`` because it re-encodes the images). A face whose bytes were
re-encoded some other way gets another key: the check is exact, not perceptual.

A checkpoint (classifier or pretraining) records the keys it trained on and the checksum of
the folder they came from; :func:`check_no_leak` refuses to start from it when any of those
keys is a test face of the evaluation split. No torch here, so the check is cheap to test.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from kaokore.errors import ReleaseError, UsageError
from kaokore.release import ReleaseFolder, read_label_file
from kaokore.release.layout import IMAGE_DIR, LABELS_FILE, SUMS_FILE
from kaokore.release.reader import json_text

__all__ = [
    "KEYS_FILE",
    "PACK_META",
    "check_no_leak",
    "face_keys",
    "release_checksum",
]

#: Written by the pack unpacker: ``image,key`` with each face's original content key.
KEYS_FILE: Final = "face_keys.csv"
#: Written by the pack unpacker: the pack's JSON description.
PACK_META: Final = "pack.json"


def _recorded_keys(root: Path) -> dict[str, str]:
    """Keys a folder records itself: ``face_keys.csv``, else the image lines of SHA256SUMS."""
    keys_file = root / KEYS_FILE
    if keys_file.is_file():
        with keys_file.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"image", "key"} <= set(reader.fieldnames):
                raise ReleaseError(f"{keys_file}: expected the columns image,key")
            return {row["image"]: row["key"] for row in reader}
    sums = root / SUMS_FILE
    if not sums.is_file():
        return {}
    recorded: dict[str, str] = {}
    prefix = f"{IMAGE_DIR}/"
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if name.startswith(prefix) and len(digest) == 64:
            recorded[name.removeprefix(prefix)] = digest
    return recorded


def face_keys(root: Path, images: Iterable[str]) -> dict[str, str]:
    """Map each image of ``root`` to its face key (recorded, else hashed from its bytes).

    Raises ReleaseError naming an image that is neither recorded nor readable.
    """
    recorded = _recorded_keys(root)
    keys: dict[str, str] = {}
    for name in images:
        key = recorded.get(name)
        if key is None:
            path = root / IMAGE_DIR / name
            try:
                key = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise ReleaseError(f"{path}: cannot read the image ({exc})") from None
        keys[name] = key
    return keys


def release_checksum(root: Path) -> str:
    """The checksum of the folder a model trained on: SHA-256 of ``SHA256SUMS`` when the folder
    is a release, else of ``labels.csv`` followed by every listed face's key in file order
    (so an unpacked pack and the official download it was made from agree). A folder unpacked
    from a pack reports the checksum of the folder the pack was made from."""
    recorded = json_text(root / PACK_META, "release_checksum")
    if recorded is not None:
        return recorded
    checksum = ReleaseFolder(root).checksum()
    if checksum is not None:
        return checksum
    labels = root / LABELS_FILE
    try:
        body = labels.read_bytes()
    except OSError as exc:
        raise ReleaseError(f"{labels}: cannot read it ({exc})") from None
    digest = hashlib.sha256(body)
    names = [row.image for row in read_label_file(root, LABELS_FILE).check()]
    for name, key in face_keys(root, names).items():
        digest.update(f"\n{name}:{key}".encode())
    return digest.hexdigest()


def check_no_leak(
    source: str,
    trained: Sequence[str] | None,
    test_keys: Mapping[str, str],
    *,
    where: str,
) -> None:
    """Refuse (UsageError) to start from ``source`` if it trained on a test face of ``where``.

    ``trained`` is the list of face keys the checkpoint records; None means the file records
    none (a kaokore checkpoint that old cannot be trusted, so it is refused too). ``test_keys``
    maps each test image of the evaluation split to its key.
    """
    if trained is None:
        raise UsageError(
            f"{source}: the checkpoint records no training faces, so it cannot be shown not to "
            f"have trained on test faces of {where}; retrain it with this version of kaokore."
        )
    seen = set(trained)
    leaked = sorted(name for name, key in test_keys.items() if key in seen)
    if leaked:
        shown = ", ".join(leaked[:3]) + (" ..." if len(leaked) > 3 else "")
        raise UsageError(
            f"{source}: {len(leaked)} of the {len(test_keys)} test faces of {where} were among "
            f"its training faces ({shown}); its test score would be leaked. Start from a "
            "checkpoint that did not see them (e.g. `kaokore train pretrain` excludes them)."
        )
