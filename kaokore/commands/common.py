"""What every command shares: the global state, opening the database, async entry, output.

Options that several commands take are defined once here as ``Annotated`` aliases, so the
flag, its environment variable and its help text are the same everywhere. The face filter
options are not written here at all: :func:`face_filter_options` derives them from the
fields of :class:`kaokore.query.filters.FaceFilter`, and :func:`cli_message` words the
library's argument errors with the flags that set those arguments.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from kaokore.config import DB_ENV, HOME_ENV, Settings
from kaokore.db import Database, open_database, open_readonly
from kaokore.errors import ArgumentError, KaokoreError, UsageError, flag_name
from kaokore.face_filter import FaceFilter, filter_fields

__all__ = [
    "FILTERS_PANEL",
    "cli_message",
    "face_filter_options",
    "flag_of",
    "MaxRowsOption",
    "ReleaseOption",
    "TimeoutOption",
    "AppState",
    "DbOption",
    "HomeOption",
    "console",
    "err_console",
    "open_db",
    "require_train_extra",
    "run_sync",
    "settings_of",
]

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=DB_ENV,
        help="Database URL: sqlite:///path.db or postgresql+psycopg://user@host/name "
        "[default: kaokore.db in the home folder].",
        show_default=False,
    ),
]
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar=HOME_ENV,
        help="Folder for the default SQLite database, the blob store of crops, caches and "
        "releases [default: ./kaokore-data].",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0.001,
        help="Seconds the query may run before the database stops it.",
    ),
]
MaxRowsOption = Annotated[
    int,
    typer.Option(
        "--max-rows",
        min=0,
        help="Rows shown at most; more are cut, and the output says so (0: no bound).",
    ),
]
ReleaseOption = Annotated[
    Path,
    typer.Option(
        "--release",
        help="A release folder (made by `kaokore build`, e.g. kaokore-data/releases/"
        "kaokore-1.0; it must pass `kaokore verify`).",
        show_default=False,
    ),
]


@dataclass
class AppState:
    """What the root callback learned from the global options."""

    settings: Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings chosen by the global options (or the environment)."""
    state = ctx.find_root().obj
    if isinstance(state, AppState):
        return state.settings
    return Settings.from_env()


def open_db(ctx: typer.Context, *, upgrade: bool = False, read_only: bool = False) -> Database:
    """Open the configured database (checked at head), closed when the command ends.

    ``read_only=True`` for commands that only read: they work on a database file the user
    may not write, and cannot change anything whatever they run.
    """
    if read_only:
        database = open_readonly(settings_of(ctx))
    else:
        database = open_database(settings_of(ctx), upgrade=upgrade)
    ctx.call_on_close(database.close)
    return database


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the async core from a sync command, on a fresh event loop."""
    return asyncio.run(coroutine)


def require_train_extra(
    command: str, modules: tuple[str, ...] = ("torch", "torchvision", "matplotlib")
) -> None:
    """Fail with the install hint, not a traceback, when the train extra is missing.

    Looks the packages up without importing them, so the check costs nothing.
    """
    for name in modules:
        try:
            missing = importlib.util.find_spec(name) is None
        except (ImportError, ValueError):
            missing = True
        if missing:
            raise UsageError(
                f"{command} needs {name}, which is not installed. "
                "Install the train extra: pip install 'kaokore[train]'"
            )


#: The help panel that groups the filter options of every command.
FILTERS_PANEL = "Filters"

#: Library arguments whose CLI spelling is not ``--`` plus the name in kebab case.
_SPELLED: dict[str, str] = {"shape": "--as", "face": "FACE", "run_dir": "--model"}


def flag_of(argument: str) -> str:
    """The CLI flag (or argument) that sets the library argument ``argument``.

    ``record_id`` -> ``--record-id``: the one rule, used to make the filter options and to
    word library errors, so the two cannot disagree.
    """
    return _SPELLED.get(argument, flag_name(argument))


def cli_message(exc: KaokoreError) -> str:
    """The one-line message of ``exc`` for a terminal: library argument names as flags."""
    if isinstance(exc, ArgumentError):
        return exc.worded(flag_of(exc.argument))
    return str(exc)


def face_filter_options(command: Callable[..., T]) -> Callable[..., T]:
    """Give a typer command one option per :class:`FaceFilter` field, and hand it ``where``.

    ``command`` declares ``where: FaceFilter``; typer sees, in its place, ``--work``,
    ``--status`` ... (repeatable where the filter takes several values), with the help text
    of the field, and the command receives the :class:`FaceFilter` they make. A filter
    added to the dataclass is thus an option of every filtering command at once.
    """
    signature = inspect.signature(command, eval_str=True)
    if "where" not in signature.parameters:
        raise TypeError(f"{command.__name__} must take where: FaceFilter")
    names = [item.name for item, _option in filter_fields()]
    options = [
        inspect.Parameter(
            item.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                list[str] | None if option.multiple else str | None,
                typer.Option(flag_of(item.name), help=option.help, rich_help_panel=FILTERS_PANEL),
            ],
        )
        for item, option in filter_fields()
    ]
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == "where":
            parameters.extend(options)
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def with_filters(*args: Any, **kwargs: Any) -> T:
        given = {name: value for name in names if (value := kwargs.pop(name, None)) is not None}
        return command(*args, where=FaceFilter(**given), **kwargs)

    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_filters.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_filters
