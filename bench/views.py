"""The row builders of ``/list/mods/``: ``views.mod_list`` on a 50-row page, against the
views.py of a given commit loaded into the same process (``python bench/views.py [commit]``,
default ``HEAD``)."""

from __future__ import annotations

import datetime as dt
import sys
import timeit

from commits import module_at

from openworkshop import views
from openworkshop.domain import Mod
from openworkshop.ports import Page
from openworkshop.query import ModFields
from openworkshop.states import ModState


def _page() -> Page[Mod]:
    when = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    mods = [
        Mod(
            id=2955709750 + i,
            name=f"mod {i}",
            game_id=4000,
            state=ModState.READY,
            size=1000 + i,
            downloads=i * 7,
            short_description="short " * 10,
            description="long " * 100,
            date_creation=when,
            date_update=when,
        )
        for i in range(50)
    ]
    return Page(total=10_000, offset=0, items=mods)


def main(commit: str = "HEAD") -> None:
    before = module_at(commit, "views")
    page = _page()
    cases = {
        "default (general)": ModFields(),
        "every group": ModFields(short_description=True, description=True, dates=True),
    }
    for label, fields in cases.items():
        assert before.mod_list(page, fields) == views.mod_list(page, fields)
        for name, module in (("before", before), ("after", views)):
            runs = timeit.repeat(
                lambda m=module, f=fields: m.mod_list(page, f), number=2000, repeat=7
            )
            print(f"{label:18} {name:6} {min(runs) / 2000 * 1e6:8.1f} µs per page")


if __name__ == "__main__":
    main(*sys.argv[1:])
