"""What can go wrong for a launcher, each error named for its condition. aiohttp's and the
file system's errors are translated into these at the edge (``server.py``, ``transfer.py``,
``extract.py``), so a launcher catches :class:`ClientError` and shows ``str(error)``."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ChecksumMismatch",
    "ClientError",
    "DiskFull",
    "InstallFailed",
    "ModRefused",
    "ModRequired",
    "NotInstalled",
    "ServerError",
    "ServerUnreachable",
    "TransferInterrupted",
    "UnsafeArchive",
]


class ClientError(Exception):
    """Base of every error the client raises."""

    reason = "error"


class ServerUnreachable(ClientError):
    """No answer from the server (refused, timed out, DNS)."""

    reason = "server_unreachable"

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"the Open Workshop server at {url} cannot be reached: {detail}")
        self.url = url


class ServerError(ClientError):
    """The server answered with an error (its ``message`` and ``error_id``)."""

    reason = "server_error"

    def __init__(self, status: int, message: str, error_id: int | None = None) -> None:
        super().__init__(f"the server answered {status}: {message}")
        self.status = status
        self.message = message
        self.error_id = error_id


class ModRefused(ClientError):
    """Steam (through the server) will not give this mod: private, missing, needs an owner."""

    def __init__(self, mod_id: int, reason: str, detail: str = "") -> None:
        text = f"mod {mod_id} cannot be downloaded: {reason.replace('_', ' ')}"
        super().__init__(text + (f" ({detail})" if detail else ""))
        self.mod_id = mod_id
        self.reason = reason
        self.detail = detail


class ChecksumMismatch(ClientError):
    """The archive received is not the one the server announced (its sha256 differs)."""

    reason = "checksum"

    def __init__(self, mod_id: int, expected: str, actual: str) -> None:
        super().__init__(
            f"mod {mod_id}: the archive's sha256 is {actual}, the server announced {expected}"
        )
        self.mod_id = mod_id


class UnsafeArchive(ClientError):
    """The archive would write outside its folder (``..``, an absolute path, a symlink)."""

    reason = "unsafe_archive"

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"the archive is refused: entry {name!r} {why}")
        self.entry = name


class DiskFull(ClientError):
    reason = "disk_full"

    def __init__(self, path: str) -> None:
        super().__init__(f"no space left on the disk for {path}")


class TransferInterrupted(ClientError):
    """The connection broke more often than the client retries."""

    reason = "interrupted"


class NotInstalled(ClientError):
    reason = "not_installed"

    def __init__(self, mod_ids: list[int]) -> None:
        super().__init__("not installed in this folder: " + ", ".join(map(str, mod_ids)))
        self.mod_ids = mod_ids


class ModRequired(ClientError):
    """Removing these mods would break installed mods that require them."""

    reason = "required"

    def __init__(self, required_by: Mapping[int, list[int]]) -> None:
        parts = [f"{m} (required by {', '.join(map(str, by))})" for m, by in required_by.items()]
        super().__init__("other installed mods need " + "; ".join(parts))
        self.required_by = dict(required_by)


class InstallFailed(ClientError):
    """Some mods of the plan could not be had; nothing was installed."""

    reason = "failed"

    def __init__(self, failures: Mapping[int, ClientError]) -> None:
        lines = [str(e) for e in failures.values()]
        super().__init__("nothing was installed: " + "; ".join(lines))
        self.failures = dict(failures)
