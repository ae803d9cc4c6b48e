"""``kaokore users``: reviewers with Argon2id hashes; names and passwords checked."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.db import Database
from kaokore.db.models_review import Reviewer
from kaokore.errors import UsageError
from kaokore.review.users import add_reviewer, authenticate, list_reviewers

runner = CliRunner()


def test_add_and_authenticate(database: Database) -> None:
    with database.session() as session:
        alice = add_reviewer(session, "alice", "a long enough password")
        stored = session.scalars(select(Reviewer)).one().password_hash
        assert stored.startswith("$argon2id$") and "a long enough password" not in stored
        assert authenticate(session, "alice", "a long enough password") == alice
        assert authenticate(session, "alice", "a long enough passwore") is None
        assert authenticate(session, "mallory", "a long enough password") is None
        with pytest.raises(UsageError, match="exists already"):
            add_reviewer(session, "alice", "another long password")
        with pytest.raises(UsageError, match="too short"):
            add_reviewer(session, "bob", "short")
        with pytest.raises(UsageError, match="Invalid reviewer name"):
            add_reviewer(session, "bob smith", "a long enough password")
        session.scalars(select(Reviewer)).one().disabled = True
        session.flush()
        assert authenticate(session, "alice", "a long enough password") is None


@pytest.mark.slow
def test_users_cli(database: Database) -> None:
    added = runner.invoke(
        app, ["users", "add", "carol", "--password-stdin"], input="a long secret!\n"
    )
    assert added.exit_code == 0, added.output
    assert "Reviewer carol added" in added.output
    prompted = runner.invoke(app, ["users", "add", "dave"], input="pass phrase 1\npass phrase 1\n")
    assert prompted.exit_code == 0, prompted.output
    again = runner.invoke(
        app, ["users", "add", "carol", "--password-stdin"], input="a long secret!\n"
    )
    assert again.exit_code == 2 and "Error: Reviewer carol exists already." in again.output
    listed = runner.invoke(app, ["users", "list"])
    assert "carol" in listed.output and "dave" in listed.output
    with database.session() as session:
        assert [r.name for r in list_reviewers(session)] == ["carol", "dave"]
        assert authenticate(session, "dave", "pass phrase 1") is not None
