"""The CLI reference (``docs/cli.md``), generated from the commands themselves.

Why generated: a hand-written reference drifts from the code; this one is rebuilt by
``python tools/cli_reference.py`` and a test fails when the committed file is stale or a
command has no help text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

__all__ = ["command_paths", "render_reference"]


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name in sorted(getattr(command, "commands", {}) or {}):
        yield from _walk(command.commands[name], (*path, name))


def command_paths(app: typer.Typer) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group of ``app`` as (path, click command), depth first, sorted."""
    return list(_walk(typer.main.get_command(app), ("kaokore",)))


def _option_row(param: Any) -> str:
    names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
    if param.param_type_name == "argument":
        names = f"`{(param.name or '').upper()}`"
    help_text = " ".join((getattr(param, "help", None) or "").split()).replace("|", "\\|")
    default = getattr(param, "default", None)
    shown = ""
    if default not in (None, False, (), []) and getattr(param, "show_default", True) is not False:
        shown = f" (default: `{default}`)"
    return f"| {names} | {help_text}{shown} |"


def render_reference(app: typer.Typer) -> str:
    """The Markdown reference of every command: its help text and its options."""
    lines = [
        "# kaokore command reference",
        "",
        "Generated from the commands' own help by `python tools/cli_reference.py`; do not edit.",
        "",
    ]
    for path, command in command_paths(app):
        if command.hidden:
            continue
        depth = min(len(path), 3) + 1
        lines += [f"{'#' * depth} `{' '.join(path)}`", ""]
        help_text = (command.help or "").strip()
        lines += [help_text, ""]
        params = [
            p
            for p in command.params
            if p.name not in ("help", "install_completion", "show_completion")
        ]
        if params:
            lines += ["| option | meaning |", "|---|---|"]
            lines += [_option_row(p) for p in params]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
