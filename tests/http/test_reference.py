"""docs/http.md's parameter tables are the ones generated from the declarations (regenerate
with ``python -m openworkshop_http.reference docs/http.md``)."""

from __future__ import annotations

from pathlib import Path

from openworkshop.query import parameters
from openworkshop_http.api import ENDPOINTS
from openworkshop_http.reference import BEGIN, END, parameter_tables, rewrite

HTTP_MD = Path(__file__).parents[2] / "docs" / "http.md"


def test_the_parameter_tables_are_generated() -> None:
    text = HTTP_MD.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert rewrite(text) == text, (
        "docs/http.md differs from the declarations: run "
        "`python -m openworkshop_http.reference docs/http.md`"
    )


def test_every_declared_parameter_has_its_row() -> None:
    tables = parameter_tables()
    for endpoint in ENDPOINTS:
        if endpoint.params is None:
            continue
        section = tables.split(f"### `GET {endpoint.path}`")[1].split("### ")[0]
        for declared in parameters(endpoint.params):
            assert f"| `{declared.name}` |" in section, (endpoint.path, declared.name)
