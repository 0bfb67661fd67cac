"""``SteamWebSource``: the core's :class:`~openworkshop.ports.SteamSource`, over Steam itself.

One aiohttp session, explicit timeouts, a descriptive User-Agent. Every foreign error
(aiohttp, timeouts, garbage bodies, subprocess failures) becomes one of the core's
:class:`~openworkshop.errors.UpstreamUnavailable`, :class:`~openworkshop.errors.UpstreamRateLimited`
or :class:`~openworkshop.errors.SteamConfigurationError` here, at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from openworkshop.archive import archive_name
from openworkshop.domain import (
    AppDetails,
    DownloadItem,
    DownloadOutcome,
    FailureReason,
    ItemDetails,
    ItemExtras,
)
from openworkshop.errors import (
    SteamConfigurationError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from openworkshop_steam.answers import decode_body, excerpt, read_json
from openworkshop_steam.page import parse_workshop_page
from openworkshop_steam.settings import SteamSettings
from openworkshop_steam.steamcmd import (
    SessionResult,
    anonymous_command,
    item_folder,
    public_failure,
    redact,
    remove_runscript,
    run_steamcmd,
    runscript_command,
    runscript_text,
    steamcmd_environment,
    sweep_runscripts,
    write_runscript,
)
from openworkshop_steam.store import appdetails_params, parse_appdetails
from openworkshop_steam.webapi import (
    chunked,
    collection_form,
    details_form,
    parse_collection_details,
    parse_published_file_details,
    parse_service_details,
    service_details_params,
)

__all__ = ["DEFAULT_LEGACY_HOSTS", "DEFAULT_USER_AGENT", "SteamWebSource"]

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("open-workshop")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


DEFAULT_USER_AGENT = f"OpenWorkshop/{_version()} (Steam Workshop mirror; aiohttp)"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_LEGACY_CONCURRENCY = 4
_CHUNK = 1 << 16
_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULTS = SteamSettings()
DEFAULT_LEGACY_HOSTS = tuple(_DEFAULTS.legacy_hosts.split(","))
"""Valve's UGC hosts of legacy ``file_url`` downloads (``cloud-N.steamusercontent.com``)."""


def _host(url: str) -> str:
    try:
        return (urllib.parse.urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def _allowed(url: str, hosts: Iterable[str]) -> bool:
    """Whether ``url`` is http(s) on one of ``hosts`` or a subdomain of one."""
    if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
        return False
    host = _host(url)
    return bool(host) and any(host == h or host.endswith("." + h) for h in hosts)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SteamWebSource:
    """Steam's Web API, store, workshop pages and steamcmd, as the core's Steam source.

    Every argument is explicit; the environment is read elsewhere (``openworkshop.settings``).
    Without ``api_key``, details come from ``GetPublishedFileDetails`` and extras from the
    workshop page; with it, ``IPublishedFileService/GetDetails`` gives both at once. With
    ``username``, steamcmd logs in with that account (for games that refuse anonymous
    downloads) through a 0600 runscript, so the password is never on a command line; the
    script lives in ``runscript_dir`` (the temporary folder) only until steamcmd has read it,
    and a new source sweeps what a killed one left there. steamcmd's environment is a clean
    one (``PATH``, ``HOME``, the locale …) plus ``steamcmd_env``.
    """

    max_details_batch: int = 100
    max_download_batch: int = 25

    def __init__(
        self,
        *,
        api_url: str = _DEFAULTS.steam_api_url,
        community_url: str = _DEFAULTS.steam_community_url,
        store_url: str = _DEFAULTS.steam_store_url,
        steamcmd: str = _DEFAULTS.steamcmd,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        steamcmd_timeout: float = _DEFAULTS.steamcmd_timeout,
        http_timeout: float = 30.0,
        user_agent: str = DEFAULT_USER_AGENT,
        language: str = "english",
        steamcmd_env: Mapping[str, str] | None = None,
        runscript_dir: Path | None = None,
        session: aiohttp.ClientSession | None = None,
        legacy_hosts: Iterable[str] = DEFAULT_LEGACY_HOSTS,
        max_download_size: int | None = None,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._community_url = community_url.rstrip("/")
        self._store_url = store_url.rstrip("/")
        self._steamcmd = steamcmd
        self._api_key = api_key or None
        self._username = username or None
        self._password = password or None
        self._steamcmd_timeout = steamcmd_timeout
        self._timeout = aiohttp.ClientTimeout(
            total=http_timeout, sock_connect=min(http_timeout, 10.0)
        )
        self._download_timeout = aiohttp.ClientTimeout(
            total=steamcmd_timeout, sock_connect=min(http_timeout, 10.0), sock_read=http_timeout
        )
        self._headers = {"User-Agent": user_agent}
        self._language = language
        self._steamcmd_env = dict(steamcmd_env or {})
        self._runscript_dir = runscript_dir or Path(tempfile.gettempdir())
        # a server killed mid-session left its runscript (and password) behind
        swept = sweep_runscripts(self._runscript_dir)
        if swept:
            log.warning("removed %d steamcmd runscript(s) a killed server left", swept)
        self._session = session
        self._owns_session = session is None
        self._folder_locks: dict[Path, asyncio.Lock] = {}
        configured = (_host(u) for u in (self._api_url, self._community_url, self._store_url))
        self._legacy_hosts = frozenset(
            h for h in (*(x.strip().rstrip(".").lower() for x in legacy_hosts), *configured) if h
        )
        """Where a legacy ``file_url`` may point: Valve's UGC hosts and the Steam we talk to."""
        self._max_download_size = max_download_size

    @classmethod
    def from_settings(
        cls,
        settings: SteamSettings,
        *,
        max_download_size: int | None = None,
        session: aiohttp.ClientSession | None = None,
        steamcmd_env: Mapping[str, str] | None = None,
    ) -> SteamWebSource:
        """A source configured by the Steam adapter's settings (the ``OPENWORKSHOP_STEAM*``
        names); ``max_download_size`` is the core's ``max_mod_size``."""
        return cls(
            api_url=settings.steam_api_url,
            community_url=settings.steam_community_url,
            store_url=settings.steam_store_url,
            steamcmd=settings.steamcmd,
            api_key=settings.steam_api_key,
            username=settings.steam_username,
            password=settings.steam_password,
            steamcmd_timeout=settings.steamcmd_timeout,
            steamcmd_env=steamcmd_env,
            session=session,
            legacy_hosts=settings.legacy_hosts.split(","),
            max_download_size=max_download_size,
        )

    def __repr__(self) -> str:
        return (
            f"SteamWebSource(api_url={self._api_url!r}, community_url={self._community_url!r}, "
            f"store_url={self._store_url!r}, steamcmd={self._steamcmd!r}, "
            f"api_key={'set' if self._api_key else None}, username={self._username!r})"
        )

    # --- lifecycle --------------------------------------------------------------------

    @property
    def can_download(self) -> bool:
        """Whether the steamcmd executable can be found (a name on PATH, or a path)."""
        return self.steamcmd_path() is not None

    def steamcmd_path(self) -> str | None:
        return shutil.which(self._steamcmd)

    async def __aenter__(self) -> SteamWebSource:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this source opened it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise SteamConfigurationError(
                    "the aiohttp session given to SteamWebSource is closed"
                )
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
            # aiohttp resends an idempotent request once, unasked, when the connection drops
            # (aiohttp's own test client turns this off the same way): that second call reaches
            # Valve uncounted by the gate and past the retry bound. A dropped connection is a
            # failed attempt instead, retried by the pipeline with its backoff.
            self._session._retry_connection = False
        return self._session

    # --- HTTP -------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def _fetch(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Sequence[tuple[str, str]] | None = None,
        data: str | None = None,
        keyed: bool = False,
    ) -> tuple[bytes, str | None]:
        """One request; the body and its charset, or one of the core's errors."""
        headers = dict(self._headers)
        if data is not None:
            headers.update(_FORM)
        try:
            async with self._http().request(
                method, url, params=params, data=data, headers=headers, timeout=self._timeout
            ) as response:
                body = await response.read()
                status = response.status
                charset = response.charset
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # the message may become a mod's public failure detail: no host, port or URL
            log.warning("%s failed: %s", what, self._redact(_describe(exc)))
            public = "timed out" if isinstance(exc, TimeoutError) else "cannot reach Steam"
            raise UpstreamUnavailable(f"{what}: {public}") from exc
        if status == 200:
            return body, charset
        if status == 429:
            raise UpstreamRateLimited(
                f"{what}: Steam answered 429 Too Many Requests",
                retry_after=_retry_after(retry_after),
            )
        if keyed and status in (401, 403):
            raise SteamConfigurationError(
                f"Steam rejected the Web API key ({what} answered HTTP {status}): check "
                "OPENWORKSHOP_STEAM_API_KEY, or unset it to read details without a key"
            )
        if status in (404, 405):
            log.error("%s answered HTTP %s at %s", what, status, self._redact(url))
            raise SteamConfigurationError(
                f"{what} answered HTTP {status}: is the base URL right (OPENWORKSHOP_STEAM_*_URL)?"
            )
        log.warning("%s answered HTTP %s: %r", what, status, excerpt(body))
        raise UpstreamUnavailable(f"{what}: Steam answered HTTP {status}")

    async def _json(self, method: str, url: str, *, what: str, **kwargs: Any) -> Any:
        body, _ = await self._fetch(method, url, what=what, **kwargs)
        return read_json(body, what)

    # --- details ----------------------------------------------------------------------

    async def details(self, ids: Sequence[int]) -> Mapping[int, ItemDetails | None]:
        """Items' details, 100 ids per call; ``None`` for missing, private and friends-only.

        With a key the details carry their extras (required items, screenshots, tags).
        """
        wanted = list(dict.fromkeys(ids))
        found: dict[int, ItemDetails | None] = {}
        for batch in chunked(wanted, self.max_details_batch):
            if self._api_key:
                found.update(await self._service_details(batch, self._api_key))
            else:
                found.update(await self._published_file_details(batch))
        return {mod_id: found.get(mod_id) for mod_id in wanted}

    async def _published_file_details(self, ids: list[int]) -> dict[int, ItemDetails | None]:
        what = "GetPublishedFileDetails"
        payload = await self._json(
            "POST",
            f"{self._api_url}/ISteamRemoteStorage/GetPublishedFileDetails/v1/",
            what=what,
            data=details_form(ids),
        )
        return parse_published_file_details(payload)

    async def _service_details(self, ids: list[int], key: str) -> dict[int, ItemDetails | None]:
        what = "IPublishedFileService/GetDetails"
        payload = await self._json(
            "GET",
            f"{self._api_url}/IPublishedFileService/GetDetails/v1/",
            what=what,
            params=service_details_params(key, ids),
            keyed=True,
        )
        return parse_service_details(payload)

    async def collection_children(self, ids: Sequence[int]) -> dict[int, tuple[int, ...] | None]:
        """The items of each collection, nested collections expanded, in order.

        ``None`` for an id that is not a visible collection. A collection that contains itself
        (directly or not) is expanded once.
        """
        wanted = list(dict.fromkeys(ids))
        known: dict[int, list[tuple[int, bool]] | None] = {}
        pending = wanted
        while pending:
            for batch in chunked(pending, self.max_details_batch):
                payload = await self._json(
                    "POST",
                    f"{self._api_url}/ISteamRemoteStorage/GetCollectionDetails/v1/",
                    what="GetCollectionDetails",
                    data=collection_form(batch),
                )
                answered = parse_collection_details(payload)
                for collection_id in batch:
                    known[collection_id] = answered.get(collection_id)
            nested = [
                child
                for children in known.values()
                for child, is_collection in children or ()
                if is_collection and child not in known
            ]
            pending = list(dict.fromkeys(nested))

        def expand(collection_id: int, seen: frozenset[int]) -> list[int]:
            members: list[int] = []
            for child, is_collection in known.get(collection_id) or ():
                if not is_collection:
                    members.append(child)
                elif child not in seen:
                    members.extend(expand(child, seen | {child}))
            return members

        return {
            cid: None
            if known.get(cid) is None
            else tuple(dict.fromkeys(expand(cid, frozenset({cid}))))
            for cid in wanted
        }

    # --- store ------------------------------------------------------------------------

    async def app(self, app_id: int) -> AppDetails | None:
        """A game's store details; ``None`` when the store says ``success: false``."""
        payload = await self._json(
            "GET",
            f"{self._store_url}/api/appdetails",
            what="store appdetails",
            params=appdetails_params(app_id, self._language),
        )
        return parse_appdetails(payload, app_id)

    # --- the workshop page ------------------------------------------------------------

    async def extras(self, mod_id: int, *, preview_url: str = "") -> ItemExtras | None:
        """What the workshop page adds (one fetch of the page)."""
        body, charset = await self._fetch(
            "GET",
            f"{self._community_url}/sharedfiles/filedetails/",
            what="the workshop page",
            params=[("id", str(mod_id)), ("l", self._language)],
        )
        page = parse_workshop_page(decode_body(body, charset))
        return None if page is None else page.extras(preview_url)

    # --- downloads --------------------------------------------------------------------

    async def download(
        self, items: Sequence[DownloadItem], folder: Path
    ) -> Mapping[int, DownloadOutcome]:
        """Fetch items into ``folder``: legacy ones over HTTP, the others with steamcmd.

        One steamcmd process (one login) per :attr:`max_download_batch` items. An item's
        folder is ``folder/steamapps/workshop/content/APP/ID``.
        """
        unique = list({item.mod_id: item for item in items}.values())
        folder = await asyncio.to_thread(_prepared, folder)
        legacy = [item for item in unique if item.file_url]
        regular = [item for item in unique if not item.file_url]
        outcomes: dict[int, DownloadOutcome] = {}
        limit = asyncio.Semaphore(_LEGACY_CONCURRENCY)

        async def fetch(item: DownloadItem) -> None:
            async with limit:
                outcomes[item.mod_id] = await self._fetch_legacy(item, folder)

        async def sessions() -> None:
            for batch in chunked(regular, self.max_download_batch):
                outcomes.update(await self._steamcmd_batch(batch, folder))

        if regular:
            self._check_steamcmd(folder)
        try:
            async with asyncio.TaskGroup() as group:
                for item in legacy:
                    group.create_task(fetch(item))
                if regular:
                    group.create_task(sessions())
        except ExceptionGroup as failed:
            # the port raises the core's errors, not groups of them
            raise failed.exceptions[0] from None
        return {item.mod_id: outcomes[item.mod_id] for item in unique}

    async def measure(self, items: Sequence[DownloadItem], folder: Path) -> Mapping[int, int]:
        """Bytes of each item on disk so far: what steamcmd has written in its download
        folder (``steamapps/workshop/downloads/APP/ID``) and moved into the item's content
        folder, or the legacy file as it streams in. Never a call to Valve."""
        return await asyncio.to_thread(_measure, folder, items)

    async def _fetch_legacy(self, item: DownloadItem, folder: Path) -> DownloadOutcome:
        """A legacy item: its ``file_url`` streamed to disk, as one file in its folder.

        Only from an allowed host (redirects too), and no more than ``max_download_size``
        bytes: a larger file fails for good, whatever its ``Content-Length`` claimed.
        """
        target = item_folder(folder, item.app_id, item.mod_id)
        limit = self._max_download_size

        def failed(reason: FailureReason, detail: str) -> DownloadOutcome:
            shutil.rmtree(target, ignore_errors=True)
            return DownloadOutcome(mod_id=item.mod_id, reason=reason, detail=detail)

        def too_large(size: int) -> DownloadOutcome:
            return failed(
                FailureReason.TOO_LARGE,
                f"the legacy file is {size} bytes or more, more than the limit of {limit} "
                "(OPENWORKSHOP_MAX_MOD_SIZE)",
            )

        url = item.file_url
        try:
            await asyncio.to_thread(shutil.rmtree, target, True)
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
            for _ in range(_REDIRECTS + 1):
                if not _allowed(url, self._legacy_hosts):
                    return failed(
                        FailureReason.ACCESS_DENIED,
                        f"the legacy file_url host {_host(url)!r} is not one Valve serves "
                        "legacy files from (OPENWORKSHOP_LEGACY_HOSTS)",
                    )
                async with self._http().get(
                    url,
                    headers=self._headers,
                    timeout=self._download_timeout,
                    allow_redirects=False,
                ) as response:
                    if response.status in _REDIRECT_STATUSES:
                        location = response.headers.get("Location", "")
                        if not location:
                            return failed(FailureReason.UNKNOWN, "a redirect without Location")
                        url = urllib.parse.urljoin(str(response.url), location)
                        continue
                    if response.status != 200:
                        return failed(_legacy_reason(response.status), f"HTTP {response.status}")
                    declared = response.content_length
                    if limit is not None and declared is not None and declared > limit:
                        return too_large(declared)
                    path = target / (_legacy_name(response) or f"{item.mod_id}_legacy.bin")
                    written = 0
                    with path.open("wb") as out:
                        async for chunk in response.content.iter_chunked(_CHUNK):
                            written += len(chunk)
                            if limit is not None and written > limit:
                                return too_large(written)
                            await asyncio.to_thread(out.write, chunk)
                    return DownloadOutcome(mod_id=item.mod_id, path=target)
            return failed(FailureReason.UNKNOWN, f"more than {_REDIRECTS} redirects")
        except TimeoutError:
            return failed(FailureReason.TIMEOUT, "the legacy file download timed out")
        except aiohttp.ClientError as exc:  # names a host and port: the log only
            log.warning("legacy download of %s failed: %s", item.mod_id, _describe(exc))
            return failed(FailureReason.NO_CONNECTION, "cannot reach the legacy file's host")
        except OSError as exc:  # names a path of this machine: the log only
            log.warning("legacy download of %s failed: %s", item.mod_id, _describe(exc))
            return failed(FailureReason.IO_ERROR, "the legacy file could not be written")

    def _check_steamcmd(self, folder: Path) -> None:
        """Fail before anything starts when no steamcmd session could run."""
        if self.steamcmd_path() is None:
            raise SteamConfigurationError(
                f"steamcmd not found: {self._steamcmd!r} (set OPENWORKSHOP_STEAMCMD)"
            )
        if self._username is not None:
            runscript_text(folder, [], username=self._username, password=self._password)

    def _lock(self, folder: Path) -> asyncio.Lock:
        # two steamcmd sessions must not share one install folder
        return self._folder_locks.setdefault(folder, asyncio.Lock())

    async def _steamcmd_batch(
        self, items: list[DownloadItem], folder: Path
    ) -> dict[int, DownloadOutcome]:
        async with self._lock(folder):
            await asyncio.to_thread(_forget, folder, items)
            session = await self._session_once(items, folder)
            output = session.output
            if output.self_updated and not output.any_item_activity and not session.killed:
                # the first command after steamcmd updated itself may be lost: once more
                session = await self._session_once(items, folder)
            return await asyncio.to_thread(
                _outcomes, folder, items, session, self._steamcmd_timeout
            )

    async def _session_once(self, items: list[DownloadItem], folder: Path) -> SessionResult:
        executable = self.steamcmd_path()
        if executable is None:
            raise SteamConfigurationError(f"steamcmd not found: {self._steamcmd!r}")
        env = steamcmd_environment(self._steamcmd_env)
        if self._username is None:
            argv = anonymous_command(executable, folder, items)
            session = await run_steamcmd(argv, timeout=self._steamcmd_timeout, env=env)
        else:
            text = runscript_text(folder, items, username=self._username, password=self._password)
            script = await asyncio.to_thread(write_runscript, self._runscript_dir, text)
            try:
                argv = runscript_command(executable, script)
                session = await run_steamcmd(
                    argv, timeout=self._steamcmd_timeout, env=env, runscript=script
                )
            finally:
                await asyncio.to_thread(remove_runscript, script)
        self._log_session(items, session)
        return session

    def _log_session(self, items: Sequence[DownloadItem], session: SessionResult) -> None:
        """steamcmd's last words, for the operator, when it did not download everything.

        Only the log sees them (the account name, password, SteamIDs and addresses redacted):
        the items' public failure details are fixed texts.
        """
        output = session.output
        said = [output.results.get(item.mod_id) for item in items]
        if all(result is not None and result.ok for result in said):
            return
        log.warning(
            "steamcmd session for %d item(s) ended (exit %s%s); its last output:\n  %s",
            len(items),
            session.returncode,
            ", timed out" if session.timed_out else "",
            redact("\n  ".join(output.tail[-15:]), (self._username, self._password)),
        )


def _legacy_name(response: aiohttp.ClientResponse) -> str:
    """The file name ``Content-Disposition`` gives, if the archive would keep it unchanged
    (no backslash, colon, control character…); otherwise ``""``."""
    disposition = response.content_disposition
    if not disposition or not disposition.filename:
        return ""
    name = Path(disposition.filename).name
    packed, changed = archive_name([name])
    return name if packed == name and not changed else ""


def _legacy_reason(status: int) -> FailureReason:
    if status in (404, 410):
        return FailureReason.NOT_FOUND
    if status in (401, 403):
        return FailureReason.ACCESS_DENIED
    if status == 429:
        return FailureReason.RATE_LIMITED
    if status >= 500:
        return FailureReason.NO_CONNECTION
    return FailureReason.UNKNOWN


def _prepared(folder: Path) -> Path:
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget(folder: Path, items: Sequence[DownloadItem]) -> None:
    """Remove what an earlier session left of these items, so the disk tells only of this one.

    The app's ``appworkshop_APP.acf`` goes too: with its entry kept and the folder gone,
    steamcmd may think the item installed and fetch nothing.
    """
    workshop = folder / "steamapps" / "workshop"
    for item in items:
        shutil.rmtree(item_folder(folder, item.app_id, item.mod_id), ignore_errors=True)
    for app_id in {item.app_id for item in items}:
        with contextlib.suppress(FileNotFoundError):
            (workshop / f"appworkshop_{app_id}.acf").unlink()


def _measure(folder: Path, items: Sequence[DownloadItem]) -> dict[int, int]:
    sizes = {}
    for item in items:
        staging = folder / "steamapps" / "workshop" / "downloads" / str(item.app_id)
        sizes[item.mod_id] = _bytes_under(item_folder(folder, item.app_id, item.mod_id)) + (
            _bytes_under(staging / str(item.mod_id))
        )
    return sizes


def _bytes_under(path: Path) -> int:
    """The bytes of the files under ``path`` (0 when it is not there); files that go while
    it is read (steamcmd moves them) are not counted."""
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _filled(path: Path) -> bool:
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError:
        return False


def _outcomes(
    folder: Path, items: Sequence[DownloadItem], session: SessionResult, timeout: float
) -> dict[int, DownloadOutcome]:
    """One outcome per item: the folder on disk first, then what the text said.

    Details are public (a mod's failure in ``/info/mod``): fixed texts only, never a path
    or a line of steamcmd's output (that went to the log).
    """
    output = session.output
    outcomes: dict[int, DownloadOutcome] = {}
    for item in items:
        path = item_folder(folder, item.app_id, item.mod_id)
        said = output.results.get(item.mod_id)
        if _filled(path):
            outcomes[item.mod_id] = DownloadOutcome(mod_id=item.mod_id, path=path)
            continue
        shutil.rmtree(path, ignore_errors=True)
        if said is not None and said.ok:
            reason = FailureReason.UNKNOWN
            detail = "steamcmd reported success, but the item's folder is missing or empty"
        elif said is not None:
            reason = said.reason or FailureReason.UNKNOWN
            detail = public_failure(reason, said.detail)
        elif output.login_failure is not None:
            reason, text = output.login_failure
            detail = f"login failed: {public_failure(reason, text)}"
        elif output.login_pending and not output.logged_in:
            reason, detail = FailureReason.LOGIN_REQUIRED, "the login waits for a confirmation"
        elif session.timed_out:
            reason, detail = FailureReason.TIMEOUT, f"steamcmd killed after {timeout:g} s"
        elif output.self_updated:
            reason, detail = FailureReason.UNKNOWN, "steamcmd updated itself and did nothing"
        else:
            reason = FailureReason.UNKNOWN
            detail = f"steamcmd said nothing about the item (exit {session.returncode})"
        outcomes[item.mod_id] = DownloadOutcome(mod_id=item.mod_id, reason=reason, detail=detail)
    return outcomes
