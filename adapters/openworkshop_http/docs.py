"""``/docs``: Swagger UI over our own ``/openapi.json``, its assets served by us from the
``swagger-ui-bundle`` package: no CDN, no call to the online validator, nothing that names
an outside host. The package's own ``index.html`` and ``swagger-initializer.js`` point the
browser at petstore.swagger.io, so only the files our page loads are served."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import swagger_ui_bundle  # type: ignore[import-untyped]
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from openworkshop_http.encoding import JSONResponse

__all__ = ["ASSETS", "STATIC_PREFIX", "docs_page", "openapi_endpoint", "swagger_assets"]

STATIC_PREFIX: Final = "/docs/static"
ASSETS: Final = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
    }
)
"""The files of the package ``/docs`` loads; the only ones served."""

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
    queryConfigEnabled: false,
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


class _Assets(StaticFiles):
    """The package's folder, of which only :data:`ASSETS` are served (404 otherwise)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in ASSETS:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def swagger_assets() -> StaticFiles:
    """The Swagger UI files ``/docs`` loads, from the ``swagger-ui-bundle`` package."""
    return _Assets(directory=Path(swagger_ui_bundle.swagger_ui_path))


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
