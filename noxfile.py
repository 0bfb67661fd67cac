"""nox sessions: ``nox`` runs all three; ``nox -s tests -- -k http`` passes arguments on."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "types"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite (nginx is needed for the X-Accel-Redirect test; see .ci/run)."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: the rules and the formatting of pyproject.toml."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    """mypy, strict on the core (src/openworkshop), as pyproject.toml configures it."""
    session.install("-e", ".", "mypy")
    session.run("mypy")
