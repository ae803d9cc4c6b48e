"""The content-addressed store of face crops on disk.

Why content-addressed: a crop fetched twice, or shared by two faces, is stored once, and a
file's name proves its content. Why write-then-rename: a process killed mid-write leaves at
most a temporary file that is never read, never a half-written blob under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["BlobStore"]


class BlobStore:
    """Files named by the sha256 of their bytes, under ``root/ab/cd/<sha256><suffix>``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def relative_path(self, sha256: str, suffix: str = ".jpg") -> str:
        """The path of a blob relative to the store root."""
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"

    def path(self, relative: str) -> Path:
        """The absolute path of a stored blob."""
        return self.root / relative

    def put(self, data: bytes, suffix: str = ".jpg") -> tuple[str, str]:
        """Store ``data`` atomically; return its sha256 and its relative path."""
        sha256 = hashlib.sha256(data).hexdigest()
        relative = self.relative_path(sha256, suffix)
        target = self.root / relative
        if target.exists() and target.stat().st_size == len(data):
            return sha256, relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return sha256, relative

    def read(self, relative: str) -> bytes:
        """The bytes of a stored blob."""
        return (self.root / relative).read_bytes()

    def verify(self, sha256: str, relative: str) -> bool:
        """Whether the stored file still hashes to its name."""
        path = self.root / relative
        if not path.exists():
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256

    def remove_temporaries(self) -> int:
        """Delete temporary files left by an interrupted write; return how many."""
        removed = 0
        for tmp in self.root.glob("*/*/.tmp-*"):
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed
