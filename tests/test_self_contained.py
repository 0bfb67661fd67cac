"""A fresh clone is all the project needs: no test, doc or code file reaches outside it.

Files beside a developer's checkout (a shared folder of Steam facts and captures, say) are not
in a user's clone, so anything that reads or points there works only on one machine.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SKIPPED_DIRS = {
    ".git",
    ".venv",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".import_linter_cache",
    "__pycache__",
    "build",
    "dist",
    "openworkshop-data",
}
TEXT_SUFFIXES = {
    ".py", ".md", ".toml", ".cfg", ".ini", ".txt", ".json", ".html", ".acf", ".yml", ".yaml",
    ".sh", ".service", ".conf", "",
}  # fmt: skip

# Built from pieces so that this file does not match itself.
SHARED = "shared"
OUTSIDE = [
    (re.compile(r"\.\./" + SHARED + r"\b"), "a path into ../" + SHARED),
    (re.compile(r"/work/"), "an absolute path of the developers' machine"),
    (re.compile(r"""/\s*["']""" + SHARED + r"""["']"""), "a Path joined with '" + SHARED + "'"),
    (re.compile(r"\bFACTS" + r"\.md\b"), "a file that is not in the repository"),
    (re.compile(r"`" + SHARED + r"/"), "a path into the " + SHARED + " folder"),
]
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _candidates() -> list[Path]:
    """The project's files: in a git checkout what git tracks or would track (ignored
    caches such as .hypothesis/ are not the project); elsewhere everything below ROOT."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return list(ROOT.rglob("*"))
    return [ROOT / os.fsdecode(name) for name in listing.split(b"\0") if name]


def project_files() -> list[Path]:
    files = []
    for path in _candidates():
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in parts):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path != Path(__file__).resolve():
            files.append(path)
    return sorted(files)


def test_the_scan_sees_the_project() -> None:
    """The scan below reads the code, the tests, the docs and the captures."""
    names = {p.relative_to(ROOT).as_posix() for p in project_files()}
    for expected in (
        "README.md",
        "docs/steam.md",
        "src/openworkshop/pipeline.py",
        "tests/steam/conftest.py",
        "tests/steam/fixtures/SOURCES.md",
    ):
        assert expected in names


def test_no_file_reaches_outside_the_checkout() -> None:
    found = []
    for path in project_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, what in OUTSIDE:
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert found == []


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_doc_links_stay_inside_the_repository(doc: Path) -> None:
    """Every relative link in README.md and docs/ names a file of the repository."""
    broken = []
    for target in MARKDOWN_LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or an anchor in the same page
        resolved = (doc.parent / target.split("#", 1)[0]).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert broken == []


def test_the_steam_captures_are_in_the_repository() -> None:
    """The captures the Steam tests parse live in tests/steam/fixtures, with their sources."""
    from tests.steam.conftest import CAPTURES

    assert CAPTURES.is_relative_to(ROOT)
    sources = (CAPTURES / "SOURCES.md").read_text(encoding="utf-8")
    for folder in ("webapi", "store", "steamcmd"):
        for capture in sorted((CAPTURES / folder).iterdir()):
            assert f"{folder}/{capture.name}" in sources or f"{folder}/*" in sources, capture
    assert sorted(p.name for p in (CAPTURES / "pages").glob("*.html")) == [
        "RECONSTRUCTED_collection.html",
        "RECONSTRUCTED_error_page.html",
        "RECONSTRUCTED_item_multi_image.html",
    ]
