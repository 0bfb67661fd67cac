"""Open Workshop's web pages: the catalog, a mod's page (with live progress of its download), the
games, and the statistics as plots. Server-rendered HTML (Jinja2, autoescaped) over the core's
``Workshop``; the templates and every asset (CSS, a little JavaScript) ship in this package.

``create_app`` adds ``web_routes(workshop, ...)``: the pages mounted at ``PREFIX`` (``/web``);
docs/web.md lists the pages. The HTTP adapter hands in what is its own to know: its
per-client rate limit, its choice of language from ``Accept-Language`` and the statistics
types of its requests.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from openworkshop import Workshop
from openworkshop_web.bbcode import render_bbcode
from openworkshop_web.pages import PREFIX, Keep, Language, Pages, RateCheck

__all__ = ["PREFIX", "Keep", "Pages", "render_bbcode", "routes", "web_routes"]


def routes(
    workshop: Workshop,
    rate_check: RateCheck | None = None,
    *,
    language: Language,
    request_types: Sequence[str],
    keep: Keep | None = None,
) -> list[BaseRoute]:
    """The pages' routes, relative to where they are mounted (``keep``: where the catalog's
    pages may be kept, to be sent again while nothing is written)."""
    pages = Pages(workshop, rate_check, language=language, request_types=request_types, keep=keep)
    static = StaticFiles(packages=[("openworkshop_web", "static")])
    out: list[BaseRoute] = []
    for path, endpoint, name in (
        ("/", pages.catalog, "web_catalog"),
        ("/mods/{mod_id}", pages.mod, "web_mod"),
        ("/games", pages.games, "web_games"),
        ("/games/{game_id}", pages.game, "web_game"),
        ("/stats", pages.statistics, "web_stats"),
    ):
        out.append(Route(path, endpoint, methods=["GET"], name=name))
        if path != "/":
            out.append(Route(path + "/", endpoint, methods=["GET"]))
    out.append(Route("/mods/{mod_id}/download", pages.queue, methods=["POST"], name="web_queue"))
    out.append(Mount("/static", app=static, name="web_static"))
    return out


def web_routes(
    workshop: Workshop,
    rate_check: RateCheck | None = None,
    *,
    language: Language,
    request_types: Sequence[str],
    keep: Keep | None = None,
) -> list[BaseRoute]:
    """The pages at ``PREFIX`` (``/web`` answers the catalog too): what ``create_app`` adds to
    the API's routes."""
    pages = routes(workshop, rate_check, language=language, request_types=request_types, keep=keep)
    mount = Mount(PREFIX, routes=pages)

    async def bare(request: Request) -> Response:
        return RedirectResponse(request.scope.get("root_path", "") + PREFIX + "/", 307)

    return [Route(PREFIX, bare, methods=["GET"]), mount]
