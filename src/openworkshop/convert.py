"""The project's one cattrs converter: dates as ISO text, enums by value, tuples as lists.

``openworkshop.params`` adds the structure hooks of the query classes (a request's raw
parameters to a query object, each field by its declaration's hook)."""

from __future__ import annotations

import datetime as dt

import cattrs

__all__ = ["converter"]

converter = cattrs.Converter(forbid_extra_keys=True)
converter.register_unstructure_hook(dt.datetime, lambda value: value.isoformat())
converter.register_structure_hook(dt.datetime, lambda value, _: dt.datetime.fromisoformat(value))
converter.register_unstructure_hook(dt.date, lambda value: value.isoformat())
converter.register_structure_hook(dt.date, lambda value, _: dt.date.fromisoformat(value))
