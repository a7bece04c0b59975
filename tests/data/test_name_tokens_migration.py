# SPDX-License-Identifier: GPL-3.0-or-later
"""Schemas 0007 and 0011: the name search's word index, and the sound keys beside the words, are
filled from the persons a workspace already holds when it is upgraded, so their names are found
at once, however they are spelt."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import insert, select

from nap_desktop.data import migrate
from nap_desktop.data.record_models import Person, PersonIdentity, PersonNameToken
from nap_desktop.services import records
from nap_desktop.services.records import normalise_name


def _people(ws: Any, people: dict[str, tuple[str, str]]) -> None:
    with ws.sf.begin() as s:
        for pid, (given, family) in people.items():
            s.execute(insert(Person), [{"id": pid, "origin_unit": "C-PSH", "unit": "C-PSH"}])
            s.execute(insert(PersonIdentity), [{"person_id": pid, "given_name": given, "family_name": family, "name_key": normalise_name(given, family)}])


def _back_to(ws: Any, revision: str) -> None:
    cfg = migrate._config()  # noqa: SLF001 - the test steps the schema back, as an old workspace is
    with ws.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    assert migrate.current_revision(ws.engine) == revision


def _tokens(ws: Any) -> set[tuple[str, str]]:
    with ws.sf() as s:
        return set(s.execute(select(PersonNameToken.person_id, PersonNameToken.token)).tuples())


def _named(ws: Any, text: str) -> list[str]:
    """The persons the name search's condition finds for ``text`` (as a list's search box does)."""
    with ws.sf() as s:
        cond = records._name_condition(s, Person.id, normalise_name(text), walk=False)  # noqa: SLF001 - the admin may not list records
        return sorted(s.scalars(select(Person.id).where(cond)))


def test_upgrade_to_0007_indexes_the_names_already_stored(admin_ws: Any) -> None:
    ws = admin_ws
    _people(ws, {"p-1": ("Zarghuna", "Mohmand Afridi"), "p-2": ("Józef", "Nowak"), "p-3": ("", "")})
    _back_to(ws, "0006")
    assert "0007" in migrate.upgrade(ws.engine)
    words = {t for t in _tokens(ws) if not t[1].startswith(records.SOUND_MARK)}
    assert words == {("p-1", "zarghuna"), ("p-1", "mohmand"), ("p-1", "afridi"), ("p-2", "jozef"), ("p-2", "nowak")}


def test_upgrade_to_0011_adds_the_sound_keys_so_other_spellings_find_old_records(admin_ws: Any) -> None:
    ws = admin_ws
    _people(ws, {"p-1": ("Muhammad", "Yousaf"), "p-2": ("Fatimah", "Siddiqui"), "p-3": ("", "")})
    _back_to(ws, "0010")
    assert {t for _p, t in _tokens(ws) if t.startswith(records.SOUND_MARK)} == set()
    assert _named(ws, "mohammad yusuf") == []  # before: spelt differently, not found
    assert "0011" in migrate.upgrade(ws.engine)
    assert {t for t in _tokens(ws) if t[1].startswith(records.SOUND_MARK)} == {("p-1", "~mhmd"), ("p-1", "~ysf"), ("p-2", "~ftm"), ("p-2", "~sdk")}
    assert _named(ws, "mohammad yusuf") == ["p-1"]
    assert _named(ws, "Fatima Sidiqi") == ["p-2"]
