"""Names a package exports but imports only on first use.

Why: ``import kaokore.learn`` must not import torch, ``import kaokore.compiler`` must not
import the database in an image worker, and ``kaokore --help`` must stay fast; yet each
package exports its public names (``from kaokore.learn import KaoKore``). A package lists
where each name lives and hands the two module hooks this returns to Python (PEP 562)::

    __getattr__, __dir__ = lazy_exports(__name__, {"build_release": "kaokore.compiler.build"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose name ``N`` is imported from
    module ``homes[N]`` when first asked for, then kept in the package like any other."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
