#!/usr/bin/env python3
"""Check that what travels to the GPU machine fits its limit: the working tree plus carried paths.

The device machine receives the tracked files, the untracked files git does not ignore, and
the ignored paths named in ``carry``, 64 MiB in all. ``bench/gpu_*.sh`` carry one path, the
pack made by ``python -m kaokore.learn pack`` (``gpu-pack/``). This prints the three sums and
exits 1 when their total exceeds the limit, so a grown pack or a large file committed by
mistake is caught on the CPU, before a lease is spent on a refused transfer.

Usage:
    python tools/travel_size.py [--carry gpu-pack] [--limit-mib 64]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

LIMIT_MIB = 64
DEFAULT_CARRY = ("gpu-pack",)


def tree_files(repo: Path) -> list[Path]:
    """The files of the working tree that travel: tracked, or untracked and not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return [repo / name.decode() for name in listed if name and (repo / name.decode()).is_file()]


def carried_bytes(repo: Path, carry: list[str]) -> int:
    """Bytes of every file under the carried paths."""
    total = 0
    for name in carry:
        path = repo / name
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total


def travel_size(repo: Path, carry: list[str]) -> tuple[int, int]:
    """(bytes of the working tree, bytes of the carried paths)."""
    tree = sum(path.stat().st_size for path in tree_files(repo))
    return tree, carried_bytes(repo, carry)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--carry", action="append", help="carried path [default: gpu-pack]")
    parser.add_argument("--limit-mib", type=float, default=LIMIT_MIB)
    args = parser.parse_args(argv)
    carry = args.carry or list(DEFAULT_CARRY)
    tree, carried = travel_size(args.repo, carry)
    total = tree + carried
    mib = 2**20
    print(
        f"working tree {tree / mib:.1f} MiB + carried {', '.join(carry)} {carried / mib:.1f} MiB"
        f" = {total / mib:.1f} MiB (limit {args.limit_mib:g} MiB)"
    )
    if total > args.limit_mib * mib:
        print(f"too large by {(total - args.limit_mib * mib) / mib:.1f} MiB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
