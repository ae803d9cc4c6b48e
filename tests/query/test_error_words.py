"""The library speaks of its arguments, the CLI of its flags: one error, two wordings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.commands.common import cli_message, flag_of
from kaokore.errors import ArgumentError, KaokoreError, UnknownValueError, UsageError
from kaokore.query import FaceFilter


def test_the_library_names_the_keyword() -> None:
    with pytest.raises(ArgumentError) as caught:
        FaceFilter(agent="robot")
    assert str(caught.value) == "agent 'robot': use human or machine"
    assert caught.value.argument == "agent" and isinstance(caught.value, UsageError)
    with pytest.raises(ArgumentError, match=r"^period 'someday': cannot read it"):
        FaceFilter(period="someday")
    with pytest.raises(ArgumentError, match=r"^in_release 'nightly:1': the kind must be"):
        FaceFilter(in_release="nightly:1")


def test_the_cli_names_the_flag() -> None:
    result = CliRunner().invoke(app, ["query", "faces", "--agent", "robot"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: --agent 'robot': use human or machine"
    result = CliRunner().invoke(app, ["query", "faces", "--in-release", "nightly:1"])
    assert result.output.strip().startswith("Error: --in-release 'nightly:1': the kind must be")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ArgumentError("record_id", "x", "why"), "--record-id 'x': why"),
        (
            UnknownValueError("in_release", "9.9", "no such release"),
            "--in-release '9.9': no such release",
        ),
        (ArgumentError("shape", "page", "why"), "--as 'page': why"),
        (ArgumentError("face", 7, "why"), "FACE 7: why"),
        (ArgumentError("run_dir", "runs/x", "why"), "--model 'runs/x': why"),
        (UsageError("a plain message"), "a plain message"),
    ],
)
def test_cli_message_maps_arguments_to_flags(error: KaokoreError, expected: str) -> None:
    assert cli_message(error) == expected


def test_every_filter_flag_is_the_keyword_in_kebab_case() -> None:
    assert flag_of("record_id") == "--record-id" and flag_of("in_release") == "--in-release"
