"""The parameter tables of docs/http.md, generated from the endpoint table and the parameter
declarations (as ``openapi.py`` generates the OpenAPI document from them).

``python -m openworkshop_http.reference docs/http.md`` rewrites the part of the file between
the markers; ``tests/http/test_reference.py`` fails while the file differs from it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from openworkshop import query
from openworkshop.domain import ResourceType
from openworkshop.query import MAX_NAME_LENGTH, Kind, Param
from openworkshop_http.api import ENDPOINTS, Endpoint

__all__ = ["BEGIN", "END", "parameter_tables", "rewrite"]

BEGIN: Final = "<!-- parameters: generated from adapters/openworkshop_http/api.py -->"
END: Final = "<!-- parameters: end -->"

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
        Kind.TEXT: f"text, at most {MAX_NAME_LENGTH} characters",
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
        f"### `GET {endpoint.path}`",
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


def rewrite(text: str) -> str:
    """``text`` (docs/http.md) with the generated tables between its markers."""
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    return text[:start] + "\n\n" + parameter_tables() + "\n\n" + text[end:]


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    path = Path(sys.argv[1])
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
