# SPDX-License-Identifier: GPL-3.0-or-later
"""The README and the user guides say only what the program does: every command they name exists,
every typed error has a troubleshooting row, every picture they show is in the repository."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from nap_desktop import cli, errors

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("user-guide-*.md"))]
ROLES = ("officer", "circle-head", "hq-analyst", "admin")


def _subcommands(parser: object) -> dict[str, object]:
    for action in getattr(parser, "_actions", []):
        if action.__class__.__name__ == "_SubParsersAction":
            return dict(action.choices)
    return {}


def test_there_is_a_user_guide_per_role() -> None:
    assert sorted(p.name for p in (ROOT / "docs").glob("user-guide-*.md")) == sorted(f"user-guide-{r}.md" for r in ROLES)


def _code(text: str) -> list[str]:
    """The code blocks and inline code spans of a Markdown text (where commands are written)."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    rest = re.sub(r"```.*?```", " ", text, flags=re.S)
    return blocks + re.findall(r"`([^`]+)`", rest)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_named_exists(doc: Path) -> None:
    top = _subcommands(cli.build_parser())
    named = [m for span in _code(doc.read_text("utf-8")) for m in re.findall(r"nap-desktop ([a-z][a-z0-9-]*)(?: ([a-z][a-z0-9-]*))?", span)]
    assert named, doc
    for command, sub in named:
        assert command in top, f"{doc.name}: nap-desktop {command}"
        subs = _subcommands(top[command])
        if subs and sub:
            assert sub in subs, f"{doc.name}: nap-desktop {command} {sub}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_picture_shown_is_in_the_repository(doc: Path) -> None:
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", doc.read_text("utf-8")):
        assert (doc.parent / target).is_file(), f"{doc.name}: {target}"


def test_every_typed_error_has_a_troubleshooting_row() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Troubleshooting") :]
    types = [n for n, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.UserFacingError) and c is not errors.UserFacingError]
    missing = [n for n in types if f"`{n}`" not in section]
    assert missing == []


def test_the_two_commands_are_make_targets() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make run    #" in readme and "make test   #" in readme
