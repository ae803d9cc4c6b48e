#!/usr/bin/env python3
"""Make a Python whose site-packages hold only torch, torchvision, numpy and Pillow.

The GPU machine this project is lent at times has torch, torchvision, numpy and Pillow (and
typer, rich, httpx) but no SQLAlchemy, Alembic, pyld, rdflib or tenacity, and nothing can be
installed there. To prove on the CPU that ``bench/gpu_*.sh`` need nothing more, their dry
runs use this Python: a venv without system site-packages whose only extra path (a ``.pth``
file) is a folder of links to those four distributions and the distributions they require
(sympy, triton, typing_extensions, ... as installed here), nothing else. Not even rich or
matplotlib: the scripts must work without them too.

Usage:
    python tools/bare_python.py DIR      # then DIR/bin/python3 -c "import sqlalchemy" fails
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ALLOWED = ("torch", "torchvision", "numpy", "pillow")


def _requirement_names(dist: metadata.Distribution) -> list[str]:
    """Names of what ``dist`` requires, leaving out optional extras."""
    names = []
    for requirement in dist.requires or []:
        if "extra ==" in requirement.replace('"', "'").replace("extra=='", "extra == '"):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.append(match.group(1))
    return names


def closure(roots: tuple[str, ...] = ALLOWED) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` need, themselves included."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-specific requirement not installed here
        seen[key] = dist
        todo.extend(_requirement_names(dist))
    return list(seen.values())


def top_level_entries(dist: metadata.Distribution) -> set[Path]:
    """The site-packages entries (packages, modules, .libs and dist-info folders) of ``dist``."""
    entries: set[Path] = set()
    base = Path(str(dist.locate_file("")))
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if not parts or parts[0] == ".." or parts[0].endswith(".pth"):
            continue
        entries.add(base / parts[0])
    return entries


def make_bare_python(target: Path) -> Path:
    """Create the venv at ``target``; return its ``bin/python3``."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--clear", str(target)], check=True
    )
    links = target / "allowed"
    links.mkdir()
    for dist in closure():
        for entry in top_level_entries(dist):
            link = links / entry.name
            if entry.exists() and not link.exists():
                link.symlink_to(entry)
    python = target / "bin" / "python3"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "allowed.pth").write_text(f"{links}\n", encoding="utf-8")
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="folder of the new venv")
    args = parser.parse_args(argv)
    python = make_bare_python(args.target)
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
