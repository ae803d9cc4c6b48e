"""Reviewers: who may write review decisions, with their passwords hashed by Argon2id.

Why Argon2id (``argon2-cffi``'s defaults): it is the password hash OWASP recommends, memory-hard
against GPU guessing, and its PHC string carries its own salt and parameters, so stronger
parameters later still verify old hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kaokore.db.models_review import Reviewer
from kaokore.errors import UsageError

__all__ = ["MIN_PASSWORD", "ReviewerInfo", "add_reviewer", "authenticate", "list_reviewers"]

_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Shortest password accepted.
MIN_PASSWORD: Final = 10
_HASHER: Final = PasswordHasher()
#: Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH: Final = _HASHER.hash("kaokore-no-such-reviewer")


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviewerInfo:
    """A reviewer as commands and the web app see it (never the hash)."""

    id: int
    name: str
    disabled: bool


def _info(row: Reviewer) -> ReviewerInfo:
    return ReviewerInfo(id=row.id, name=row.name, disabled=row.disabled)


def add_reviewer(session: Session, name: str, password: str) -> ReviewerInfo:
    """Create reviewer ``name``; raise UsageError for a bad name, a short password or a taken
    name."""
    if not _NAME.match(name):
        raise UsageError(
            f"Invalid reviewer name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    if len(password) < MIN_PASSWORD:
        raise UsageError(
            f"The password of {name} is too short: use {MIN_PASSWORD} characters or more."
        )
    if session.scalars(select(Reviewer).where(Reviewer.name == name)).first() is not None:
        raise UsageError(f"Reviewer {name} exists already.")
    row = Reviewer(name=name, password_hash=_HASHER.hash(password))
    session.add(row)
    session.flush()
    return _info(row)


def list_reviewers(session: Session) -> list[ReviewerInfo]:
    """Every reviewer, by name."""
    return [_info(row) for row in session.scalars(select(Reviewer).order_by(Reviewer.name))]


def authenticate(session: Session, name: str, password: str) -> ReviewerInfo | None:
    """The reviewer if ``password`` is theirs and they are not disabled, else None.

    Takes about as long for an unknown name as for a wrong password, so a guesser cannot
    tell which names exist. Reads only: a login writes nothing to the database.
    """
    row = session.scalars(select(Reviewer).where(Reviewer.name == name)).first()
    try:
        _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    return _info(row)
