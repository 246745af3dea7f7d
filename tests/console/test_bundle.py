"""The committed bundle in src/maria/console/static/ is what the sources build: a change
to console/ (or to the client it bundles, or a package in its lock file) without
``npm run build`` fails here."""

from __future__ import annotations

from pathlib import Path

from maria.console.router import STATIC
from tests.console.build import build


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_committed_bundle_is_current(tmp_path: Path) -> None:
    build(tmp_path / "static")
    built, committed = files(tmp_path / "static"), files(STATIC)
    fix = "run `npm run build` in console/ and commit src/maria/console/static/"
    assert sorted(built) == sorted(committed), f"other files than the build's: {fix}"
    stale = [name for name in built if built[name] != committed[name]]
    assert not stale, f"{stale} differ from the build's: {fix}"
