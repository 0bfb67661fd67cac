"""Settings: read from the environment in one place, every one documented."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from openworkshop.settings import SETTINGS, Settings, SettingsError

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
