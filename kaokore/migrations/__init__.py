"""Alembic migration scripts of the kaokore database (run by ``kaokore db upgrade``)."""
