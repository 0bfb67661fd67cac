"""Settings as data: each one an attrs field declared once, with its variable, default and help.

A settings class (the core's :class:`Settings` here; each adapter has its own) declares its
fields with :func:`setting` or :func:`duration`. The functions below work on any such class:
:func:`read_settings` reads one from the environment, :func:`check_environment` refuses an
``OPENWORKSHOP_*`` name that no class declares (a typo would leave the default in place),
:func:`settings_of` lists the fields, and :func:`settings_table` renders them for
``docs/settings.md`` (a test keeps the file equal to what is rendered). The wiring of a
server composes the classes it uses.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from openworkshop.errors import WorkshopError

__all__ = [
    "PREFIX",
    "Setting",
    "Settings",
    "SettingsError",
    "check_environment",
    "duration",
    "durations",
    "one_of",
    "read_settings",
    "setting",
    "setting_named",
    "settings_of",
    "settings_table",
    "split_overrides",
]

T = TypeVar("T")

PREFIX = "OPENWORKSHOP_"
"""Every setting's variable starts so; any other name with it is refused."""

_ENV = "openworkshop.env"
_HELP = "openworkshop.help"
_DURATION = "openworkshop.duration"


class SettingsError(WorkshopError, ValueError):
    """A setting has a value that cannot be used."""


def setting(
    *,
    env: str,
    default: Any,
    help: str,
    validator: Callable[[Any, attrs.Attribute[Any], Any], None] | None = None,
    secret: bool = False,
    _duration: bool = False,
) -> Any:
    """A settings field: its variable ``env``, its ``default`` and ``help`` (the text of
    docs/settings.md). A ``secret`` one is left out of ``repr``."""
    if not env.startswith(PREFIX):
        raise ValueError(f"{env}: a setting's variable starts with {PREFIX}")
    return attrs.field(
        default=default,
        validator=validator,
        repr=not secret,
        metadata={_ENV: env, _HELP: help, _DURATION: _duration},
    )


def _check_duration(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if math.isnan(value) or value < 0:
        env = attribute.metadata[_ENV]
        raise SettingsError(f"{env} ({attribute.name}): {value} seconds; must be 0 or more")


def one_of(choices: Sequence[str]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A validator: the value is one of ``choices``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            env = attribute.metadata[_ENV]
            raise SettingsError(f"{env}: {value!r} is none of {', '.join(choices)}")

    return check


def duration(*, env: str, default: float, help: str) -> Any:
    """A setting in seconds: a float, never negative nor NaN."""
    return setting(env=env, default=default, help=help, validator=_check_duration, _duration=True)


@attrs.frozen(kw_only=True)
class Setting:
    """One declared setting, as :func:`settings_of` lists it."""

    name: str
    env: str
    default: Any
    help: str
    kind: type
    """What the variable is read as: ``str``, ``int``, ``float``, ``bool`` or ``Path``."""


def _kind(annotation: Any) -> type:
    """``int`` for ``int``, ``Path`` for ``Path | None``: the one type besides ``None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(kinds) == 1:
            return _kind(kinds[0])
    if annotation in (str, int, float, bool, Path):
        return typing.cast(type, annotation)
    raise TypeError(f"a setting is a str, int, float, bool or Path, not {annotation!r}")


def settings_of(cls: type) -> tuple[Setting, ...]:
    """The settings ``cls`` declares, in their order."""
    attrs.resolve_types(cls)
    return tuple(
        Setting(
            name=field.name,
            env=field.metadata[_ENV],
            default=field.default,
            help=field.metadata[_HELP],
            kind=_kind(field.type),
        )
        for field in attrs.fields(cls)
        if _ENV in field.metadata
    )


def setting_named(cls: type, name: str) -> Setting:
    """The setting ``name`` of ``cls`` (to name its variable or default elsewhere)."""
    for spec in settings_of(cls):
        if spec.name == name:
            return spec
    raise KeyError(f"{cls.__name__} has no setting {name!r}")


def durations(cls: type) -> frozenset[str]:
    """The names of the settings of ``cls`` that are durations (in seconds)."""
    return frozenset(f.name for f in attrs.fields(cls) if f.metadata.get(_DURATION))


def _convert(spec: Setting, raw: str) -> Any:
    try:
        if spec.kind is bool:
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if spec.kind in (int, float):
            return spec.kind(raw)
        if spec.kind is Path:
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{spec.env}: cannot read {raw!r}: {exc}") from None
    return raw


def read_settings(
    cls: type[T], environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
) -> T:
    """A ``cls`` from its variables in ``environ`` (an empty one counts as unset), then the
    ``overrides`` that are not ``None`` (command-line flags). Names ``cls`` does not declare
    are left alone: :func:`check_environment` knows every class."""
    values: dict[str, Any] = {}
    for spec in settings_of(cls):
        raw = environ.get(spec.env)
        if raw is not None and raw != "":
            values[spec.name] = _convert(spec, raw)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return cls(**values)


def check_environment(
    environ: Mapping[str, str], classes: Iterable[type], *, elsewhere: Sequence[str] = ()
) -> None:
    """Refuse an ``OPENWORKSHOP_*`` name in ``environ`` that none of ``classes`` declares,
    naming the closest one; names starting with one of ``elsewhere`` are read by someone else
    (the shipped fake steamcmd's knobs) and pass."""
    known = [spec.env for cls in classes for spec in settings_of(cls)]
    for name in environ:
        if not name.startswith(PREFIX) or name in known:
            continue
        if any(name.startswith(other) for other in elsewhere):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else "; see docs/settings.md"
        raise SettingsError(f"{name}: no such setting{hint}")


def split_overrides(overrides: Mapping[str, Any], classes: Sequence[type]) -> list[dict[str, Any]]:
    """``overrides`` by the class of ``classes`` that has each name (one dict per class)."""
    parts: list[dict[str, Any]] = [{} for _ in classes]
    for name, value in overrides.items():
        owner = next((i for i, cls in enumerate(classes) if name in attrs.fields_dict(cls)), None)
        if owner is None:
            raise TypeError(f"{name!r} is no setting")
        parts[owner][name] = value
    return parts


def _default(spec: Setting) -> str:
    if spec.default is None:
        return "unset"
    if isinstance(spec.default, Path):
        return f"`{spec.default}`"
    return f"`{spec.default!r}`" if not isinstance(spec.default, str) else f"`{spec.default}`"


def settings_table(cls: type) -> str:
    """The settings of ``cls`` as a Markdown table (docs/settings.md)."""
    lines = [
        "| setting | environment variable | default | what it does |",
        "|---|---|---|---|",
    ]
    for spec in settings_of(cls):
        lines.append(f"| `{spec.name}` | `{spec.env}` | {_default(spec)} | {spec.help} |")
    return "\n".join(lines) + "\n"


@attrs.frozen(kw_only=True)
class Settings:
    """The core's settings: what a Workshop and its worker use.

    Build it in code, or with :meth:`from_env`; each adapter has settings of its own."""

    update_cooldown: float = duration(
        env="OPENWORKSHOP_UPDATE_COOLDOWN",
        default=3 * 3600.0,
        help="Seconds between two checks of one mod against Steam.",
    )
    gather_window: float = duration(
        env="OPENWORKSHOP_GATHER_WINDOW",
        default=0.25,
        help="Seconds a worker waits for more requests to batch together.",
    )
    workers: int = setting(
        env="OPENWORKSHOP_WORKERS",
        default=2,
        help="Download batches worked on at once in one process.",
    )
    max_attempts: int = setting(
        env="OPENWORKSHOP_MAX_ATTEMPTS",
        default=4,
        help="Attempts of one mod before a transient failure counts as final.",
    )
    retry_base: float = duration(
        env="OPENWORKSHOP_RETRY_BASE",
        default=5.0,
        help="First retry delay in seconds; doubles each attempt, with jitter.",
    )
    rate_limit_pause: float = duration(
        env="OPENWORKSHOP_RATE_LIMIT_PAUSE",
        default=300.0,
        help="Seconds all upstream work pauses after Steam signals rate limiting.",
    )
    upstream_per_minute: int = setting(
        env="OPENWORKSHOP_UPSTREAM_PER_MINUTE",
        default=60,
        help="Ceiling on calls to Valve per minute, counted across every process on the database.",
    )
    max_mod_size: int = setting(
        env="OPENWORKSHOP_MAX_MOD_SIZE",
        default=20 << 30,
        help="Bytes one mod may come to unpacked (20 GiB); a larger one fails for good "
        "(`io_error`, the reason in the detail), checked against Steam's `file_size` before "
        "downloading, while a legacy `file_url` streams, and on the folder before packing. "
        "20 GiB leaves room for the largest mods while a disk holds a download and its "
        "archive at once (about twice the mod) several times over; a zip bomb (a sparse file "
        "of a terabyte) or a runaway download stops there.",
    )
    event_retention: float = duration(
        env="OPENWORKSHOP_EVENT_RETENTION",
        default=7 * 86400.0,
        help="Seconds the events feed (`/events`) keeps an event (7 days); a client whose "
        "cursor is older is answered 410 and resyncs from `/list/mods/`.",
    )
    lease: float = duration(
        env="OPENWORKSHOP_LEASE",
        default=30.0,
        help="Seconds a worker holds a mod before another process may take it over.",
    )
    progress_interval: float = duration(
        env="OPENWORKSHOP_PROGRESS_INTERVAL",
        default=1.0,
        help="Seconds between two writes of a downloading mod's progress (bytes downloaded "
        "or packed) to storage, where `/info/mod` and `/progress` read it (0.05 at the least).",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """The core's settings from their ``OPENWORKSHOP_*`` variables, then ``overrides``."""
        return read_settings(cls, environ, overrides)
