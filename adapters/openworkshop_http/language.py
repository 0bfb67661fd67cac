"""The language of an answer, from the request's ``Accept-Language``."""

from __future__ import annotations

from openworkshop.statistics import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["choose_language"]


def choose_language(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header; ``ru`` when none fits.

    Malformed parts are skipped, never an error (a client cannot fix its browser's header).
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language[:1000].split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if not tag or not 0 < quality <= 1:
            continue
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE
