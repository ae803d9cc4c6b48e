"""A local IIIF server, so that harvesting is tested and benchmarked without the network.

It serves a mirror folder (see :mod:`kaokore.server.mirror`): JSON-LD documents with
``{BASE}`` replaced by its own URL, and a strict IIIF Image API 2.1 and 3.0 over page
images, with per-service compliance levels, conditional requests, latency and deterministic
fault injection. ``kaokore serve DIR --port N`` runs :func:`serve`; tests use
:class:`LocalIIIFServer` as a context manager.
"""

from __future__ import annotations

from kaokore.server.app import DEFAULT_PORT, LocalIIIFServer, serve
from kaokore.server.faults import FaultKind, FaultPlan, Override, OverrideKind
from kaokore.server.imageapi import ServiceConfig, TileSpec
from kaokore.server.log import RequestRecord
from kaokore.server.mirror import BASE_PLACEHOLDER

__all__ = [
    "BASE_PLACEHOLDER",
    "DEFAULT_PORT",
    "FaultKind",
    "FaultPlan",
    "LocalIIIFServer",
    "Override",
    "OverrideKind",
    "RequestRecord",
    "ServiceConfig",
    "TileSpec",
    "serve",
]
