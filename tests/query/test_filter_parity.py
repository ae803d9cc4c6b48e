"""The face filters exist once: the dataclass, every CLI command that filters, the library
functions and docs/research.md name the same filters, or this fails.

Why a test and not a convention: a filter added to :class:`FaceFilter` reaches the CLI by
construction (``face_filter_options``), but a command could still grow a hand-written
``--work``, a library function could take ``**filters`` again, and the docs table is
written by hand.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

import kaokore.query
from kaokore.cli import app
from kaokore.commands.common import FILTERS_PANEL, flag_of
from kaokore.query.filters import FaceFilter, filter_fields
from kaokore.review.suggest import suggest

DOC = Path(__file__).resolve().parents[2] / "docs" / "research.md"

#: The commands that select faces; each must offer every filter.
FILTERING = {
    "query faces",
    "query stats",
    "sparql",
    "similar",
    "export rdf",
    "export curation",
    "suggest",
}


def _fields() -> dict[str, bool]:
    """Filter name -> whether it takes several values."""
    return {item.name: option.multiple for item, option in filter_fields()}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    # typer builds on its own copy of click: groups are known by their subcommands
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for name, sub in subcommands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def _all_commands() -> dict[str, Any]:
    return dict(_commands(typer.main.get_command(app)))


def _options(command: Any) -> list[Any]:
    return [param for param in command.params if param.param_type_name == "option"]


def _documented(text: str) -> dict[str, str]:
    """The filter table of docs/research.md: option -> keyword."""
    rows = re.findall(r"^\| `(--[a-z-]+)` \| `([a-z_]+)` \|", text, flags=re.M)
    return dict(rows)


def test_every_filtering_command_offers_exactly_the_filters() -> None:
    expected = {flag_of(name): multiple for name, multiple in _fields().items()}
    commands = _all_commands()
    assert set(commands) >= FILTERING, FILTERING - set(commands)
    with_filters = set()
    for path, command in commands.items():
        panel = {
            param.opts[0]: bool(getattr(param, "multiple", False))
            for param in _options(command)
            if getattr(param, "rich_help_panel", None) == FILTERS_PANEL
        }
        if panel:
            with_filters.add(path)
            assert panel == expected, path
    assert with_filters == FILTERING


def test_no_command_spells_a_filter_by_hand() -> None:
    flags = {flag_of(name) for name in _fields()}
    for path, command in _all_commands().items():
        for param in _options(command):
            if set(param.opts) & flags:
                assert getattr(param, "rich_help_panel", None) == FILTERS_PANEL, (path, param.opts)


def test_the_docs_table_names_every_filter_and_no_other() -> None:
    documented = _documented(DOC.read_text(encoding="utf-8"))
    assert documented == {flag_of(name): name for name in _fields()}


def test_the_docs_check_notices_a_missing_or_extra_row() -> None:
    text = DOC.read_text(encoding="utf-8")
    without_tag = re.sub(r"^\| `--tag` .*\n", "", text, flags=re.M)
    assert "--tag" not in _documented(without_tag)
    extra = text + "\n| `--colour` | `colour` | nothing | |\n"
    assert _documented(extra)["--colour"] == "colour"


def test_library_functions_take_where_not_loose_keywords() -> None:
    functions = [getattr(kaokore.query, name) for name in kaokore.query.__all__]
    functions = [f for f in functions if inspect.isfunction(f)] + [suggest]
    taking = []
    for function in functions:
        parameters = inspect.signature(function).parameters
        assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()), (
            function.__name__
        )
        assert not set(parameters) & set(_fields()) - {"text"}, function.__name__
        if "where" in parameters:
            taking.append(function.__name__)
            assert parameters["where"].kind is inspect.Parameter.KEYWORD_ONLY
    assert {
        "faces",
        "face_ids",
        "count_faces",
        "stats",
        "build_graph",
        "export_rdf",
        "export_curation",
        "sparql",
        "similar",
        "compute_embeddings",
        "suggest",
    } <= set(taking)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"status": "warrior"}, {"status": ("武士",)}),
        ({"gender": ["Female", " 男 "]}, {"gender": ("女", "男")}),
        ({"holder": "Keio University"}, {"holder": ("慶應義塾大学",)}),
        ({"period": "1600-1650"}, {"period": (1600, 1650)}),
        ({"agent": " Human "}, {"agent": "human"}),
        ({"text": "  "}, {"text": None}),
        ({"in_release": " 1.3 "}, {"in_release": "1.3"}),
    ],
)
def test_a_filter_reads_what_callers_give(given: dict, expected: dict) -> None:
    made = FaceFilter(**given)
    for name, value in expected.items():
        assert getattr(made, name) == value
    assert made == FaceFilter(**given) and hash(made) == hash(FaceFilter(**given))


def test_describe_names_every_filter_given() -> None:
    made = FaceFilter(status=["noble", "warrior"], period="-1650", in_release="1.0")
    assert made.describe() == "status=貴族, status=武士, period=-1650, in_release=1.0"
    assert FaceFilter().describe() == "all faces" and FaceFilter().empty
