"""A client for Open Workshop servers, for launchers: plan, install, update and remove mods
in a mods folder, with typed progress events (docs/client.md)."""

from openworkshop_client.client import Client, ModStatus, Plan
from openworkshop_client.errors import (
    ChecksumMismatch,
    ClientError,
    DiskFull,
    InstallFailed,
    ModRefused,
    ModRequired,
    NotInstalled,
    ServerError,
    ServerUnreachable,
    TransferInterrupted,
    UnsafeArchive,
)
from openworkshop_client.events import (
    Done,
    Event,
    Extracting,
    Failed,
    Phase,
    Progress,
    Queued,
    Removed,
    ServerDownloading,
    Skipped,
    Transferring,
    Verifying,
)
from openworkshop_client.manifest import InstalledMod, Manifest
from openworkshop_client.server import PlanEntry
from openworkshop_client.targets import parse_targets

__all__ = [
    "ChecksumMismatch",
    "Client",
    "ClientError",
    "DiskFull",
    "Done",
    "Event",
    "Extracting",
    "Failed",
    "InstallFailed",
    "InstalledMod",
    "Manifest",
    "ModRefused",
    "ModRequired",
    "ModStatus",
    "NotInstalled",
    "Phase",
    "Plan",
    "PlanEntry",
    "Progress",
    "Queued",
    "Removed",
    "ServerDownloading",
    "ServerError",
    "ServerUnreachable",
    "Skipped",
    "TransferInterrupted",
    "Transferring",
    "UnsafeArchive",
    "Verifying",
    "parse_targets",
]
