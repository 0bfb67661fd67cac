"""The pages: each reads the request into the core's query objects, asks the ``Workshop``, and
renders a template. Browsing needs no JavaScript; the mod page's button queues the mod (a
form, POST) and ``static/progress.js`` follows it until the download link appears.

Pages are not counted in the API's statistics (they are not endpoints of the original API);
the API calls the page's JavaScript makes are, under their own endpoints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Hashable, Sequence
from importlib.resources import files
from typing import Any, Final

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openworkshop import Workshop
from openworkshop.criteria import GameCriteria, ModSort, Paging
from openworkshop.domain import Game, Mod, ResourceType, Tag
from openworkshop.errors import AlreadyProcessing
from openworkshop.query import (
    GAME_ID,
    MOD_ID,
    DayStatsQuery,
    GameInfoQuery,
    HourStatsQuery,
    ModInfoQuery,
    ModListQuery,
    ModTagsQuery,
    PageQuery,
    ResourcesQuery,
    read_path,
)
from openworkshop_web.bbcode import render_bbcode, safe_url
from openworkshop_web.labels import STATES, labels_for
from openworkshop_web.plots import line_plot
from openworkshop_web.recent import Recent
from openworkshop_web.rows import human_date, human_size, mod_rows

__all__ = ["CATALOG_PAGE_SIZE", "PREFIX", "Pages"]

PREFIX: Final = "/web"
"""Where the pages are mounted (``create_app``); the API's paths stay as they are."""

CATALOG_PAGE_SIZE: Final = 20
CATALOG_PARAMS: Final = ("q", "game", "tags", "sort", "page")
"""What the catalog's form sends: the names of ``/list/mods/``'s parameters."""
MOD_SORTS: Final = tuple(s.value for s in ModSort)
STATS_DAYS: Final = 30
FILTERS_MAX_AGE: Final = 10.0
"""Seconds the games and tags offered as filters are kept before they are read again."""

RateCheck = Callable[[Request], None]
Language = Callable[[str | None], str]
"""The language for an ``Accept-Language`` header (``None`` when there is none)."""
Keep = Callable[[Request, Hashable | None, Response], None]
"""Keeps a page built from reads made after the catalog's version was taken (the HTTP
adapter's kept answers: sent again while nothing is written)."""


def _environment() -> jinja2.Environment:
    folder = files("openworkshop_web") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        auto_reload=False,  # the templates are package data: no stat() per page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = human_size
    env.filters["date"] = human_date
    env.filters["bbcode"] = render_bbcode
    env.filters["safe_url"] = lambda url: safe_url(url or "")
    return env


class Pages:
    """Every page, over one ``Workshop``. ``rate_check`` (the API's per-client limit on
    requests that may call Steam) is applied to the queueing form."""

    def __init__(
        self,
        workshop: Workshop,
        rate_check: RateCheck | None = None,
        *,
        language: Language,
        request_types: Sequence[str],
        keep: Keep | None = None,
    ) -> None:
        self.workshop = workshop
        self.keep = keep
        self.rate_check = rate_check
        self.language = language
        """The language of a request's ``Accept-Language`` header (the HTTP adapter's)."""
        self.request_types = tuple(request_types)
        """The statistics types of the API's requests, for the plots' labels."""
        self.env = _environment()
        self._games: Recent[None, list[Game]] = Recent(FILTERS_MAX_AGE, workshop.clock.monotonic)
        self._tags: Recent[int, list[Tag]] = Recent(FILTERS_MAX_AGE, workshop.clock.monotonic)

    # --- helpers ---------------------------------------------------------------------------

    def _render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        language = self.language(request.headers.get("accept-language"))
        words = labels_for(language)
        web = request.scope.get("root_path", "")
        api = request.scope.get("app_root_path", "")
        context.update(
            mod_rows=mod_rows,
            t=words,
            lang=language,
            states=STATES[language],
            web=web,
            api=api,
            request=request,
        )
        body = self.env.get_template(name).render(context)
        headers = {"Content-Language": language, "Vary": "Accept-Language"}
        return HTMLResponse(body, status_code=status, headers=headers)

    async def _logos(self, mod_ids: list[int]) -> dict[int, str]:
        """Each mod's logo, when it has one with an http(s) URL."""
        if not mod_ids:
            return {}
        query = ResourcesQuery(
            mod_ids=tuple(mod_ids), types=(ResourceType.LOGO,), page=PageQuery(page_size=50)
        )
        found = await self.workshop.list_resources(query)
        return {r.owner_id: url for r in found.items if (url := safe_url(r.url))}

    async def _all_games(self, version: Hashable | None = None) -> list[Game]:
        async def load() -> list[Game]:
            page = await self.workshop.list_games(GameCriteria(page=Paging(page_size=50)))
            return page.items

        return await self._games.get(None, load, version)

    async def _game_tags(self, game_id: int, version: Hashable | None = None) -> list[Tag]:
        async def load() -> list[Tag]:
            return (await self.workshop.list_tags(game_id, PageQuery(page_size=50))).items

        return await self._tags.get(game_id, load, version)

    # --- the catalog -----------------------------------------------------------------------

    async def catalog(self, request: Request) -> Response:
        version = self.workshop.catalog_version()  # before any read: see Keep
        params: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            if name in CATALOG_PARAMS and value.strip():
                params.setdefault(name, []).append(value.strip())
        if "q" not in params and params.get("sort", [""])[-1].lstrip("i") == "RELEVANCE":
            del params["sort"]  # the form offers it always; without a search it means the default
        reverse = request.query_params.get("reverse") == "1"
        if reverse and "sort" in params:
            params["sort"] = ["i" + params["sort"][-1].lstrip("i")]
        shown_page = int(params["page"][-1]) if params.get("page", [""])[-1].isdigit() else 1
        params["page"] = [str(max(shown_page, 1) - 1)]
        params["page_size"] = [str(CATALOG_PAGE_SIZE)]
        query = ModListQuery.from_params(params)
        found = await self.workshop.list_mods(query.criteria)
        logos = await self._logos([m.id for m in found.items])
        games = await self._all_games(version)
        tags = await self._game_tags(query.games[0], version) if len(query.games) == 1 else []
        pages = max(1, math.ceil(found.total / CATALOG_PAGE_SIZE))
        page = self._render(
            request,
            "catalog.html",
            mods=found.items,
            total=found.total,
            logos=logos,
            games=games,
            game_names={g.id: g.name for g in games},
            tags=tags,
            query=query,
            sort=request.query_params.get("sort", "").lstrip("i"),
            reverse=reverse,
            sorts=MOD_SORTS,
            page=query.page.page + 1,
            pages=pages,
        )
        if self.keep is not None:
            self.keep(request, version, page)
        return page

    # --- a mod -----------------------------------------------------------------------------

    async def mod(self, request: Request) -> Response:
        mod_id = read_path(MOD_ID, request.path_params["mod_id"])
        info = await self.workshop.mod_info(
            ModInfoQuery(mod_id=mod_id, dependencies=True, game=True)
        )
        mod: Mod | None = info.mod
        logo = ""
        screenshots: list[str] = []
        tags: list[Tag] = []
        if mod is not None:
            resources = await self.workshop.list_resources(
                ResourcesQuery(mod_ids=(mod_id,), page=PageQuery(page_size=50))
            )
            for r in resources.items:
                if r.type is ResourceType.LOGO:
                    logo = r.url
                else:
                    screenshots.append(r.url)
            tags = (await self.workshop.mod_tags(ModTagsQuery(mod_ids=(mod_id,)))).get(mod_id, [])
        dependencies: list[int] = []
        more = 0
        if info.dependencies is not None:
            dependencies, count = info.dependencies
            more = count - len(dependencies)
        return self._render(
            request,
            "mod.html",
            status=200 if mod is not None else 404,
            mod_id=mod_id,
            mod=mod,
            game=info.game,
            failure=info.failure,
            logo=logo,
            screenshots=screenshots,
            tags=tags,
            dependencies=dependencies,
            more_dependencies=more,
        )

    async def queue(self, request: Request) -> Response:
        """The button without JavaScript (POST): queue the mod, back to its page (303)."""
        mod_id = read_path(MOD_ID, request.path_params["mod_id"])
        if self.rate_check is not None:
            self.rate_check(request)
        # queued, already queued, or already here: its page says which
        with contextlib.suppress(AlreadyProcessing):
            await self.workshop.request_download(mod_id)
        return RedirectResponse(request.url_for("web_mod", mod_id=str(mod_id)), status_code=303)

    # --- games -----------------------------------------------------------------------------

    async def games(self, request: Request) -> Response:
        page = await self.workshop.list_games(GameCriteria(page=Paging(page_size=50)))
        return self._render(request, "games.html", games=page.items)

    async def game(self, request: Request) -> Response:
        game_id = read_path(GAME_ID, request.path_params["game_id"])
        game = await self.workshop.game_info(GameInfoQuery(game_id=game_id))
        found = await self.workshop.list_mods(
            ModListQuery.from_params({"game": [str(game_id)], "page_size": ["50"]}).criteria
        )
        logos = await self._logos([m.id for m in found.items])
        tags = (await self.workshop.list_tags(game_id, PageQuery(page_size=50))).items
        return self._render(
            request,
            "game.html",
            status=200 if game is not None else 404,
            game_id=game_id,
            game=game,
            mods=found.items,
            total=found.total,
            logos=logos,
            tags=tags,
        )

    # --- statistics ------------------------------------------------------------------------

    async def statistics(self, request: Request) -> Response:
        raw = request.query_params.get("date", "").strip()
        params = {"select_date": [raw]} if raw else {}
        hour_query = HourStatsQuery.from_params(params)
        day = hour_query.day or self.workshop.clock.now().date()
        start = day - dt.timedelta(days=STATS_DAYS - 1)
        hours = await self.workshop.hour_stats(hour_query)
        days = await self.workshop.day_stats(DayStatsQuery(start=start, end=day))
        language = self.language(request.headers.get("accept-language"))
        names = self.workshop.type_map(language, self.request_types)

        hour_labels = [f"{h:02d}" for h in range(24)]
        per_hour: dict[str, list[int]] = {}
        for row in hours:
            per_hour.setdefault(names.get(row.type, row.type), [0] * 24)[row.at.hour] += row.count
        day_list = [start + dt.timedelta(days=i) for i in range(STATS_DAYS)]
        day_labels = [d.strftime("%m-%d") for d in day_list]
        index = {d: i for i, d in enumerate(day_list)}
        per_day: dict[str, list[int]] = {}
        for row in days:
            i = index.get(row.at.date())
            if i is not None:
                per_day.setdefault(names.get(row.type, row.type), [0] * STATS_DAYS)[i] += row.count
        sent_name = names.get("files_sent", "files_sent")
        sent = {sent_name: per_day[sent_name]} if sent_name in per_day else {}
        words = labels_for(language)
        return self._render(
            request,
            "statistics.html",
            day=day.isoformat(),
            hour_plot=line_plot(hour_labels, per_hour, title=words["requests_hour"])
            if per_hour
            else None,
            day_plot=line_plot(day_labels, per_day, title=words["requests_day"])
            if per_day
            else None,
            sent_plot=line_plot(day_labels, sent, title=words["sent_day"]) if sent else None,
            delays=await self.workshop.delay_stats(),
            queue_size=await self.workshop.queue_size(),
            summary=await self.workshop.summary(),
        )
