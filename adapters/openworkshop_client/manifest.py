"""The mods folder's record of what the client installed: for each mod its id, name, version
(the server's ``date_update``), the sha256 of its archive and the mods it requires.

It lives in ``<folder>/.openworkshop/manifest.json`` beside the client's working files
(``partial/`` downloads, ``tmp-*`` extraction folders); each mod is in ``<folder>/<id>/``.
The file is replaced atomically (written aside, then renamed), so a crash leaves the old one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

__all__ = ["STATE_DIR", "InstalledMod", "Manifest", "state_dir"]

STATE_DIR = ".openworkshop"
_FILE = "manifest.json"
_FORMAT = 1


def state_dir(folder: Path) -> Path:
    return folder / STATE_DIR


@attrs.frozen(kw_only=True)
class InstalledMod:
    id: int
    sha256: str
    name: str = ""
    version: str = ""
    """The server's ``date_update`` of the installed version, when it told one."""
    size: int = 0
    dependencies: tuple[int, ...] = ()
    direct: bool = True
    """Asked for by the user (not only pulled in as a dependency)."""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "dependencies": list(self.dependencies),
            "direct": self.direct,
        }

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> InstalledMod:
        deps = raw.get("dependencies") or []
        assert isinstance(deps, list)
        return cls(
            id=int(str(raw["id"])),
            sha256=str(raw["sha256"]),
            name=str(raw.get("name", "")),
            version=str(raw.get("version", "")),
            size=int(str(raw.get("size", 0))),
            dependencies=tuple(int(d) for d in deps),
            direct=bool(raw.get("direct", True)),
        )


@attrs.define
class Manifest:
    folder: Path
    mods: dict[int, InstalledMod] = attrs.field(factory=dict)

    @property
    def path(self) -> Path:
        return state_dir(self.folder) / _FILE

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The folder's manifest; an empty one when the client never installed there."""
        manifest = cls(folder)
        try:
            data = json.loads(manifest.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return manifest
        except (OSError, ValueError) as exc:
            raise ValueError(f"the manifest {manifest.path} cannot be read: {exc}") from None
        for raw in data.get("mods", []):
            mod = InstalledMod.from_json(raw)
            manifest.mods[mod.id] = mod
        return manifest

    def __iter__(self) -> Iterator[InstalledMod]:
        return iter(self.mods.values())

    def mod_folder(self, mod_id: int) -> Path:
        return self.folder / str(mod_id)

    def required_by(self, mod_id: int) -> list[int]:
        return [m.id for m in self if mod_id in m.dependencies]

    def save(self) -> None:
        """Write the manifest atomically (synchronous: no await splits it)."""
        directory = state_dir(self.folder)
        directory.mkdir(parents=True, exist_ok=True)
        data = {"format": _FORMAT, "mods": [m.to_json() for m in sorted(self, key=lambda m: m.id)]}
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
