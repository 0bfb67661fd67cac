"""Embed Open Workshop with the in-memory fakes and take one mod from request to archive.

Run: python examples/embed.py
"""

from __future__ import annotations

import asyncio
import zipfile

from openworkshop import ModState, Queued, Settings, Workshop
from openworkshop.testing import (
    FakeSteamSource,
    MemoryArchiveStore,
    MemoryStorage,
    sample_catalog,
)


async def main() -> None:
    catalog = sample_catalog()
    mod_id = next(iter(catalog.items))
    workshop = Workshop(
        storage=MemoryStorage(),
        steam=FakeSteamSource(catalog),
        archives=MemoryArchiveStore(),
        settings=Settings(gather_window=0.01),
    )
    async with workshop:
        answer = await workshop.request_download(mod_id)
        assert isinstance(answer, Queued)
        print("queued:", answer.body())
        states = await workshop.wait_until([mod_id], [ModState.READY], timeout=10)
        print("state:", states[mod_id].name)
        handle = await workshop.cached(mod_id)
        with handle.open() as raw, zipfile.ZipFile(raw) as archive:
            print(f"{handle.filename}: {handle.archive.size} bytes, sha256 {handle.archive.sha256}")
            for info in archive.infolist():
                print(
                    f"  {info.filename} ({info.file_size} bytes, bzip2={info.compress_type == zipfile.ZIP_BZIP2})"
                )


if __name__ == "__main__":
    asyncio.run(main())
