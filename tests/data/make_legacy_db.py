"""How ``tests/data/kaokore-0002.db.gz`` was made (kept for the record; the tests only read the file).

Run once with the code of revision 0002 (main before the one-label-model work):

    python tests/data/make_legacy_db.py /tmp/legacy-home

It runs ``kaokore demo`` (the bundled mirror: three works, 33 faces, crops, release ``demo``),
then imports a slice of the official versions 1.2 and 1.3 (35 faces of both, among them the three
whose orientation 1.3 changed, and 5 faces new in 1.3, renumbered 0..n as a small official folder), and
checkpoints the SQLite file so that it is one self-contained file (then gzip -9).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "kaokore" / "official"
CHANGED_13 = (722, 724, 922)  # 1.3 file numbers of the faces whose 向き changed from 1.2
FIRST = 32


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def slice_version(version: str, wanted_urls: list[str], out: Path) -> None:
    """Copy the faces whose urls.txt text (host-free region path) is in ``wanted_urls``."""
    src = OFFICIAL / f"v{version}"
    urls = _lines(src / "urls.txt")
    tags = {
        line.partition(":")[0]: line.partition(":")[2] for line in _lines(src / "original_tags.txt")
    }
    labels = {line.split(",")[0]: line for line in _lines(src / "labels.csv")[1:]}
    index = {_region_path(url): number for number, url in enumerate(urls) if url.strip()}
    out.mkdir(parents=True)
    new_urls, new_tags, new_labels = [], [], ["image,gender,status,set"]
    for new, region in enumerate(wanted_urls):
        old = index[region]
        old_name, new_name = f"{old:08d}.jpg", f"{new:08d}.jpg"
        new_urls.append(urls[old])
        new_tags.append(f"{new_name}:{tags[old_name]}")
        if old_name in labels:
            new_labels.append(new_name + labels[old_name][len(old_name) :])
    (out / "urls.txt").write_text("\n".join(new_urls) + "\n", encoding="utf-8")
    (out / "original_tags.txt").write_text("\n".join(new_tags) + "\n", encoding="utf-8")
    (out / "labels.csv").write_text("\n".join(new_labels) + "\n", encoding="utf-8")
    for name in ("labels.metadata.en.txt", "labels.metadata.ja.txt"):
        shutil.copy(src / name, out / name)


def _region_path(url: str) -> str:
    """``scheme://host/path/region/size/...`` -> ``path/region`` (hosts and sizes differ)."""
    path = url.split("://", 1)[1].split("/", 1)[1]
    parts = path.split("/")
    return "/".join(parts[:-3])


def main(home: Path) -> None:
    urls13 = _lines(OFFICIAL / "v1.3" / "urls.txt")
    urls12 = {_region_path(u) for u in _lines(OFFICIAL / "v1.2" / "urls.txt") if u.strip()}
    regions = [_region_path(url) if url.strip() else "" for url in urls13]
    old = [r for r in regions if r in urls12 and r not in {regions[n] for n in CHANGED_13}]
    new = [r for r in regions if r and r not in urls12]
    wanted = old[:FIRST] + new[:5] + [regions[n] for n in CHANGED_13]
    both = [region for region in wanted if region in urls12]
    slice_version("1.2", both, home / "official" / "v1.2")
    slice_version("1.3", wanted, home / "official" / "v1.3")
    kaokore = [sys.executable, "-m", "kaokore", "--home", str(home)]
    subprocess.run([*kaokore, "demo"], check=True)  # first: it syncs every known source
    for version in ("1.2", "1.3"):
        folder = home / "official" / f"v{version}"
        subprocess.run([*kaokore, "ingest", "--official", str(folder), "--no-images"], check=True)
    connection = sqlite3.connect(home / "kaokore.db")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("VACUUM")
    connection.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
