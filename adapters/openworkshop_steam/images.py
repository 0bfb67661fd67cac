"""Steam's image URLs, made comparable.

The workshop page lists images with resizing parameters (``?imw=5000&imh=5000&ima=fit…``)
and HTML-escaped ampersands; the service API lists the same images bare. Both paths give the
bare URL, so an item's screenshots read the same whichever way they were found.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from openworkshop.text import clean_text

__all__ = ["canonical_image_url", "same_image"]

_RESIZING = frozenset({"imw", "imh", "ima", "impolicy", "imcolor", "letterbox"})


def canonical_image_url(url: str) -> str:
    """``url`` unescaped (``&amp;``), cleaned, and without Steam's image resizing parameters.

    A URL that cannot be split (``http://[bad``) is kept as it is, not an error.
    """
    url = clean_text(html.unescape(url.strip()))
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _RESIZING]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def same_image(a: str, b: str) -> bool:
    """Whether two URLs name the same image (ignoring resizing and a trailing slash)."""
    if not a or not b:
        return False
    return canonical_image_url(a).rstrip("/") == canonical_image_url(b).rstrip("/")
