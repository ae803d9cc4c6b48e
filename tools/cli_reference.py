"""Write docs/cli.md from the commands' own help: python tools/cli_reference.py [--check]."""

from __future__ import annotations

import sys
from pathlib import Path

from kaokore.cli import app
from kaokore.commands.reference import render_reference

TARGET = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

if __name__ == "__main__":
    text = render_reference(app)
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.read_text(encoding="utf-8") == text else "docs/cli.md is stale")
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
