"""The parameter tables and the Errors table of docs/http.md, generated: the parameters from
the endpoint table and the parameter declarations (as ``openapi.py`` generates the OpenAPI
document from them), the errors from the error classes (``message``, ``error_id``, ``when``)
and the status table (``errors.STATUS``, ``errors.RETRY_AFTER``).

``python -m openworkshop_http.reference docs/http.md`` rewrites the parts of the file between
the markers; ``tests/http/test_reference.py`` fails while the file differs from it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from openworkshop import query
from openworkshop.domain import ResourceType
from openworkshop.errors import ApiError, FilterTooComplex
from openworkshop.query import MAX_NAME_LENGTH, Kind, Param
from openworkshop_http.api import ENDPOINTS, Endpoint
from openworkshop_http.errors import RETRY_AFTER, STATUS, nearest

__all__ = [
    "BEGIN",
    "END",
    "ERRORS_BEGIN",
    "ERRORS_END",
    "error_table",
    "errors",
    "parameter_tables",
    "rewrite",
]

BEGIN: Final = "<!-- parameters: generated from adapters/openworkshop_http/api.py -->"
END: Final = "<!-- parameters: end -->"
ERRORS_BEGIN: Final = "<!-- errors: generated from the error classes and errors.STATUS -->"
ERRORS_END: Final = "<!-- errors: end -->"

_LISTS: Final = {
    Kind.IDS: "list of ids",
    Kind.STEAM_IDS: "list of Steam ids",
    Kind.NAMES: "list of names (letters, digits, `_.-`; 1–64)",
    Kind.RESOURCE_TYPES: "list of " + ", ".join(f"`{t.value}`" for t in ResourceType),
}


def _type(declared: Param) -> str:
    kind = declared.kind
    if kind in _LISTS:
        return "one id" if declared.single else _LISTS[kind]
    if kind in (Kind.INTEGER, Kind.PAGE_SIZE):
        return f"integer {declared.minimum}–{declared.maximum}"
    if kind is Kind.SORT:
        return "sort: " + " ".join(f"`{name}`" for name in declared.sorts) + ", `i` reverses"
    return {
        Kind.BOOLEAN: "boolean",
        Kind.TEXT: f"text, at most {MAX_NAME_LENGTH} characters"
        if declared.pattern is None
        else "cursor",
        Kind.DATE: "date `YYYY-MM-DD`",
        Kind.STEAM_ID: "Steam id",
        Kind.STEAM_ID_LIST: "list of Steam ids",
    }[kind]


def _default(declared: Param) -> str:
    value = declared.default
    if value is None or value == ():
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{getattr(value, 'value', value)}`"


def _limit(declared: Param, endpoint: Endpoint) -> str:
    parts = []
    if declared.max_items is not None:
        parts.append(f"{declared.max_items}")
    for limit in query.limits(endpoint.params) if endpoint.params is not None else ():
        if declared.name in limit.names:
            others = [name for name in limit.names if name != declared.name]
            parts.append(f"{limit.total}" + (" with " + " + ".join(others) if others else ""))
    for main in endpoint.parameters:
        if declared in main.aliases:
            parts.append(f"counted with `{main.name}`")
    return "; ".join(parts)


def _help(text: str) -> str:
    return text.replace("|", "\\|")


def _table(endpoint: Endpoint) -> str:
    rows = [
        f"### `{endpoint.method} {endpoint.path}`",
        "",
        "| parameter | in | type | default | limit | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for declared in endpoint.parameters:
        rows.append(
            f"| `{declared.name}` | {declared.location} | {_type(declared)} | "
            f"{_default(declared)} | {_limit(declared, endpoint)} | {_help(declared.help)} |"
        )
    return "\n".join(rows)


def parameter_tables() -> str:
    """Markdown: one table per endpoint that takes parameters, in the endpoint table's order."""
    tables = [_table(endpoint) for endpoint in ENDPOINTS if endpoint.parameters]
    return "\n\n".join(tables)


def errors() -> tuple[type[ApiError], ...]:
    """Every error a client can get: the status table's error classes, in its order (the
    foreign errors it lists are answered as the HTTP layer's own, which it lists too)."""
    return tuple(cls for cls in STATUS if issubclass(cls, ApiError))


def _filter_limits() -> dict[int, list[str]]:
    """Each limit of ``FilterTooComplex`` with what it counts, from the declarations."""
    out: dict[int, list[str]] = {}
    for endpoint in ENDPOINTS:
        counted: list[tuple[int, str]] = []
        if endpoint.params is not None:
            counted += [(lim.total, " + ".join(lim.names)) for lim in query.limits(endpoint.params)]
        counted += [
            (p.max_items, f"more than {p.max_items} `{p.name}`")
            for p in endpoint.parameters
            if p.max_items is not None and p.kind in query.LIST_KINDS
        ]
        for total, what in counted:
            out.setdefault(total, []).append(f"`{endpoint.path}`: {what}")
    return out


def _error_rows(cls: type[ApiError]) -> list[tuple[int, str, str, str, str]]:
    status = nearest(STATUS, cls) or 500
    shown = f"{status} + `Retry-After`" if nearest(RETRY_AFTER, cls) is not None else f"{status}"
    if cls is FilterTooComplex:
        return [
            (
                status,
                shown,
                f"{cls.error_id}",
                f"`{FilterTooComplex(total).message}`",
                "; ".join(what) + f" — {cls.when}",
            )
            for total, what in sorted(_filter_limits().items())
        ]
    return [(status, shown, f"{cls.error_id}", f"`{cls.message}`", cls.when)]


def error_table() -> str:
    """Markdown: one row per error (per limit of ``FilterTooComplex``), by status."""
    rows = [row for cls in errors() for row in _error_rows(cls)]
    rows.sort(key=lambda row: row[0])  # stable: the status table's order within a status
    lines = ["| status | error_id | message | when |", "|---|---|---|---|"]
    lines += [
        f"| {shown} | {error_id} | {message} | {_help(when)} |"
        for _, shown, error_id, message, when in rows
    ]
    return "\n".join(lines)


def _between(text: str, begin: str, end: str, generated: str) -> str:
    start = text.index(begin) + len(begin)
    stop = text.index(end)
    return text[:start] + "\n\n" + generated + "\n\n" + text[stop:]


def rewrite(text: str) -> str:
    """``text`` (docs/http.md) with the generated tables between their markers."""
    text = _between(text, BEGIN, END, parameter_tables())
    return _between(text, ERRORS_BEGIN, ERRORS_END, error_table())


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    path = Path(sys.argv[1])
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
