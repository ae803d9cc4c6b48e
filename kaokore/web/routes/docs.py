"""``/api/docs``: the JSON API's reference, rendered here from the OpenAPI document.

Why not Swagger UI: it loads its scripts from a CDN, which a machine without internet (and
this app's Content-Security-Policy) cannot use. The machine-readable description stays at
``/api/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kaokore.web.context import WebContext, context_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(context_of)]


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        kind = schema.get("type") or "/".join(
            str(option.get("type")) for option in schema.get("anyOf", []) if option.get("type")
        )
        if kind == "array":
            kind = f"{schema.get('items', {}).get('type', '')} (repeat)"
        limits = [
            f"{word} {schema[key]}"
            for key, word in (("minimum", "≥"), ("maximum", "≤"), ("pattern", "matches"))
            if key in schema
        ]
        out.append(
            {
                "name": parameter["name"],
                "where": parameter.get("in", ""),
                "kind": kind,
                "default": schema.get("default", ""),
                "limits": ", ".join(limits),
                "description": parameter.get("description") or schema.get("description") or "",
            }
        )
    return out


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, context: Context) -> HTMLResponse:
    spec = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "parameters": _parameters(operation),
        }
        for path, methods in spec.get("paths", {}).items()
        for method, operation in methods.items()
    ]
    return context.render(request, "api_docs.html", spec=spec, operations=operations)
