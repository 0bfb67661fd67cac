"""docs/http.md's parameter tables and Errors table are the ones generated from the
declarations and the error classes (regenerate with
``python -m openworkshop_http.reference docs/http.md``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import openworkshop.errors as core_errors
import openworkshop_http.errors as http_errors
from openworkshop.errors import ApiError, FilterTooComplex, ModDamaged
from openworkshop.query import parameters
from openworkshop_http.api import ENDPOINTS
from openworkshop_http.errors import RETRY_AFTER, STATUS, nearest
from openworkshop_http.reference import (
    BEGIN,
    END,
    ERRORS_BEGIN,
    ERRORS_END,
    error_table,
    errors,
    parameter_tables,
    rewrite,
)

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
        section = tables.split(f"### `{endpoint.method} {endpoint.path}`")[1].split("### ")[0]
        for declared in parameters(endpoint.params):
            assert f"| `{declared.name}` |" in section, (endpoint.path, declared.name)


def test_the_errors_table_is_generated() -> None:
    text = HTTP_MD.read_text(encoding="utf-8")
    assert ERRORS_BEGIN in text and ERRORS_END in text
    section = text.split(ERRORS_BEGIN)[1].split(ERRORS_END)[0]
    assert section.strip() == error_table()


def _message(cls: type[ApiError]) -> str:
    return FilterTooComplex(30).message if cls is FilterTooComplex else cls.message


def test_every_error_has_its_row_with_its_status() -> None:
    rows = error_table().splitlines()
    for cls in errors():
        assert cls.when, f"{cls.__name__} declares no `when`"
        row = next(row for row in rows if f"| `{_message(cls)}` |" in row)
        status, error_id, _, when = (cell.strip() for cell in row.strip("|").split(" | "))
        assert status.split(" ")[0] == str(nearest(STATUS, cls)), cls.__name__
        assert ("Retry-After" in status) is (nearest(RETRY_AFTER, cls) is not None)
        assert error_id == str(cls.error_id), cls.__name__
        assert cls.when in when, cls.__name__


def test_every_error_a_client_sees_is_in_the_status_table() -> None:
    """An error class added without a status fails here (and its row is then missing)."""
    listed = set(errors())
    for module in (core_errors, http_errors):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ApiError)
                and value.__module__ == module.__name__
                and value is not ApiError
                and "error_id" in vars(value)
            ):
                assert value in listed, value.__name__


def test_a_changed_error_changes_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    before = error_table()
    monkeypatch.setattr(ModDamaged, "message", "the mod is broken")
    assert error_table() != before
    monkeypatch.undo()
    monkeypatch.setitem(STATUS, ModDamaged, 410)
    assert error_table() != before
