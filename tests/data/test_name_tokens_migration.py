# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema 0007 (issue 4): the name search's word index is filled from the persons a workspace
already holds when it is upgraded, so their names are found at once."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import insert, select

from nap_desktop.data import migrate
from nap_desktop.data.record_models import Person, PersonIdentity, PersonNameToken
from nap_desktop.services.records import normalise_name


def test_upgrade_to_0007_indexes_the_names_already_stored(admin_ws: Any) -> None:
    ws = admin_ws
    people = {"p-1": ("Zarghuna", "Mohmand Afridi"), "p-2": ("Józef", "Nowak"), "p-3": ("", "")}
    with ws.sf.begin() as s:
        for pid, (given, family) in people.items():
            s.execute(insert(Person), [{"id": pid, "origin_unit": "C-PSH", "unit": "C-PSH"}])
            s.execute(insert(PersonIdentity), [{"person_id": pid, "given_name": given, "family_name": family, "name_key": normalise_name(given, family)}])
    cfg = migrate._config()  # noqa: SLF001 - the test steps the schema back, as an old workspace is
    with ws.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert migrate.current_revision(ws.engine) == "0006"
    assert "0007" in migrate.upgrade(ws.engine)
    with ws.sf() as s:
        got = set(s.execute(select(PersonNameToken.person_id, PersonNameToken.token)).tuples())
    assert got == {("p-1", "zarghuna"), ("p-1", "mohmand"), ("p-1", "afridi"), ("p-2", "jozef"), ("p-2", "nowak")}
