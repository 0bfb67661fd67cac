"""Settings: each a field declared once (variable, default, help), read from the environment
by one mechanism that works on any settings class."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from openworkshop.settings import (
    Settings,
    SettingsError,
    check_environment,
    duration,
    durations,
    read_settings,
    setting,
    settings_of,
    settings_table,
    split_overrides,
)


@attrs.frozen(kw_only=True)
class Knobs:
    """A settings class of every kind, as an adapter would declare one."""

    name: str = setting(env="OPENWORKSHOP_NAME", default="x", help="A name.")
    count: int = setting(env="OPENWORKSHOP_COUNT", default=2, help="A count.")
    wait: float = duration(env="OPENWORKSHOP_WAIT", default=1.5, help="A wait.")
    folder: Path | None = setting(env="OPENWORKSHOP_FOLDER", default=None, help="A folder.")
    on: bool = setting(env="OPENWORKSHOP_ON", default=False, help="A switch.")
    token: str | None = setting(
        env="OPENWORKSHOP_TOKEN", default=None, help="A secret.", secret=True
    )


def test_each_field_is_declared_once_with_its_variable_default_and_help() -> None:
    specs = settings_of(Knobs)
    assert [s.name for s in specs] == [f.name for f in attrs.fields(Knobs)]
    assert [s.kind for s in specs] == [str, int, float, Path, bool, str]
    defaults = Knobs()
    for spec in specs:
        assert getattr(defaults, spec.name) == spec.default, spec.name
        assert spec.env.startswith("OPENWORKSHOP_") and spec.help
    for spec in settings_of(Settings):
        assert spec.env == "OPENWORKSHOP_" + spec.name.upper() and spec.help


def test_a_variable_outside_the_prefix_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="OPENWORKSHOP_"):
        setting(env="STEAMCMD", default="steamcmd", help="no")


def test_read_converts_by_type_and_overrides_win() -> None:
    env = {
        "OPENWORKSHOP_COUNT": "7",
        "OPENWORKSHOP_WAIT": "0.5",
        "OPENWORKSHOP_FOLDER": "/srv/ow",
        "OPENWORKSHOP_ON": "yes",
        "OPENWORKSHOP_NAME": "",
        "OPENWORKSHOP_ELSE": "left to check_environment",
    }
    knobs = read_settings(Knobs, env, {"count": 9, "token": None})
    assert knobs == Knobs(count=9, wait=0.5, folder=Path("/srv/ow"), on=True)
    assert knobs.name == "x"  # empty means unset


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="OPENWORKSHOP_COUNT"):
        read_settings(Knobs, {"OPENWORKSHOP_COUNT": "eighty"})
    with pytest.raises(SettingsError, match="OPENWORKSHOP_WORKERS"):
        Settings.from_env({"OPENWORKSHOP_WORKERS": "two"})


def test_a_secret_is_not_in_repr() -> None:
    assert "hunter2" not in repr(Knobs(token="hunter2"))


def test_an_unknown_variable_is_refused_with_the_closest_name() -> None:
    """A typo must not be silently ignored: the server would run with the default."""
    with pytest.raises(SettingsError, match=r"OPENWORKSHOP_COUNTS: no such setting; "
                       r"did you mean OPENWORKSHOP_COUNT\?"):  # fmt: skip
        check_environment({"OPENWORKSHOP_COUNTS": "3"}, [Settings, Knobs])
    with pytest.raises(SettingsError, match="OPENWORKSHOP_COLOUR: no such setting"):
        check_environment({"OPENWORKSHOP_COLOUR": "blue"}, [Settings, Knobs])
    env = {"OPENWORKSHOP_LEASE": "1", "OPENWORKSHOP_ON": "1", "OPENWORKSHOPPER": "x", "HOME": "/"}
    check_environment(
        {**env, "OPENWORKSHOP_FAKE_X": "1"}, [Settings, Knobs], elsewhere=["OPENWORKSHOP_FAKE_"]
    )
    with pytest.raises(SettingsError, match="OPENWORKSHOP_FAKE_X"):
        check_environment({"OPENWORKSHOP_FAKE_X": "1"}, [Settings, Knobs])


def test_the_core_reads_only_its_own_names() -> None:
    """The core does not know the adapters' variables; the wiring checks all of them."""
    env = {"OPENWORKSHOP_LEASE": "2", "OPENWORKSHOP_HOST": "0.0.0.0"}
    assert Settings.from_env(env, workers=3) == Settings(lease=2.0, workers=3)


def test_overrides_are_split_by_the_class_that_has_them() -> None:
    parts = split_overrides({"lease": 1.0, "count": 3}, [Settings, Knobs])
    assert parts == [{"lease": 1.0}, {"count": 3}]
    with pytest.raises(TypeError, match="'colour' is no setting"):
        split_overrides({"colour": "blue"}, [Settings, Knobs])


@pytest.mark.parametrize("name", sorted(durations(Settings)))
def test_a_negative_duration_is_refused(name: str) -> None:
    env = next(s.env for s in settings_of(Settings) if s.name == name)
    with pytest.raises(SettingsError, match=f"{env} .*must be 0 or more"):
        Settings.from_env({env: "-1"})
    with pytest.raises(SettingsError, match="must be 0 or more"):
        Settings(**{name: float("nan")})
    assert getattr(Settings.from_env({env: "0"}), name) == 0.0


def test_every_duration_is_a_float_setting() -> None:
    assert durations(Settings) == {
        "update_cooldown",
        "gather_window",
        "retry_base",
        "rate_limit_pause",
        "event_retention",
        "lease",
        "progress_interval",
    }
    for cls in (Settings, Knobs):
        assert {s.name for s in settings_of(cls) if s.kind is float} >= durations(cls)


def test_the_table_lists_each_setting_with_its_default() -> None:
    table = settings_table(Knobs).splitlines()
    assert table[0] == "| setting | environment variable | default | what it does |"
    assert table[2] == "| `name` | `OPENWORKSHOP_NAME` | `x` | A name. |"
    assert table[4] == "| `wait` | `OPENWORKSHOP_WAIT` | `1.5` | A wait. |"
    assert table[5] == "| `folder` | `OPENWORKSHOP_FOLDER` | unset | A folder. |"
    assert len(table) == 2 + len(settings_of(Knobs))
