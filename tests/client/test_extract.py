"""Extraction refuses every entry that would write outside its folder, before writing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from openworkshop_client import UnsafeArchive
from openworkshop_client.extract import extract_archive


def _archive(path: Path, entries: dict[str, bytes], modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if modes and name in modes:
                info.external_attr = modes[name] << 16
            archive.writestr(info, data)
    return path


def test_a_mod_is_extracted_into_a_new_folder(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.zip", {"About/About.xml": b"<x/>", "dir/": b"", "b.bin": b"1"})
    extract_archive(path, tmp_path / "out")
    assert (tmp_path / "out" / "About" / "About.xml").read_bytes() == b"<x/>"
    assert (tmp_path / "out" / "b.bin").read_bytes() == b"1"


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("../escaped.txt", None),
        ("a/../../escaped.txt", None),
        ("/tmp/escaped.txt", None),
        ("C:/escaped.txt", None),
        ("a\\..\\..\\escaped.txt", None),
        ("link", 0o120777),
        ("fifo", 0o010644),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash", "symlink", "fifo"],
)
def test_an_entry_that_leaves_the_folder_is_refused(
    tmp_path: Path, name: str, mode: int | None
) -> None:
    entries = {"fine.txt": b"fine", name: b"evil"}
    path = _archive(tmp_path / "a.zip", entries, {name: mode} if mode else None)
    with pytest.raises(UnsafeArchive):
        extract_archive(path, tmp_path / "deep" / "out")
    assert not (tmp_path / "deep" / "out").exists()  # nothing written, not even fine.txt
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists()


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(io.BytesIO(b"not a zip at all").getvalue())
    with pytest.raises(UnsafeArchive):
        extract_archive(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
