"""The ``kaokore`` command: the global options, the command groups and error reporting.

Every user mistake or upstream failure ends as one ``Error: ...`` line on stderr and the
exit code of its :mod:`kaokore.errors` class (2 for usage and database errors); tracebacks
appear only with ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer 0.29+ vendors click; older releases use the click package
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]

from kaokore import __version__
from kaokore.commands import build as build_commands
from kaokore.commands import db as db_commands
from kaokore.commands import export as export_commands
from kaokore.commands import gan as gan_commands
from kaokore.commands import ingest as ingest_commands
from kaokore.commands import paint as paint_commands
from kaokore.commands import query as query_commands
from kaokore.commands import research as research_commands
from kaokore.commands import review as review_commands
from kaokore.commands import serve as serve_commands
from kaokore.commands import train as train_commands
from kaokore.commands import web as web_commands
from kaokore.commands.common import AppState, DbOption, HomeOption, cli_message
from kaokore.config import Settings
from kaokore.errors import KaokoreError, operational_error

__all__ = ["app", "main"]


class KaokoreGroup(TyperGroup):
    """The root group: turns every error into one line and the right exit code."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            result = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except KaokoreError as exc:
            if debug:
                raise
            click.echo(f"Error: {cli_message(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                click.echo(exc.ctx.get_help() if exc.ctx is not None else "", err=True)
                sys.exit(exc.exit_code)
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except Exception as exc:
            # A full disk or a read-only file, wherever it surfaced: one line, what to do.
            mapped = operational_error(exc)
            if mapped is None or debug:
                raise
            click.echo(f"Error: {mapped}", err=True)
            sys.exit(mapped.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=KaokoreGroup,
    name="kaokore",
    help=(
        "Harvest CODH's expert-annotated faces of pre-modern Japanese art into a research "
        "database, and compile reproducible KaoKore releases.\n\n"
        "Start here: `kaokore ingest` (harvest), `kaokore build --version 1.0` (release), "
        "`kaokore query faces --status warrior` (research)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kaokore {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: DbOption = None,
    home: HomeOption = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Global options, shared by every command (``--debug`` is read by :func:`main`, which
    must know it before this callback runs, to show the traceback of an error raised here)."""
    ctx.obj = AppState(settings=Settings.from_env(home=home, db_url=db))


# command groups: the data flow, in order. Modules import heavy packages (torch,
# tensorflow) inside their commands, so that `kaokore --help` works on a light install.
app.add_typer(db_commands.app, name="db")
app.command("ingest")(ingest_commands.ingest)
app.command("serve")(serve_commands.serve)
app.command("demo")(serve_commands.demo)
app.command("build")(build_commands.build)
app.command("verify")(build_commands.verify)
app.add_typer(query_commands.app, name="query")
app.command("sql")(research_commands.sql)
app.command("sparql")(research_commands.sparql)
app.command("similar")(research_commands.similar)
app.add_typer(export_commands.app, name="export")
app.add_typer(train_commands.app, name="train")
app.add_typer(gan_commands.app, name="gan")
app.add_typer(paint_commands.app, name="paint")
app.command("web")(web_commands.web)
app.command("suggest")(review_commands.suggest)
app.add_typer(review_commands.users_app, name="users")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=argv, prog_name="kaokore")
