"""Settings: read from the environment in one place, every one documented."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from openworkshop.settings import DURATIONS, SETTINGS, Settings, SettingsError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    """docs/settings.md names every setting and its variable (as datasette does)."""
    text = DOCS.read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in text or f"`{s.name}`" not in text]
    assert missing == []


def test_settings_and_fields_agree() -> None:
    assert [s.name for s in SETTINGS] == [f.name for f in attrs.fields(Settings)]
    defaults = Settings()
    for s in SETTINGS:
        assert getattr(defaults, s.name) == s.default, s.name


def test_from_env_converts_and_overrides() -> None:
    env = {
        "OPENWORKSHOP_PORT": "9001",
        "OPENWORKSHOP_DATA_DIR": "/srv/ow",
        "OPENWORKSHOP_STEAM_API_KEY": "KEY",
        "OPENWORKSHOP_UPDATE_COOLDOWN": "60",
        "OPENWORKSHOP_STEAMCMD": "",
    }
    s = Settings.from_env(env, port=9002)
    assert (s.port, s.data_dir, s.steam_api_key, s.update_cooldown) == (
        9002,
        Path("/srv/ow"),
        "KEY",
        60.0,
    )
    assert s.steamcmd == "steamcmd"  # empty means unset


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="OPENWORKSHOP_PORT"):
        Settings.from_env({"OPENWORKSHOP_PORT": "eighty"})


def test_password_is_not_in_repr() -> None:
    assert "hunter2" not in repr(Settings(steam_password="hunter2"))


def test_an_unknown_variable_is_refused_with_the_closest_name() -> None:
    """A typo must not be silently ignored: the server would run with the default."""
    with pytest.raises(SettingsError, match=r"OPENWORKSHOP_STEAMCMD_PATH: no such setting; "
                       r"did you mean OPENWORKSHOP_STEAMCMD\?"):  # fmt: skip
        Settings.from_env({"OPENWORKSHOP_STEAMCMD_PATH": "/usr/games/steamcmd"})
    with pytest.raises(SettingsError, match="OPENWORKSHOP_COLOUR: no such setting"):
        Settings.from_env({"OPENWORKSHOP_COLOUR": "blue"})


def test_names_read_elsewhere_and_other_programs_variables_pass() -> None:
    env = {
        "OPENWORKSHOP_SERVER": "granian",
        "OPENWORKSHOP_FAKE_STEAMCMD_ITEM_DELAY": "1",
        "HOME": "/root",
        "OPENWORKSHOPPER": "x",
    }
    assert Settings.from_env(env) == Settings()


@pytest.mark.parametrize("name", sorted(DURATIONS))
def test_a_negative_duration_is_refused(name: str) -> None:
    env = next(s.env for s in SETTINGS if s.name == name)
    with pytest.raises(SettingsError, match=f"{env} .*must be 0 or more"):
        Settings.from_env({env: "-1"})
    with pytest.raises(SettingsError, match="must be 0 or more"):
        Settings(**{name: float("nan")})
    assert getattr(Settings.from_env({env: "0"}), name) == 0.0


def test_every_duration_is_a_float_setting() -> None:
    assert {s.name for s in SETTINGS if isinstance(s.default, float)} >= DURATIONS


@pytest.mark.parametrize("port", ["-1", "65536", "99999"])
def test_a_port_out_of_range_is_refused(port: str) -> None:
    with pytest.raises(SettingsError, match="0 to 65535"):
        Settings.from_env({"OPENWORKSHOP_PORT": port})
