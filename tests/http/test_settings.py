"""The server's settings: the core's and each adapter's, composed in the wiring; every one
documented in docs/settings.md, whose tables are generated from the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from openworkshop import Settings
from openworkshop.settings import SettingsError, durations, settings_of
from openworkshop_client.settings import ClientSettings
from openworkshop_http import HttpSettings
from openworkshop_http.wiring import (
    ServerSettings,
    settings_classes,
    settings_reference,
    with_settings_reference,
)
from openworkshop_steam import SteamSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_the_docs_tables_are_the_generated_ones() -> None:
    """docs/settings.md holds exactly what the declarations render (regenerate with
    ``python -m openworkshop_http.wiring docs/settings.md``)."""
    text = DOCS.read_text(encoding="utf-8")
    assert text == with_settings_reference(text)


def test_every_setting_is_documented() -> None:
    """docs/settings.md names every setting and its variable (as datasette does)."""
    text = DOCS.read_text(encoding="utf-8")
    specs = [s for cls in settings_classes() for s in settings_of(cls)]
    missing = [s.env for s in specs if f"`{s.env}`" not in text or f"`{s.name}`" not in text]
    assert missing == []
    assert len({s.env for s in specs}) == len(specs), "a variable is declared twice"
    assert all(f"| `{s.env}` |" in settings_reference() for s in specs)


def test_each_part_owns_its_settings() -> None:
    assert settings_classes() == (HttpSettings, Settings, SteamSettings, ClientSettings)
    assert {s.name for s in settings_of(Settings)} >= {"update_cooldown", "max_mod_size"}
    assert {"accel_redirect", "trusted_proxies", "client_rate", "server"} <= {
        s.name for s in settings_of(HttpSettings)
    }
    assert {"steamcmd", "steam_api_key", "legacy_hosts"} <= {
        s.name for s in settings_of(SteamSettings)
    }


def test_from_env_converts_and_overrides() -> None:
    env = {
        "OPENWORKSHOP_PORT": "9001",
        "OPENWORKSHOP_DATA_DIR": "/srv/ow",
        "OPENWORKSHOP_STEAM_API_KEY": "KEY",
        "OPENWORKSHOP_UPDATE_COOLDOWN": "60",
        "OPENWORKSHOP_STEAMCMD": "",
    }
    s = ServerSettings.from_env(env, port=9002, host=None)
    assert (s.http.port, s.http.data_dir, s.steam.steam_api_key, s.core.update_cooldown) == (
        9002,
        Path("/srv/ow"),
        "KEY",
        60.0,
    )
    assert s.steam.steamcmd == "steamcmd"  # empty means unset
    assert s.http.host == "127.0.0.1"  # None means no flag given


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="OPENWORKSHOP_PORT"):
        ServerSettings.from_env({"OPENWORKSHOP_PORT": "eighty"})
    with pytest.raises(SettingsError, match="OPENWORKSHOP_SERVER: 'hypercorn' is none of"):
        ServerSettings.from_env({"OPENWORKSHOP_SERVER": "hypercorn"})


def test_secrets_are_not_in_repr() -> None:
    settings = ServerSettings(steam=SteamSettings(steam_password="hunter2", steam_api_key="K3Y"))
    assert "hunter2" not in repr(settings) and "K3Y" not in repr(settings)


def test_an_unknown_variable_is_refused_with_the_closest_name() -> None:
    """A typo must not be silently ignored: the server would run with the default. Every
    part's names are known: a typo of an adapter's name is caught as a core's is."""
    with pytest.raises(SettingsError, match=r"OPENWORKSHOP_STEAMCMD_PATH: no such setting; "
                       r"did you mean OPENWORKSHOP_STEAMCMD\?"):  # fmt: skip
        ServerSettings.from_env({"OPENWORKSHOP_STEAMCMD_PATH": "/usr/games/steamcmd"})
    with pytest.raises(SettingsError, match=r"did you mean OPENWORKSHOP_ACCEL_REDIRECT\?"):
        ServerSettings.from_env({"OPENWORKSHOP_ACCEL_REDIRECTS": "/_archives"})
    with pytest.raises(SettingsError, match=r"did you mean OPENWORKSHOP_LEASE\?"):
        ServerSettings.from_env({"OPENWORKSHOP_LEASES": "3"})
    with pytest.raises(SettingsError, match="OPENWORKSHOP_COLOUR: no such setting"):
        ServerSettings.from_env({"OPENWORKSHOP_COLOUR": "blue"})


def test_names_read_elsewhere_and_other_programs_variables_pass() -> None:
    env = {
        "OPENWORKSHOP_SERVER": "granian",
        "OPENWORKSHOP_FAKE_STEAMCMD_ITEM_DELAY": "1",
        "HOME": "/root",
        "OPENWORKSHOPPER": "x",
    }
    assert ServerSettings.from_env(env) == ServerSettings(http=HttpSettings(server="granian"))


def test_the_clients_variable_is_no_typo_for_the_server() -> None:
    """``OPENWORKSHOP_URL`` (the launcher client's server) may be set in the shell that
    starts the server: the check knows the client's settings too, the server ignores it."""
    assert ServerSettings.from_env({"OPENWORKSHOP_URL": "http://mirror:8000"}) == ServerSettings()


def test_an_unknown_override_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="'colour' is no setting"):
        ServerSettings.from_env({}, colour="blue")


@pytest.mark.parametrize(
    ("cls", "name"), [(c, n) for c in settings_classes() for n in sorted(durations(c))]
)
def test_a_negative_duration_is_refused(cls: type, name: str) -> None:
    env = next(s.env for s in settings_of(cls) if s.name == name)
    with pytest.raises(SettingsError, match=f"{env} .*must be 0 or more"):
        ServerSettings.from_env({env: "-1"})
    with pytest.raises(SettingsError, match="must be 0 or more"):
        cls(**{name: float("nan")})


@pytest.mark.parametrize("port", ["-1", "65536", "99999"])
def test_a_port_out_of_range_is_refused(port: str) -> None:
    with pytest.raises(SettingsError, match="0 to 65535"):
        ServerSettings.from_env({"OPENWORKSHOP_PORT": port})


def test_the_server_is_a_setting_and_the_flag_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``OPENWORKSHOP_SERVER`` is read with every other setting (no longer beside them), and
    ``--server`` wins over it, as every flag does."""
    from openworkshop_http import cli

    monkeypatch.setenv("OPENWORKSHOP_SERVER", "granian")
    monkeypatch.setenv("OPENWORKSHOP_SSL_CERTFILE", "/etc/ow/cert.pem")
    args = cli._parser().parse_args(["serve", "--port", "0", "--ssl-keyfile", "/etc/ow/key.pem"])
    http = cli._settings(args).http
    assert (http.server, http.ssl_certfile, http.ssl_keyfile) == (
        "granian",
        Path("/etc/ow/cert.pem"),
        Path("/etc/ow/key.pem"),
    )
    assert http.port != 0  # the free port the server will listen on
    args = cli._parser().parse_args(["serve", "--port", "0", "--server", "uvicorn"])
    assert cli._settings(args).http.server == "uvicorn"
    monkeypatch.setenv("OPENWORKSHOP_SERVER", "hypercorn")
    with pytest.raises(SettingsError, match="OPENWORKSHOP_SERVER"):
        cli._settings(cli._parser().parse_args(["serve", "--port", "0"]))


def test_the_database_is_one_url() -> None:
    """OPENWORKSHOP_DATABASE (or --database) picks the store: unset, the SQLite file in the
    data folder; sqlite:///path, that file; postgresql://…, PostgreSQL. Anything else is
    refused when the settings are read, naming the variable."""
    from openworkshop_http.wiring import storage_for
    from openworkshop_postgres import PostgresStorage
    from openworkshop_sqlite import SqliteStorage

    data = Path("/srv/ow")
    default = storage_for(ServerSettings.from_env({}).http.database, data)
    assert isinstance(default, SqliteStorage) and default.path == data / "openworkshop.sqlite3"
    env = {"OPENWORKSHOP_DATABASE": "sqlite:///other/catalog.db"}
    chosen = storage_for(ServerSettings.from_env(env).http.database, data)
    assert isinstance(chosen, SqliteStorage) and chosen.path == Path("other/catalog.db")
    for url in ("postgresql://ow@db.example/ow", "postgres://ow:secret@db:5433/ow"):
        store = storage_for(
            ServerSettings.from_env({"OPENWORKSHOP_DATABASE": url}).http.database, data
        )
        assert isinstance(store, PostgresStorage)
        assert "secret" not in repr(store)
    overridden = ServerSettings.from_env(env, database="postgresql://ow@db/ow")
    assert overridden.http.database == "postgresql://ow@db/ow"
    for bad in ("mysql://x/y", "sqlite://relative", "sqlite:///", "/var/lib/ow.sqlite3"):
        with pytest.raises(SettingsError, match="OPENWORKSHOP_DATABASE"):
            ServerSettings.from_env({"OPENWORKSHOP_DATABASE": bad})
