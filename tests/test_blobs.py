"""The content-addressed blob store."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kaokore.db import BlobStore


def test_put_names_the_file_by_its_sha256_and_stores_it_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = b"\xff\xd8 not really a jpeg"
    sha, relative = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert relative == f"{sha[:2]}/{sha[2:4]}/{sha}.jpg"
    assert store.read(relative) == data
    assert store.put(data) == (sha, relative)
    assert len(list(tmp_path.rglob("*.jpg"))) == 1
    assert store.verify(sha, relative)


def test_verify_notices_a_tampered_blob_and_temporaries_are_removed(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha, relative = store.put(b"face")
    store.path(relative).write_bytes(b"tampered")
    assert not store.verify(sha, relative)
    leftover = store.path(relative).parent / ".tmp-abandoned.jpg"
    leftover.write_bytes(b"half")
    assert store.remove_temporaries() == 1
    assert not leftover.exists()
