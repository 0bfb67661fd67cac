"""steamcmd: its command line, its runscript, its output as it really is, and its process.

The command line is the real one (docs/steam.md, "steamcmd"), ``force_install_dir`` before ``login``::

    steamcmd +force_install_dir DIR +login anonymous
             +workshop_download_item APP ID … +quit

With an account the same commands go into a runscript (mode 0600, in a private 0700 folder)
run with ``+runscript FILE``, so the password never appears on a command line that ``ps``
shows to other users. The script is removed as soon as steamcmd has read it, and what a
killed server left behind is swept at the next start (:func:`sweep_runscripts`). steamcmd
gets a clean environment (:func:`steamcmd_environment`), not the server's settings.

A failure's public detail is a fixed text (:func:`public_failure`); steamcmd's own output,
which names the account and its SteamID, goes only to the log, redacted (:func:`redact`).

The output is read as steamcmd prints it: result lines glued to the next text without a
newline, ``ERROR! Download item N failed (TEXT).`` for each failure, exit code 0 whether items
failed or not, a self-update on first run, login failures (``FAILED (Rate Limit Exceeded)``,
``FAILED (Invalid Password)``, Steam Guard prompts). :class:`SteamcmdOutput` turns it into a
result per item; the caller then trusts the folder on disk over the text.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import shutil
import signal
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from openworkshop.domain import DownloadItem, FailureReason
from openworkshop.errors import SteamConfigurationError
from openworkshop.owners import Owner, is_alive, owner_of, sweep_owners

__all__ = [
    "ERESULT_TEXTS",
    "FAILURE_TEXTS",
    "PUBLIC_MESSAGES",
    "RUNSCRIPT_PREFIX",
    "ItemResult",
    "SessionResult",
    "SteamcmdOutput",
    "anonymous_command",
    "failure_reason",
    "item_folder",
    "parse_output",
    "parse_workshop_log",
    "public_failure",
    "redact",
    "remove_runscript",
    "run_steamcmd",
    "runscript_command",
    "runscript_text",
    "steamcmd_environment",
    "sweep_runscripts",
    "write_runscript",
]

_R = FailureReason

ERESULT_TEXTS: Mapping[str, FailureReason] = {
    "Failure": _R.UNKNOWN,
    "Timeout": _R.TIMEOUT,
    "No Connection": _R.NO_CONNECTION,
    "Access Denied": _R.ACCESS_DENIED,
    "File Not Found": _R.NOT_FOUND,
    "I/O Operation Failed": _R.IO_ERROR,
    "Disk Write Failure": _R.IO_ERROR,
    "Rate Limit Exceeded": _R.RATE_LIMITED,
    "Invalid Password": _R.LOGIN_REQUIRED,
    "Account Logon Denied": _R.LOGIN_REQUIRED,
    "Two-factor code mismatch": _R.LOGIN_REQUIRED,
    "Invalid Login Auth Code": _R.LOGIN_REQUIRED,
    "Account Login Denied Throttle": _R.RATE_LIMITED,
    "Service Unavailable": _R.NO_CONNECTION,
}
"""steamcmd's EResult texts, as printed in ``failed (TEXT)`` and ``FAILED (TEXT)``."""
FAILURE_TEXTS: Mapping[str, FailureReason] = {k.lower(): v for k, v in ERESULT_TEXTS.items()}
"""The same, by their folded form (what :func:`failure_reason` looks up)."""
_KNOWN_TEXTS = {k.lower(): k for k in ERESULT_TEXTS}

PUBLIC_MESSAGES: Mapping[FailureReason, str] = {
    _R.ACCESS_DENIED: "Steam denied access to the item",
    _R.NOT_FOUND: "Steam has no such item",
    _R.BANNED: "the item is banned on Steam",
    _R.FILE_NOT_FOUND: "Steam has no file for the item",
    _R.TIMEOUT: "the download timed out",
    _R.NO_CONNECTION: "steamcmd could not reach Steam",
    _R.RATE_LIMITED: "Steam limits the rate of logins",
    _R.LOGIN_REQUIRED: "steamcmd could not log in",
    _R.IO_ERROR: "steamcmd could not write the item's files",
    _R.TOO_LARGE: "the item is larger than this server accepts",
    _R.UNKNOWN: "steamcmd could not download the item",
}
"""The public text of each reason when steamcmd's own words are not one of the known
EResult texts. A failure detail is public (``/info/mod``): it is one of these, or one of
:data:`ERESULT_TEXTS`, never steamcmd's output, which names the account, its SteamID, hosts
and ports. The output goes to the log (:func:`redact`)."""


def failure_reason(text: str, default: FailureReason = _R.UNKNOWN) -> FailureReason:
    """The stable reason for one of steamcmd's EResult texts (``Access Denied`` …)."""
    return FAILURE_TEXTS.get(" ".join(text.lower().split()), default)


def public_failure(reason: FailureReason, text: str = "") -> str:
    """What may be shown of a failure: the known EResult text steamcmd printed (``Timeout``),
    else the reason's fixed message; never anything else of ``text``."""
    return _KNOWN_TEXTS.get(" ".join(text.lower().split())) or PUBLIC_MESSAGES[reason]


_STEAM_ID = re.compile(r"\[[UIMGAPCgTLca]:\d:\d+(?::\d+)?\]|\b7656\d{13}\b")
_ADDRESS = re.compile(
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\[[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*\](?::\d+)?"
)


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """steamcmd's output made fit for the log: the account name and password (``secrets``,
    in any case), SteamIDs (``[U:1:123]``, ``7656119…``) and IP addresses with their ports
    replaced by ``***``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    text = _STEAM_ID.sub("***", text)
    return _ADDRESS.sub("***", text)


def item_folder(root: Path, app_id: int, mod_id: int) -> Path:
    """Where steamcmd puts an item: ``ROOT/steamapps/workshop/content/APP/ID``."""
    return root / "steamapps" / "workshop" / "content" / str(app_id) / str(mod_id)


# --- command lines --------------------------------------------------------------------


def _downloads(items: Sequence[DownloadItem]) -> list[list[str]]:
    return [["workshop_download_item", str(i.app_id), str(i.mod_id)] for i in items]


def anonymous_command(steamcmd: str, folder: Path, items: Sequence[DownloadItem]) -> list[str]:
    """The argv of an anonymous session: ``+force_install_dir`` first, then ``+login``."""
    argv = [steamcmd, "+force_install_dir", str(folder), "+login", "anonymous"]
    for command in _downloads(items):
        argv.append("+" + command[0])
        argv.extend(command[1:])
    argv.append("+quit")
    return argv


def _quote(value: str, what: str) -> str:
    if any(c in value for c in '"\r\n\0'):
        raise SteamConfigurationError(
            f"the Steam {what} contains a double quote or a line break, which a steamcmd "
            "runscript cannot carry"
        )
    return f'"{value}"'


def runscript_text(
    folder: Path, items: Sequence[DownloadItem], *, username: str, password: str | None
) -> str:
    """A runscript with the same commands as :func:`anonymous_command`, logged in."""
    login = f"login {_quote(username, 'username')}"
    if password:
        login += f" {_quote(password, 'password')}"
    lines = [f"force_install_dir {_quote(str(folder), 'download folder')}", login]
    lines += [" ".join(command) for command in _downloads(items)]
    lines.append("quit")
    return "\n".join(lines) + "\n"


def runscript_command(steamcmd: str, script: Path) -> list[str]:
    """The argv that runs a runscript: nothing secret in it."""
    return [steamcmd, "+runscript", str(script)]


# --- output ---------------------------------------------------------------------------

# steamcmd glues lines together ("…(Failure).Redirecting stderr…", "(42 bytes) Downloading
# item …"), so a line is split again wherever one of these starts.
_STARTS = re.compile(
    r"(?=Downloading item \d|Success\. Downloaded item|ERROR! |ERROR \(|FAILED|Login Failure"
    r"|Redirecting stderr|Steam Console Client|Loading Steam API|Unloading Steam API"
    r"|Connecting anonymously|Logging in user|Waiting for |Logged in OK|Cached credentials"
    r"|Steam Guard code:|Two-factor code:|Please confirm the login|\[\s*\d+%\]|\[----\])"
)
_DOWNLOADING = re.compile(r"Downloading item (\d+)")
_SUCCESS = re.compile(r'Success\. Downloaded item (\d+) to "([^"]*)" \((\d+) bytes')
_FAILED_ITEM = re.compile(r"ERROR! Download item (?:(\d+) )?failed \(([^)]*)\)")
_TIMEOUT_ITEM = re.compile(r"ERROR! Timeout downloading item (\d+)")
_LOGIN_FAILED = re.compile(r"(?:FAILED|ERROR) \(([^)]*)\)|Login Failure: (.*?)(?: \(\d+\))?$")
_LOGIN_FAILED_OLD = re.compile(r"FAILED login with result (.*)$")
_LOGGED_IN = re.compile(
    r"Logged in OK|(?:Connecting anonymously|Logging in user .*) to Steam Public\.\.\. ?OK"
    r"|Waiting for user info\.\.\. ?OK"
)
_PROMPT = re.compile(r"(?:Steam Guard code|Two-factor code|[Pp]assword):\s*$")
_NEEDS_HUMAN = re.compile(
    r"This computer has not been authenticated|Please check your email|Steam Guard code:"
    r"|Two-factor code:"
)
_MOBILE = re.compile(r"Please confirm the login in the Steam Mobile app")
_LOGIN_START = re.compile(r"Logging in user |Logging in using |Connecting anonymously")
_SELF_UPDATE = re.compile(
    r"Downloading update \(|Update complete, launching Steamcmd|Restarting steamcmd by request"
    r"|Installing update"
)
_TAIL = 40


@attrs.frozen(kw_only=True)
class ItemResult:
    """What steamcmd's text says about one item."""

    mod_id: int
    ok: bool
    reason: FailureReason | None = None
    detail: str = ""
    path: str | None = None
    """The folder the success line names (as steamcmd prints it, maybe another OS's path)."""
    size: int | None = None


@attrs.define
class SteamcmdOutput:
    """An incremental reader of steamcmd's stdout: feed it text as it arrives."""

    results: dict[int, ItemResult] = attrs.field(factory=dict)
    started: list[int] = attrs.field(factory=list)
    logged_in: bool = False
    login_failure: tuple[FailureReason, str] | None = None
    """The reason and text when the login failed; every item without a result shares it."""
    login_pending: bool = False
    """A login is waiting for a human (mobile confirmation)."""
    awaiting_input: bool = False
    """steamcmd is prompting for something (a password, a Steam Guard code): it will wait
    forever on our empty stdin, so the session should be ended now."""
    self_updated: bool = False
    login_started: bool = False
    """steamcmd began a login: it has read its runscript (the login is one of its commands)."""
    tail: list[str] = attrs.field(factory=list)
    """The last lines seen, for failure details."""
    _pending: str = ""

    def feed(self, text: str) -> None:
        """Read more output; complete lines are interpreted now, a partial one is kept."""
        text = self._pending + text.replace("\r\n", "\n").replace("\r", "\n")
        complete, _, self._pending = text.rpartition("\n")
        for line in complete.split("\n"):
            self._line(line)
        if _LOGIN_START.search(self._pending):
            # "Logging in user 'x' to Steam Public..." waits for its "OK" without a newline
            self.login_started = True
        if _PROMPT.search(self._pending):
            # prompts end without a newline: steamcmd waits for an answer right there
            self._prompt(self._pending.strip())

    def close(self) -> None:
        """The output ended: read what is left."""
        rest, self._pending = self._pending, ""
        self._line(rest)

    @property
    def any_item_activity(self) -> bool:
        return bool(self.started or self.results)

    def current_item(self) -> int | None:
        """The item being downloaded: the last one started without a result yet."""
        for mod_id in reversed(self.started):
            if mod_id not in self.results:
                return mod_id
        return None

    def _prompt(self, text: str) -> None:
        self.awaiting_input = True
        if not self.logged_in and self.login_failure is None:
            self.login_failure = (_R.LOGIN_REQUIRED, "steamcmd asks for a password or a code")

    def _remember(self, piece: str) -> None:
        self.tail.append(piece)
        del self.tail[:-_TAIL]

    def _line(self, line: str) -> None:
        for piece in _STARTS.split(line):
            piece = piece.strip()
            if piece:
                self._remember(piece)
                self._piece(piece)

    def _result(self, result: ItemResult) -> None:
        # the first word about an item counts; later noise does not undo it
        self.results.setdefault(result.mod_id, result)

    def _piece(self, piece: str) -> None:
        if match := _SUCCESS.match(piece):
            mod_id = int(match.group(1))
            self._result(
                ItemResult(mod_id=mod_id, ok=True, path=match.group(2), size=int(match.group(3)))
            )
        elif match := _FAILED_ITEM.match(piece):
            raw_id = match.group(1)
            failed_id = int(raw_id) if raw_id else self.current_item()
            if failed_id is not None:
                text = match.group(2)
                self._result(
                    ItemResult(mod_id=failed_id, ok=False, reason=failure_reason(text), detail=text)
                )
        elif match := _TIMEOUT_ITEM.match(piece):
            mod_id = int(match.group(1))
            self._result(ItemResult(mod_id=mod_id, ok=False, reason=_R.TIMEOUT, detail="Timeout"))
        elif match := _DOWNLOADING.match(piece):
            mod_id = int(match.group(1))
            if mod_id not in self.started:
                self.started.append(mod_id)
        elif _SELF_UPDATE.search(piece):
            self.self_updated = True
        elif _LOGIN_START.search(piece) and not _LOGGED_IN.search(piece):
            self.login_started = True
        elif _LOGGED_IN.search(piece):
            self.logged_in = self.login_started = True
            self.login_pending = False
        elif match := _LOGIN_FAILED.match(piece) or _LOGIN_FAILED_OLD.match(piece):
            text = next(g for g in match.groups() if g is not None).strip()
            if self.login_failure is None and not self.logged_in:
                self.login_failure = (failure_reason(text, _R.LOGIN_REQUIRED), text)
        elif _NEEDS_HUMAN.search(piece) or _PROMPT.search(piece):
            self._prompt(piece)
        elif _MOBILE.search(piece):
            self.login_pending = True


def parse_output(text: str) -> SteamcmdOutput:
    """Read a whole transcript at once."""
    output = SteamcmdOutput()
    output.feed(text)
    output.close()
    return output


_LOG_LINE = re.compile(
    r"^\[(?P<at>[\d-]+ [\d:]+)\] (?:\[AppID (?P<app>\d+)\] )?"
    r"(?:Download item (?P<item>\d+) result : (?P<result>.+)|(?P<text>.*))$"
)


@attrs.frozen(kw_only=True)
class WorkshopLogLine:
    """One line of steamcmd's ``logs/workshop_log.txt``."""

    at: str
    app_id: int | None
    mod_id: int | None = None
    result: str | None = None
    """``OK`` or an EResult text, on ``Download item N result : …`` lines."""
    text: str = ""


def parse_workshop_log(text: str) -> list[WorkshopLogLine]:
    """The lines of a ``workshop_log.txt`` (other lines, such as comments, are skipped)."""
    lines: list[WorkshopLogLine] = []
    for raw in text.splitlines():
        match = _LOG_LINE.match(raw.strip())
        if not match:
            continue
        lines.append(
            WorkshopLogLine(
                at=match["at"],
                app_id=int(match["app"]) if match["app"] else None,
                mod_id=int(match["item"]) if match["item"] else None,
                result=match["result"],
                text=match["text"] or "",
            )
        )
    return lines


# --- the process ----------------------------------------------------------------------

_ENVIRONMENT = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"}
)
"""What steamcmd may see of the server's environment (plus ``LC_*``): it finds its programs,
its home (``~/Steam``) and its locale, and nothing else: no ``OPENWORKSHOP_*`` setting, no
password, no API key."""


def steamcmd_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """steamcmd's environment: the few names it needs from ours, then ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in _ENVIRONMENT or name.startswith("LC_")
    }
    env.update(extra or {})
    return env


RUNSCRIPT_PREFIX = "openworkshop-steamcmd~"
"""A runscript's private folder is ``PARENT/openworkshop-steamcmd~OWNER~RANDOM``, where OWNER
is this process's lock in ``PARENT/.owners`` (:mod:`openworkshop.owners`)."""
_LIVE_RUNSCRIPTS: set[Path] = set()
"""Runscript folders this process made and has not removed yet."""


def write_runscript(parent: Path, text: str) -> Path:
    """Write a runscript (it holds the password) in a new 0700 folder as a 0600 file.

    The folder's name says which process made it, so :func:`sweep_runscripts` can tell a
    live session's from one a killed server left behind.
    """
    folder = parent / (RUNSCRIPT_PREFIX + _owner(parent).tag())
    parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(folder, 0o700)
    _LIVE_RUNSCRIPTS.add(folder)
    path = folder / "download.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return path


_OWNERS: dict[Path, Owner] = {}
"""This process as the owner of runscript folders, one per parent folder."""


def _owner(parent: Path) -> Owner:
    owner = _OWNERS.get(parent)
    if owner is None:
        owner = _OWNERS[parent] = Owner(parent)
    return owner


def remove_runscript(script: Path) -> None:
    """Remove a runscript and its folder (again: harmless)."""
    with contextlib.suppress(FileNotFoundError):
        script.unlink()
    shutil.rmtree(script.parent, ignore_errors=True)
    _LIVE_RUNSCRIPTS.discard(script.parent)


def sweep_runscripts(parent: Path) -> int:
    """Remove the runscript folders in ``parent`` that no live session uses; return how many.

    A server killed with SIGKILL never ran its cleanup: its runscript, with the password,
    is still there. A folder is kept while the process that made it holds its owner lock
    (and is not this one: a folder of ours that no session uses is a leftover too); a
    reused pid proves nothing. Only our user's folders are touched, and no symlink.
    """
    try:
        folders = list(parent.iterdir())
    except OSError:  # missing, or not ours to read: nothing of ours can be in it
        return 0
    here = _OWNERS.get(parent)
    removed = 0
    for folder in folders:
        if not folder.name.startswith(RUNSCRIPT_PREFIX) or folder in _LIVE_RUNSCRIPTS:
            continue
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue  # a symlink, or another user's: not ours to remove
        owner_id = owner_of(folder.name.removeprefix(RUNSCRIPT_PREFIX))
        ours = here is not None and owner_id == here.id
        if ours or not is_alive(parent, owner_id):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    sweep_owners(parent)
    return removed


@attrs.frozen(kw_only=True)
class SessionResult:
    output: SteamcmdOutput
    returncode: int | None
    timed_out: bool = False
    killed: bool = False
    """The session was ended by us (timeout, or steamcmd waiting for input)."""


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _end_group(process: asyncio.subprocess.Process, grace: float) -> None:
    """Stop steamcmd and everything it started (its own process group)."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), grace)
    # SIGKILL the group too: children that ignored SIGTERM, or outlived their parent
    _signal_group(process.pid, signal.SIGKILL)
    await process.wait()


async def run_steamcmd(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    runscript: Path | None = None,
    grace: float = 2.0,
) -> SessionResult:
    """Run one steamcmd session, reading its output as it comes; kill it at ``timeout``.

    steamcmd runs in its own session (process group), so a timeout ends the whole group:
    ``steamcmd.sh``, the binary it starts and anything else they left running. Its
    environment is ``env``, or :func:`steamcmd_environment`: never the server's whole one.
    ``runscript`` is removed as soon as steamcmd has read it (it begins the login, one of the
    script's commands), not when the session ends: the password spends the session's minutes
    in no file. A self-update restarts steamcmd *before* it reads the script, so the restarted
    steamcmd still finds it. Raises :class:`SteamConfigurationError` when the executable
    cannot be started.
    """
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=steamcmd_environment() if env is None else dict(env),
        )
    except OSError as exc:
        raise SteamConfigurationError(f"cannot start steamcmd ({argv[0]!r}): {exc}") from exc
    assert process.stdout is not None
    output = SteamcmdOutput()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    timed_out = killed = False
    try:
        async with asyncio.timeout(timeout):
            while chunk := await process.stdout.read(1 << 16):
                output.feed(decoder.decode(chunk))
                if runscript is not None and output.login_started:
                    remove_runscript(runscript)
                    runscript = None
                if output.awaiting_input:
                    killed = True
                    break
            if not killed:
                await process.wait()
    except TimeoutError:
        timed_out = killed = True
    finally:
        if process.returncode is None:
            await asyncio.shield(_end_group(process, grace))
    output.feed(decoder.decode(b"", final=True))
    output.close()
    return SessionResult(
        output=output, returncode=process.returncode, timed_out=timed_out, killed=killed
    )
