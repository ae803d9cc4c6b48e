"""The documentation keeps up with the code: every command has help and is in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

from kaokore.cli import app
from kaokore.commands.reference import command_paths, render_reference

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_has_help_text() -> None:
    missing = [
        " ".join(path) for path, command in command_paths(app) if not (command.help or "").strip()
    ]
    assert missing == []


def test_every_leaf_command_shows_an_example_or_says_what_it_does() -> None:
    for path, command in command_paths(app):
        if getattr(command, "commands", None):
            continue
        assert len((command.help or "").split()) >= 5, f"{' '.join(path)} has too short a help text"


def test_cli_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render_reference(app), "run: python tools/cli_reference.py"


def _readme_first_commands() -> list[str]:
    """The command lines of the README's first code block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in first_block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_two_commands() -> None:
    commands = _readme_first_commands()
    assert len(commands) == 2
    assert "kaokore" in commands[0] and "demo" in commands[0]
    assert commands[0].endswith("kaokore --home kaokore-demo web")  # the demo opens in a browser
    assert "pytest" in commands[1]


def test_the_readme_test_command_is_what_ci_runs() -> None:
    commands = _readme_first_commands()
    test_command = commands[1].split("&&")[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci, f".ci/run does not run the README's {test_command!r}"
    assert "--slow" in test_command  # the whole suite, not the fast default
