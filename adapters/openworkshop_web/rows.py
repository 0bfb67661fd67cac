"""The catalog's rows of mods, written in Python: the hot path of the catalog page (20 rows a
page; ``bench/http.py`` measures the page against the JSON listing). Every value is escaped
with ``html.escape``; the rest of each page is a template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Final

from markupsafe import Markup

from openworkshop.domain import Mod

__all__ = ["SHORT_LENGTH", "human_date", "human_size", "mod_rows"]

SHORT_LENGTH: Final = 180
"""Characters of a short description shown in a row."""


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def human_date(value: dt.datetime | None) -> str:
    return value.date().isoformat() if value else "—"


def _short(text: str) -> str:
    if len(text) <= SHORT_LENGTH:
        return text
    cut = text[:SHORT_LENGTH].rsplit(" ", 1)[0]
    return cut + "…"


def mod_rows(
    mods: Sequence[Mod],
    logos: Mapping[int, str],
    game_names: Mapping[int, str],
    web: str,
    words: Mapping[str, str],
) -> Markup:
    """A ``<ul class="mods">`` of ``mods``: logo (``logos`` hold checked http(s) URLs), name,
    game, short description, size, downloads and dates; links under ``web``."""
    web = escape(web)
    size, downloads = escape(words["size"]), escape(words["downloads"])
    created, updated = escape(words["created"]), escape(words["updated"])
    out = ['<ul class="mods">']
    for mod in mods:
        href = f"{web}/mods/{mod.id}"
        name = escape(mod.name or str(mod.id))
        logo = logos.get(mod.id)
        if logo:
            picture = (
                f'<img src="{escape(logo)}" alt="" loading="lazy" referrerpolicy="no-referrer">'
            )
        else:
            picture = f'<span class="no-logo">{escape((mod.name or "?")[:1])}</span>'
        game = ""
        if mod.game_id is not None and mod.game_id in game_names:
            game = (
                f'<a class="game" href="{web}/games/{mod.game_id}">'
                f"{escape(game_names[mod.game_id])}</a>"
            )
        out.append(
            f'<li class="mod" data-mod-id="{mod.id}"><a class="logo" href="{href}">{picture}</a>'
            f'<div class="about"><a class="name" href="{href}">{name}</a>{game}'
            f'<p class="short">{escape(_short(mod.short_description))}</p>'
            f'<dl class="facts"><dt>{size}</dt><dd class="size">{human_size(mod.size)}</dd>'
            f'<dt>{downloads}</dt><dd class="downloads">{mod.downloads}</dd>'
            f"<dt>{created}</dt><dd>{human_date(mod.date_creation)}</dd>"
            f"<dt>{updated}</dt><dd>{human_date(mod.date_update)}</dd></dl></div></li>"
        )
    out.append("</ul>")
    return Markup("\n".join(out))
