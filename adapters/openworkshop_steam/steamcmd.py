"""steamcmd: its command line, its runscript, its output as it really is, and its process.

The command line is the real one (docs/steam.md, "steamcmd"), ``force_install_dir`` before ``login``::

    steamcmd +force_install_dir DIR +login anonymous
             +workshop_download_item APP ID … +quit

With an account the same commands go into a runscript (mode 0600, in a private temporary
folder, removed afterwards) run with ``+runscript FILE``, so the password never appears on a
command line that ``ps`` shows to other users.

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
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from openworkshop.domain import DownloadItem, FailureReason
from openworkshop.errors import SteamConfigurationError

__all__ = [
    "ItemResult",
    "SessionResult",
    "SteamcmdOutput",
    "anonymous_command",
    "failure_reason",
    "item_folder",
    "parse_output",
    "parse_workshop_log",
    "run_steamcmd",
    "runscript_command",
    "runscript_text",
]

_R = FailureReason

FAILURE_TEXTS: Mapping[str, FailureReason] = {
    "failure": _R.UNKNOWN,
    "timeout": _R.TIMEOUT,
    "no connection": _R.NO_CONNECTION,
    "access denied": _R.ACCESS_DENIED,
    "file not found": _R.NOT_FOUND,
    "i/o operation failed": _R.IO_ERROR,
    "disk write failure": _R.IO_ERROR,
    "rate limit exceeded": _R.RATE_LIMITED,
    "invalid password": _R.LOGIN_REQUIRED,
    "account logon denied": _R.LOGIN_REQUIRED,
    "two-factor code mismatch": _R.LOGIN_REQUIRED,
    "invalid login auth code": _R.LOGIN_REQUIRED,
    "account login denied throttle": _R.RATE_LIMITED,
    "service unavailable": _R.NO_CONNECTION,
}
"""steamcmd's EResult texts, as printed in ``failed (TEXT)`` and ``FAILED (TEXT)``."""


def failure_reason(text: str, default: FailureReason = _R.UNKNOWN) -> FailureReason:
    """The stable reason for one of steamcmd's EResult texts (``Access Denied`` …)."""
    return FAILURE_TEXTS.get(" ".join(text.lower().split()), default)


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
    tail: list[str] = attrs.field(factory=list)
    """The last lines seen, for failure details."""
    _pending: str = ""

    def feed(self, text: str) -> None:
        """Read more output; complete lines are interpreted now, a partial one is kept."""
        text = self._pending + text.replace("\r\n", "\n").replace("\r", "\n")
        complete, _, self._pending = text.rpartition("\n")
        for line in complete.split("\n"):
            self._line(line)
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
            self.login_failure = (_R.LOGIN_REQUIRED, f"steamcmd asks for input: {text!r}")

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
        elif _LOGGED_IN.search(piece):
            self.logged_in = True
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
    grace: float = 2.0,
) -> SessionResult:
    """Run one steamcmd session, reading its output as it comes; kill it at ``timeout``.

    steamcmd runs in its own session (process group), so a timeout ends the whole group:
    ``steamcmd.sh``, the binary it starts and anything else they left running. Raises
    :class:`SteamConfigurationError` when the executable cannot be started.
    """
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else dict(env),
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
