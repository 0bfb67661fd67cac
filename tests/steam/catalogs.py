"""Catalog items for the Steam adapter's tests, and a process check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from openworkshop.domain import ItemDetails
from openworkshop.testing import CatalogItem

__all__ = ["alive", "make_item"]


def make_item(
    mod_id: int,
    app_id: int = 294100,
    *,
    title: str | None = None,
    tags: tuple[str, ...] = ("Mod", "1.5"),
    file_url: str = "",
    is_collection: bool = False,
    files: dict[str, str] | None = None,
    blobs: dict[str, int] | None = None,
    **extra: Any,
) -> CatalogItem:
    """A small item: by default one text file and one binary blob."""
    files = (
        {"About/About.xml": f"<ModMetaData>{mod_id}</ModMetaData>\n"} if files is None else files
    )
    blobs = {"Textures/a.bin": 3000 + mod_id % 100} if blobs is None else blobs
    size = sum(len(t.encode()) for t in files.values()) + sum(blobs.values())
    details = ItemDetails(
        id=mod_id,
        app_id=app_id,
        title=title or f"Item {mod_id}",
        description=f"[b]Item {mod_id}[/b]\r\nA test item.",
        file_size=size,
        file_url=file_url,
        hcontent_file=str(4000000000000000000 + mod_id),
        preview_url=f"https://images.steamusercontent.com/ugc/{mod_id}/PREVIEW/",
        time_created=1600000000,
        time_updated=1600000000 + mod_id % 1000,
        tags=tags,
        is_collection=is_collection,
    )
    return CatalogItem(details=details, files=files, blobs=blobs, **extra)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
