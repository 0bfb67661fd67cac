"""A small, realistic sample catalog: a few games, a few dozen mods with tags, dependencies,
screenshots, one private item and one that steamcmd cannot fetch. Used by ``openworkshop
demo``, the examples and the tests."""

from __future__ import annotations

import random

from openworkshop.domain import AppDetails, ItemDetails
from openworkshop.testing.catalog import CatalogApp, CatalogItem, SteamCatalog

__all__ = ["PRIVATE_MOD_ID", "UNFETCHABLE_MOD_ID", "sample_catalog"]

_GAMES = [
    (294100, "RimWorld", ((1, "Indie"), (2, "Strategy"), (28, "Simulation"))),
    (322330, "Don't Starve Together", ((1, "Indie"), (25, "Adventure"))),
    (281990, "Stellaris", ((2, "Strategy"), (28, "Simulation"))),
]
_TAGS = {
    294100: ["Mod", "1.4", "1.5", "Translation", "Scenario", "QoL"],
    322330: ["Item", "Character", "Server only", "Client only", "All clients require"],
    281990: ["Graphics", "Fixes", "Overhaul", "Balance", "Gameplay", "Species"],
}
_WORDS = [
    "Better",
    "Faster",
    "Bigger",
    "Tiny",
    "Epic",
    "Realistic",
    "Harmony",
    "Core",
    "Extended",
    "Expanded",
    "Medieval",
    "Space",
    "Vanilla",
    "Simple",
    "Advanced",
    "Colony",
    "Ship",
    "Weapons",
    "Armor",
    "Hair",
    "Animals",
    "Traders",
    "Power",
    "Farming",
    "Combat",
    "Music",
    "Interface",
    "Textures",
    "Lighting",
    "Storage",
    "Factions",
    "Events",
    "Quests",
]

PRIVATE_MOD_ID = 3000000001
UNFETCHABLE_MOD_ID = 3000000002


def sample_catalog(mods_per_game: int = 12, *, seed: int = 7) -> SteamCatalog:
    """Build the sample catalog (deterministic for a seed)."""
    rng = random.Random(seed)
    catalog = SteamCatalog()
    next_id = 2000000000
    for app_id, name, genres in _GAMES:
        catalog.add_app(
            CatalogApp(
                details=AppDetails(
                    id=app_id,
                    name=name,
                    type="game",
                    header_image=f"https://cdn.akamai.steamstatic.com/steam/apps/{app_id}/header.jpg",
                    short_description=f"{name} — a game with a lively workshop.",
                    description=f"<p>{name}. The store's detailed description, in HTML.</p>",
                    genres=genres,
                )
            )
        )
        ids: list[int] = []
        for n in range(mods_per_game):
            next_id += rng.randrange(1000, 100000)
            title = " ".join(rng.sample(_WORDS, rng.randrange(1, 4)))
            if n == 0:
                title = 'Quote "Mod" / with: slash — ünïcode'
            files = {
                "About/About.xml": f"<ModMetaData><name>{title}</name></ModMetaData>\n",
                "Defs/Things.xml": "<Defs>" + "<ThingDef/>" * rng.randrange(1, 50) + "</Defs>\n",
            }
            blobs = {"Textures/atlas.bin": rng.randrange(1000, 60000)}
            size = sum(len(t.encode()) for t in files.values()) + sum(blobs.values())
            created = 1500000000 + rng.randrange(0, 200000000)
            deps = tuple(rng.sample(ids, min(len(ids), rng.randrange(0, 3)))) if ids else ()
            catalog.add_item(
                CatalogItem(
                    details=ItemDetails(
                        id=next_id,
                        app_id=app_id,
                        title=title,
                        description=f"[h1]{title}[/h1]\r\nA mod for {name}.\r\n[b]Enjoy[/b].",
                        file_size=size,
                        hcontent_file=str(rng.randrange(10**18, 10**19)),
                        preview_url=f"https://images.steamusercontent.com/ugc/{next_id}/PREVIEW/",
                        time_created=created,
                        time_updated=created + rng.randrange(0, 10**7),
                        tags=tuple(rng.sample(_TAGS[app_id], rng.randrange(1, 4))),
                    ),
                    files=files,
                    blobs=blobs,
                    dependencies=deps,
                    screenshots=tuple(
                        f"https://images.steamusercontent.com/ugc/{next_id}{k}/SHOT/"
                        for k in range(rng.randrange(0, 4))
                    ),
                )
            )
            ids.append(next_id)
    catalog.add_item(
        CatalogItem(
            details=ItemDetails(id=PRIVATE_MOD_ID, app_id=294100, title="Private"),
            visibility=2,
        )
    )
    catalog.add_item(
        CatalogItem(
            details=ItemDetails(
                id=UNFETCHABLE_MOD_ID,
                app_id=294100,
                title="Needs an owner",
                file_size=10,
                hcontent_file="1",
                time_created=1600000000,
                time_updated=1600000000,
            ),
            files={"a.txt": "0123456789"},
            download_error="Access Denied",
        )
    )
    return catalog
