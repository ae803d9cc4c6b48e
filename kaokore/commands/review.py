"""``kaokore suggest`` and ``kaokore users``: model suggestions and the reviewers who check them.

Thin shells over :func:`kaokore.review.suggest.suggest` and :mod:`kaokore.review.users`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kaokore.commands.common import console, face_filter_options, open_db, require_train_extra
from kaokore.commands.query import LimitOption, print_table
from kaokore.face_filter import FaceFilter

__all__ = ["require_review_extra", "suggest", "users_app"]

users_app = typer.Typer(
    help="Reviewers: the people who may write review decisions in `kaokore web --review`.",
    no_args_is_help=True,
)


def require_review_extra(command: str) -> None:
    """Fail with the install hint, not a traceback, when the review extra is missing.

    argon2-cffi hashes passwords; python-multipart reads the login and decision forms.
    """
    import importlib.util

    from kaokore.errors import UsageError

    wanted = {"argon2-cffi": ("argon2",), "python-multipart": ("python_multipart", "multipart")}
    missing = [
        package
        for package, modules in wanted.items()
        if all(importlib.util.find_spec(module) is None for module in modules)
    ]
    if missing:
        raise UsageError(
            f"{command} needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'}"
            " not installed. Install the review extra: pip install 'kaokore[review]'"
        )


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


@face_filter_options
def suggest(
    ctx: typer.Context,
    where: FaceFilter,
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help="A run folder of `kaokore train classify` (holding best.pt and config.json).",
            show_default=False,
        ),
    ],
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="gender or status; must be the model's task [default: the model's].",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Faces per forward pass.")
    ] = 64,
    device: Annotated[
        str, typer.Option("--device", help="auto (a GPU when present), cpu or cuda.")
    ] = "auto",
    limit: LimitOption = None,
) -> None:
    """Run a trained classifier over the faces with a crop and store its suggestions.

    Each prediction is a machine annotation with the model's id (checkpoint sha256,
    architecture, training release), the class probabilities and the time. Suggestions never
    change a human label and never enter a release; a reviewer accepts or overrides them in
    `kaokore web --review`. Faces of the model's training split are marked as seen in training.
    Faces the same checkpoint already suggested for are skipped.

    Examples:

    ```
    kaokore suggest --model kaokore-data/runs/resnet18-status-20261207-010000
    kaokore suggest --model runs/gender --task gender --work 宇津保物語 --device cpu
    ```
    """
    require_train_extra("kaokore suggest", ("torch", "torchvision"))
    from kaokore.review.suggest import suggest as run_suggest

    summary = run_suggest(
        open_db(ctx),
        model,
        task=task,
        batch_size=batch_size,
        device=device,
        limit=limit or None,
        progress=True,
        where=where,
    )
    seen = (
        f"{summary.in_training} seen in training"
        if summary.training_known
        else "training faces unknown (the training release folder is not readable)"
    )
    _say(
        f"{summary.model} ({summary.task}, {summary.device}): {summary.suggested} new "
        f"suggestions, {summary.already} already suggested by this model, {summary.no_crop} "
        f"without a crop, {summary.unreadable} unreadable crops; {seen}; "
        f"{summary.seconds:.1f} s."
    )


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The reviewer's login name.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input (for scripts)."
        ),
    ] = False,
) -> None:
    """Create a reviewer; the password is asked twice (hidden) and stored as an Argon2id hash.

    Examples:

    ```
    kaokore users add alice
    printf '%s' "$PASSWORD" | kaokore users add bob --password-stdin
    ```
    """
    require_review_extra("kaokore users add")
    from kaokore.review.users import add_reviewer

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_db(ctx).session() as session:
        info = add_reviewer(session, name, password)
    _say(f"Reviewer {info.name} added (id {info.id}).")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List the reviewers.

    Examples:

    ```
    kaokore users list
    ```
    """
    require_review_extra("kaokore users list")
    from kaokore.review.users import list_reviewers

    with open_db(ctx, read_only=True).session() as session:
        reviewers = list_reviewers(session)
    print_table(
        ("id", "name", "disabled"),
        [[r.id, r.name, r.disabled] for r in reviewers],
        caption=f"{len(reviewers)} reviewers",
    )
