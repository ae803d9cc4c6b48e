"""What every command shares: the global state, opening the database, async entry, output.

Options that several commands take are defined once here as ``Annotated`` aliases, so the
flag, its environment variable and its help text are the same everywhere.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from kaokore.config import DB_ENV, HOME_ENV, Settings
from kaokore.db import Database, open_database, open_readonly
from kaokore.errors import UsageError

__all__ = [
    "MaxRowsOption",
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
