"""Parameter parsing: each query class's ``from_params`` on a few typical requests, against
the query.py of a given commit loaded into the same process (``python bench/params.py
[commit]``, default ``HEAD``).

Prints µs per request for each (the query string already split into names and values, as
``endpoints.query_params`` hands it over: what both versions are given) and checks that both
read the same query, or raise the same error with the same details (as a set: since the
converter reads them, a request's problems are listed in the order the parameters are
declared). Asserts no timing.
"""

from __future__ import annotations

import contextlib
import sys
import timeit
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

import attrs
from commits import module_at

from openworkshop import query
from openworkshop.errors import ApiError

Params = dict[str, list[str]]
Read = Callable[[ModuleType, Params], Any]

CASES: dict[str, tuple[str, Read]] = {
    "/list/mods/ (none)": ("", lambda m, p: m.ModListQuery.from_params(p)),
    "/list/mods/ (a launcher's page)": (
        "page_size=50&page=2&sort=iDOWNLOADS&games=[294100]&tags=[12,40,7]&dates=true"
        "&short_description=true",
        lambda m, p: m.ModListQuery.from_params(p),
    ),
    "/list/mods/ (q, a web form)": (
        "q=harmony+trains&name=&sort=&game=294100&primary_sources=steam",
        lambda m, p: m.ModListQuery.from_params(p),
    ),
    "/list/games/": (
        "page_size=20&sort=NAME&type_app=game&statistics=true",
        lambda m, p: m.GameListQuery.from_params(p),
    ),
    "/list/tags/mods/[...]": (
        "tags=1,2,3&only_ids=true",
        lambda m, p: m.ModTagsQuery.from_params("[2955709750,3024527775,3011111111]", p),
    ),
    "/info/mod/{id}": (
        "dependencies=true&game=true&description=true",
        lambda m, p: m.ModInfoQuery.from_params("2955709750", p),
    ),
    "/condition/mod/[...]": (
        "",
        lambda m, p: m.ConditionQuery.from_params("[2955709750,3024527775]", p),
    ),
    "/statistics/hour": (
        "select_date=2026-03-01&start_hour=3&end_hour=20",
        lambda m, p: m.HourStatsQuery.from_params(p),
    ),
    "/list/mods/ (malformed: 422)": (
        "page=x&tags=[1,a]&sort=NOPE&colour=red",
        lambda m, p: m.ModListQuery.from_params(p),
    ),
}


def _params(text: str) -> Params:
    out: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        out.setdefault(name, []).append(value)
    return out


def _outcome(read: Read, module: ModuleType, params: Params) -> Any:
    """What a version makes of a request: the query's fields, or the error's body."""
    try:
        got = read(module, params)
    except ApiError as error:
        body = error.body()
        if isinstance(body.get("details"), list):
            body["details"] = sorted(body["details"])
        return (type(error).__name__, body)
    return attrs.asdict(got, recurse=True)


def _times(read: Read, modules: Sequence[ModuleType], params: Params, number: int) -> list[float]:
    """µs per request of each version: the best of 9 rounds, the versions alternating in
    each round (so a load that comes and goes weighs on both alike)."""

    def once(module: ModuleType) -> None:
        with contextlib.suppress(ApiError):
            read(module, params)

    best = [float("inf")] * len(modules)
    for _ in range(9):
        for i, module in enumerate(modules):
            seconds = timeit.timeit(lambda m=module: once(m), number=number)  # type: ignore[misc]
            best[i] = min(best[i], seconds / number * 1e6)
    return best


def main(commit: str = "HEAD", number: int = 5000) -> None:
    before = module_at(commit, "query")
    print(f"µs per request; before: query.py at {commit}, after: this tree")
    for label, (text, read) in CASES.items():
        params = _params(text)
        assert _outcome(read, before, params) == _outcome(read, query, params), label
        old, new = _times(read, (before, query), params, number)
        print(f"{label:34} before {old:6.1f}  after {new:6.1f}  ({new / old:4.2f}x)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
