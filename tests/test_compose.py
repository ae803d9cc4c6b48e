"""docker-compose.yml cannot run here (no Docker engine); check its wiring instead."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


def test_compose_wires_the_app_to_postgres_through_kaokore_db() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume_names = {mount.split(":")[0] for mount in db["volumes"]}
    assert volume_names <= set(compose["volumes"]), "the database keeps its data in a named volume"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    url = make_url(app["environment"]["KAOKORE_DB"])
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "db", "the app reaches the database by its service name"
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.password == db["environment"]["POSTGRES_PASSWORD"]
    assert url.database == db["environment"]["POSTGRES_DB"]
    assert app["build"] == "."


def test_dockerfile_installs_the_postgres_extra_and_runs_the_cli() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "'.[postgres]'" in dockerfile
    assert 'ENTRYPOINT ["kaokore"]' in dockerfile
