"""``/docs``: Swagger UI over our own ``/openapi.json``, its assets served by us from the
``swagger-ui-bundle`` package (no CDN, no call to the online validator)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import swagger_ui_bundle  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC_PREFIX", "docs_page", "openapi_endpoint", "swagger_assets"]

STATIC_PREFIX: Final = "/docs/static"

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>Open Workshop API</title>
<link rel="stylesheet" type="text/css" href="{static}/swagger-ui.css">
<link rel="icon" type="image/png" href="{static}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="{static}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script>
window.onload = function () {{
  window.ui = SwaggerUIBundle({{
    url: {openapi},
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  }});
}};
</script>
</body>
</html>
"""


def swagger_assets() -> StaticFiles:
    """The Swagger UI files shipped in the ``swagger-ui-bundle`` package."""
    return StaticFiles(directory=Path(swagger_ui_bundle.swagger_ui_path))


async def docs_page(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    html = _PAGE.format(static=root + STATIC_PREFIX, openapi=json.dumps(root + "/openapi.json"))
    return HTMLResponse(html)


def openapi_endpoint(document: dict[str, object]) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint answering the OpenAPI document (serialized once)."""
    body = JSONResponse(document).body

    async def openapi(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return openapi
