"""steamcmd's command line and its output as it really is, on tests/steam/fixtures/steamcmd."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from openworkshop.domain import DownloadItem, FailureReason
from openworkshop.errors import SteamConfigurationError
from openworkshop.owners import OWNERS
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake.steamcmd import dump_vdf, parse_vdf
from openworkshop_steam.steamcmd import (
    ERESULT_TEXTS,
    PUBLIC_MESSAGES,
    SteamcmdOutput,
    anonymous_command,
    failure_reason,
    item_folder,
    parse_output,
    parse_workshop_log,
    public_failure,
    redact,
    remove_runscript,
    runscript_command,
    runscript_text,
    steamcmd_environment,
    sweep_runscripts,
    write_runscript,
)

R = FailureReason


def transcript(captures: Path, name: str) -> str:
    """A transcript without its provenance comments (lines starting with '#')."""
    text = (captures / "steamcmd" / name).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n"


def annotated_lines(captures: Path, name: str) -> list[str]:
    """The lines of a list-of-variants file, without the trailing ``# source`` notes."""
    lines = []
    for line in transcript(captures, name).splitlines():
        line = re.split(r"\s{2,}#\s", line)[0].rstrip()
        if line:
            lines.append(line)
    return lines


def test_windows_success(captures: Path) -> None:
    out = parse_output(transcript(captures, "01_windows_anonymous_success_spaceengineers.txt"))
    result = out.results[2306920249]
    assert result.ok and result.size == 1056527
    assert result.path == r"C:\SEServer\steamcmd\steamapps\workshop\content\244850\2306920249"
    assert out.logged_in and out.login_failure is None and not out.self_updated


def test_interactive_success(captures: Path) -> None:
    out = parse_output(transcript(captures, "02_linux_interactive_success_and_status.txt"))
    assert list(out.results) == [1414531358]
    assert out.results[1414531358].ok and out.results[1414531358].size == 1058089480


def test_failure_glued_to_the_next_text(captures: Path) -> None:
    """``…failed (Failure).Redirecting stderr…``: the failure is read, the rest kept apart."""
    out = parse_output(transcript(captures, "03_modern_anonymous_failure.txt"))
    result = out.results[1942446136]
    assert (result.ok, result.reason, result.detail) == (False, R.UNKNOWN, "Failure")
    assert any(piece.startswith("Redirecting stderr to 'D:") for piece in out.tail)


def test_several_items_glued(captures: Path) -> None:
    """``(152751659 bytes) Downloading item …`` on one line: three items, three results."""
    out = parse_output(transcript(captures, "04_multi_item_session_faster_arma3.txt"))
    assert {k: (r.ok, r.size) for k, r in out.results.items()} == {
        463939057: (True, 152751659),
        773131200: (True, 42722),
        773125288: (True, 82773),
    }
    assert out.started == [463939057, 773131200, 773125288]
    assert out.logged_in


def test_linux_glued_with_noise(captures: Path) -> None:
    """The last item started but never finished: no result for it, only 'started'."""
    out = parse_output(transcript(captures, "05_linux_multi_item_linuxgsm_ark.txt"))
    assert [k for k, r in out.results.items() if r.ok] == [1522327484, 733089781]
    assert out.started == [1522327484, 733089781, 1445395055]
    assert 1445395055 not in out.results


VARIANTS = {
    "No Connection": R.NO_CONNECTION,
    "Failure": R.UNKNOWN,
    "Timeout": R.TIMEOUT,
    "I/O Operation Failed": R.IO_ERROR,
    "Access Denied": R.ACCESS_DENIED,
    "File Not Found": R.NOT_FOUND,
}


def test_every_failure_variant(captures: Path) -> None:
    """Each line of 06_failure_variants.txt maps to its stable reason (id or no id)."""
    lines = annotated_lines(captures, "06_failure_variants.txt")
    assert len(lines) == 11
    for line in lines:
        out = parse_output(f"Downloading item 77 ...\n{line}\nUnloading Steam API...OK\n")
        match = re.search(r"item (\d+)", line)
        mod_id = int(match.group(1)) if match else 77
        text = re.search(r"failed \(([^)]*)\)", line)
        expected = VARIANTS[text.group(1)] if text else R.TIMEOUT
        result = out.results[mod_id]
        assert (result.ok, result.reason) == (False, expected), line


def test_first_run_self_update(captures: Path) -> None:
    out = parse_output(transcript(captures, "07_first_run_self_update.txt"))
    assert out.self_updated
    assert not out.any_item_activity


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("FAILED (Invalid Password)", R.LOGIN_REQUIRED),
        ("FAILED (Two-factor code mismatch)", R.LOGIN_REQUIRED),
        ("FAILED (Rate Limit Exceeded)", R.RATE_LIMITED),
        ("FAILED (Account Logon Denied)", R.LOGIN_REQUIRED),
        ("FAILED (Invalid Login Auth Code)", R.LOGIN_REQUIRED),
        ("FAILED login with result ...", R.LOGIN_REQUIRED),
        ("ERROR (No Connection)", R.NO_CONNECTION),
        ("Login Failure: Rate Limit Exceeded (84)", R.RATE_LIMITED),
        ("Connecting anonymously to Steam Public...FAILED (Rate Limit Exceeded)", R.RATE_LIMITED),
        (
            "Logging in user 'x' [U:1:0] to Steam Public...FAILED (Invalid Password)",
            R.LOGIN_REQUIRED,
        ),
    ],
)
def test_login_failures(line: str, reason: FailureReason) -> None:
    out = parse_output(line + "\n")
    assert out.login_failure is not None and out.login_failure[0] is reason
    assert not out.logged_in


def test_login_messages(captures: Path) -> None:
    """Every line of 08_login_messages.txt is classified: logged in, prompt, failure or noise."""
    lines = annotated_lines(captures, "08_login_messages.txt")
    prompts = {"password:", "Steam Guard code:", "Two-factor code:"}
    for line in lines:
        out = parse_output(line + "\n")
        if line in prompts or line.startswith(("This computer has not", "Please check your email")):
            assert out.awaiting_input and out.login_failure is not None, line
            assert out.login_failure[0] is R.LOGIN_REQUIRED
        elif line.startswith(("FAILED", "ERROR (", "Login Failure")):
            assert out.login_failure is not None, line
        elif re.search(r"(Public|Logged in|user info)\.\.\. ?(Logged in )?OK$", line):
            assert out.logged_in, line
        elif line.startswith("Please confirm the login"):
            assert out.login_pending, line
        else:
            assert out.login_failure is None and not out.awaiting_input, line


def test_prompt_without_newline_is_seen_at_once() -> None:
    """steamcmd waits for a code right after ``Steam Guard code:``: no newline ever comes."""
    out = SteamcmdOutput()
    out.feed("Logging in user 'x' [U:1:0] to Steam Public...\nSteam Guard code:")
    assert out.awaiting_input
    assert out.login_failure is not None and out.login_failure[0] is R.LOGIN_REQUIRED


def test_old_guard_prompt_glued_to_its_failure() -> None:
    out = parse_output("Steam Guard code:FAILED (Account Logon Denied)\n")
    assert out.login_failure is not None and out.login_failure[0] is R.LOGIN_REQUIRED


@pytest.mark.parametrize(
    "name",
    [
        "01_windows_anonymous_success_spaceengineers.txt",
        "03_modern_anonymous_failure.txt",
        "04_multi_item_session_faster_arma3.txt",
        "05_linux_multi_item_linuxgsm_ark.txt",
        "07_first_run_self_update.txt",
    ],
)
def test_incremental_reading_matches_whole(captures: Path, name: str) -> None:
    """Output read in tiny chunks (as from a pipe) gives what the whole text gives."""
    text = transcript(captures, name).replace("\n", "\r\n")
    whole = parse_output(text)
    out = SteamcmdOutput()
    for start in range(0, len(text), 7):
        out.feed(text[start : start + 7])
    out.close()
    assert (out.results, out.started, out.logged_in, out.self_updated) == (
        whole.results,
        whole.started,
        whole.logged_in,
        whole.self_updated,
    )


def test_last_line_without_newline() -> None:
    out = SteamcmdOutput()
    out.feed('Success. Downloaded item 5 to "/x/5" (10 bytes)')
    assert 5 not in out.results
    out.close()
    assert out.results[5].ok


def test_failure_texts() -> None:
    assert failure_reason("Access  denied") is R.ACCESS_DENIED
    assert failure_reason("Something New") is R.UNKNOWN
    assert failure_reason("Something New", R.LOGIN_REQUIRED) is R.LOGIN_REQUIRED


def test_anonymous_command_line() -> None:
    """The real order: force_install_dir before login, every item, quit last."""
    items = [DownloadItem(app_id=294100, mod_id=1), DownloadItem(app_id=322330, mod_id=2)]
    argv = anonymous_command("/opt/steamcmd", Path("/data/dl"), items)
    assert argv == [
        "/opt/steamcmd",
        "+force_install_dir",
        "/data/dl",
        "+login",
        "anonymous",
        "+workshop_download_item",
        "294100",
        "1",
        "+workshop_download_item",
        "322330",
        "2",
        "+quit",
    ]


def test_runscript_keeps_the_password_off_the_command_line() -> None:
    items = [DownloadItem(app_id=107410, mod_id=3)]
    text = runscript_text(Path("/data/dl"), items, username="bob", password="s3cr3t pw")
    assert text.splitlines() == [
        'force_install_dir "/data/dl"',
        'login "bob" "s3cr3t pw"',
        "workshop_download_item 107410 3",
        "quit",
    ]
    argv = runscript_command("steamcmd", Path("/tmp/x/download.txt"))
    assert argv == ["steamcmd", "+runscript", "/tmp/x/download.txt"]
    with pytest.raises(SteamConfigurationError):
        runscript_text(Path("/d"), items, username="bob", password='has"quote')


def test_item_folder() -> None:
    assert item_folder(Path("/d"), 294100, 7) == Path("/d/steamapps/workshop/content/294100/7")


def test_acf(captures: Path) -> None:
    """appworkshop_APP.acf (TAB-separated VDF), as the fake steamcmd reads and writes it."""
    text = (captures / "steamcmd/appworkshop_294100.example.acf").read_text()
    acf = parse_vdf(text)["AppWorkshop"]
    assert acf["appid"] == "294100"
    assert acf["WorkshopItemsInstalled"]["2009463077"] == {
        "size": "2154312",
        "timeupdated": "1699999000",
        "manifest": "4436581318669489870",
    }
    assert acf["WorkshopItemDetails"]["2009463077"]["latest_manifest"] == "4436581318669489870"
    assert dump_vdf(parse_vdf(text)) == text


def test_workshop_log(captures: Path) -> None:
    """logs/workshop_log.txt: per-item results and other lines, comments skipped."""
    text = (captures / "steamcmd/workshop_log.example.txt").read_text()
    lines = parse_workshop_log(text)
    assert len(lines) == 11
    results = [(x.app_id, x.mod_id, x.result) for x in lines if x.mod_id and x.result]
    assert results == [(107410, 333310405, "Failure")]
    assert lines[0].app_id is None and lines[0].text == "Client version: 1738027521"
    assert lines[-1].text == "Updating workshop item details failed with Access Denied"


def test_public_failure_texts() -> None:
    """A known EResult text is shown as Steam spells it; anything else is the reason's
    fixed message, whatever steamcmd printed."""
    assert public_failure(R.TIMEOUT, "timeout") == "Timeout"
    assert public_failure(R.IO_ERROR, "I/O  operation failed") == "I/O Operation Failed"
    assert (
        public_failure(R.UNKNOWN, "bob [U:1:123] at 10.0.0.1:27017") == PUBLIC_MESSAGES[R.UNKNOWN]
    )
    assert set(PUBLIC_MESSAGES) == set(FailureReason)
    for text, reason in ERESULT_TEXTS.items():
        assert failure_reason(text) is reason and public_failure(reason, text) == text


def test_redact() -> None:
    line = (
        "Logging in user 'Bob' [U:1:123456] to Steam Public... 76561197960265851 "
        "cm 162.254.197.42:27017 [2001:db8::1]:27015 pw 'hunter2'"
    )
    assert redact(line, ("bob", "hunter2", None)) == (
        "Logging in user '***' *** to Steam Public... *** cm *** *** pw '***'"
    )
    assert redact("Downloading item 1414531358 ...") == "Downloading item 1414531358 ..."


def test_login_start_is_seen_before_its_ok() -> None:
    """ "Logging in user 'x' to Steam Public..." waits for its OK without a newline: the
    runscript has been read by then."""
    out = SteamcmdOutput()
    out.feed("Loading Steam API...OK\n")
    assert not out.login_started
    out.feed("Logging in user 'bob' [U:1:1] to Steam Public...")
    assert out.login_started and not out.logged_in


def test_environment_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENWORKSHOP_STEAM_PASSWORD", "hunter2")
    monkeypatch.setenv("LC_MESSAGES", "C")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = steamcmd_environment({"EXTRA": "1"})
    assert env["PATH"] == "/usr/bin:/bin" and env["LC_MESSAGES"] == "C" and env["EXTRA"] == "1"
    assert not any(name.startswith("OPENWORKSHOP_") for name in env)
    assert set(env) <= {"EXTRA", *os.environ}


def test_runscript_left_by_a_killed_server_is_swept(tmp_path: Path) -> None:
    """A server killed with SIGKILL mid-session leaves its runscript (with the password); the
    next start removes it, and keeps the runscripts of live sessions (its own, another's)."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from openworkshop_steam.steamcmd import write_runscript\n"
        'print(write_runscript(Path(sys.argv[1]), \'login "bob" "hunter2"\\n\'), flush=True)\n'
        "sys.stdin.read()\n"
    )

    def server() -> tuple[subprocess.Popen[str], Path]:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        return process, Path(process.stdout.readline().strip())  # gate: the script is written

    killed, left = server()
    running, kept = server()
    mine = write_runscript(tmp_path, "login anonymous\n")
    try:
        assert left.read_text() == 'login "bob" "hunter2"\n'
        assert stat.S_IMODE(left.stat().st_mode) == 0o600
        assert stat.S_IMODE(left.parent.stat().st_mode) == 0o700
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert left.exists()  # nothing cleaned up after SIGKILL
        SteamWebSource(runscript_dir=tmp_path)  # the restart
        assert not left.parent.exists()
        assert kept.exists() and mine.exists()
        assert sweep_runscripts(tmp_path) == 0
    finally:
        for process in (running, killed):
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
            process.wait(timeout=30)
        remove_runscript(mine)
    assert sweep_runscripts(tmp_path) == 1  # the ended one's is not live any more
    # nothing but the owner lock of this live process (the dead ones' are swept)
    assert [p.name for p in tmp_path.iterdir()] == [OWNERS]
    assert len(list((tmp_path / OWNERS).iterdir())) == 1


def test_a_leftover_with_this_process_pid_is_swept(tmp_path: Path) -> None:
    """A restarted server may get the pid of the killed one (PID 1 in a container)."""
    leftover = write_runscript(tmp_path, "x")
    _forget_live(leftover.parent)
    assert sweep_runscripts(tmp_path) == 1 and not leftover.parent.exists()
    (tmp_path / "openworkshop-steamcmd~elsewhere").symlink_to(tmp_path)
    assert sweep_runscripts(tmp_path) == 0  # a symlink is never followed


def _forget_live(folder: Path) -> None:
    from openworkshop_steam import steamcmd

    steamcmd._LIVE_RUNSCRIPTS.discard(folder)
