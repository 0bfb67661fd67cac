"""Steam's BBCode as safe HTML: every character of the text is escaped, then a known set of
tags becomes markup. Nothing from the text reaches the page as HTML: an unknown or malformed
tag stays visible as text, a link or an image goes out only with an ``http``/``https`` URL
(escaped into a quoted attribute), and every open tag is closed at the end.

Tags: ``[b] [i] [u] [s]/[strike] [h1] [h2] [h3] [url] [url=…] [img] [list] [olist] [*]
[quote] [quote=…] [code] [spoiler] [hr] [noparse]``; line breaks become ``<br>``.
"""

from __future__ import annotations

import re
from html import escape
from typing import Final
from urllib.parse import urlsplit

from markupsafe import Markup

__all__ = ["render_bbcode", "safe_url"]

_TAG: Final = re.compile(r"\[(/?)([a-z*][a-z0-9]*)(?:=([^\]\n]{0,2000}))?\]", re.IGNORECASE)

_SIMPLE: Final = {
    "b": ("<strong>", "</strong>"),
    "i": ("<em>", "</em>"),
    "u": ("<u>", "</u>"),
    "s": ("<s>", "</s>"),
    "strike": ("<s>", "</s>"),
    "h1": ('<h3 class="bb-h1">', "</h3>"),
    "h2": ('<h4 class="bb-h2">', "</h4>"),
    "h3": ('<h5 class="bb-h3">', "</h5>"),
    "list": ("<ul>", "</ul>"),
    "olist": ("<ol>", "</ol>"),
    "spoiler": ('<details class="bb-spoiler"><summary>…</summary>', "</details>"),
}
_BLOCKS: Final = frozenset({"h1", "h2", "h3", "list", "olist", "quote", "code", "hr", "*"})
_VERBATIM: Final = frozenset({"code", "noparse"})
"""Tags whose content is text only, up to their closing tag."""

MAX_DEPTH: Final = 50


def safe_url(raw: str) -> str | None:
    """``raw`` when it is an absolute ``http``/``https`` URL with a host, else None."""
    url = raw.strip()
    if any(ord(c) < 0x21 or c in "\"'<>`\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _link(url: str, text: str) -> str:
    return (
        f'<a href="{escape(url, quote=True)}" rel="nofollow noopener noreferrer" '
        f'target="_blank">{text}</a>'
    )


def _item_open(stack: list[tuple[str, str]]) -> bool:
    """Whether an item (``[*]``) of the innermost list is open."""
    for name, _ in reversed(stack):
        if name == "*":
            return True
        if name in ("list", "olist"):
            return False
    return False


def render_bbcode(text: str) -> Markup:
    """``text`` (Steam's BBCode) as HTML that is safe to put on a page."""
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, closing HTML)
    position = 0
    skip_newline = False

    def emit_text(chunk: str) -> None:
        nonlocal skip_newline
        if skip_newline and chunk.startswith("\r\n"):
            chunk = chunk[2:]
        elif skip_newline and chunk.startswith("\n"):
            chunk = chunk[1:]
        if chunk:
            skip_newline = False
        out.append(escape(chunk, quote=True).replace("\r\n", "\n").replace("\n", "<br>\n"))

    def close_to(name: str) -> None:
        while stack:
            open_name, closing = stack.pop()
            out.append(closing)
            if open_name == name:
                return

    def inside(name: str) -> bool:
        return any(n == name for n, _ in stack)

    while True:
        match = _TAG.search(text, position)
        if match is None:
            emit_text(text[position:])
            break
        emit_text(text[position : match.start()])
        position = match.end()
        closing, name, value = match.group(1), match.group(2).lower(), match.group(3)
        literal = match.group(0)

        if closing:
            if name in ("li",) or not inside(name):
                emit_text(literal)
                continue
            close_to(name)
            skip_newline = name in _BLOCKS
            continue

        if name in _VERBATIM or (name in ("img", "url") and value is None):
            end = re.compile(rf"\[/{name}\]", re.IGNORECASE).search(text, position)
            if end is None:
                emit_text(literal)
                continue
            inner = text[position : end.start()]
            position = end.end()
            if name == "noparse":
                emit_text(inner)
            elif name == "code":
                out.append(f"<pre><code>{escape(inner, quote=True)}</code></pre>")
                skip_newline = True
            elif name == "img":
                url = safe_url(inner)
                if url is None:
                    emit_text(literal + inner + f"[/{name}]")
                else:
                    out.append(
                        f'<img src="{escape(url, quote=True)}" alt="" loading="lazy" '
                        'referrerpolicy="no-referrer">'
                    )
            else:  # [url]…[/url]
                url = safe_url(inner)
                if url is None or inside("url"):
                    emit_text(literal + inner + f"[/{name}]")
                else:
                    out.append(_link(url, escape(inner, quote=True)))
            continue

        if len(stack) >= MAX_DEPTH:
            emit_text(literal)
            continue
        if name == "url":
            url = safe_url(value or "")
            if url is None:
                emit_text(literal)
                continue
            if inside("url"):
                emit_text(literal)
                continue
            out.append(
                f'<a href="{escape(url, quote=True)}" rel="nofollow noopener noreferrer" '
                'target="_blank">'
            )
            stack.append(("url", "</a>"))
        elif name == "quote":
            author = f"<cite>{escape(value, quote=True)}</cite>" if value else ""
            out.append(f"<blockquote>{author}")
            stack.append(("quote", "</blockquote>"))
            skip_newline = True
        elif name == "hr" and value is None:
            out.append("<hr>")
            skip_newline = True
        elif name == "*" and value is None:
            if not (inside("list") or inside("olist")):
                emit_text(literal)
                continue
            if _item_open(stack):
                close_to("*")
            out.append("<li>")
            stack.append(("*", "</li>"))
            skip_newline = True
        elif name in _SIMPLE and value is None:
            opening, closing_html = _SIMPLE[name]
            out.append(opening)
            stack.append((name, closing_html))
            skip_newline = name in _BLOCKS
        else:
            emit_text(literal)
    while stack:
        out.append(stack.pop()[1])
    return Markup("".join(out))
