# SPDX-License-Identifier: GPL-3.0-or-later
"""The name search on an HQ store in PostgreSQL (issue 4): persons imported from a post are found
by the beginnings of their names in any order, accents and case ignored, as on SQLCipher (the
word index compares byte by byte there too, whatever the database's language order)."""

from __future__ import annotations

from pathlib import Path

from nap_desktop.services import records, sync
from nap_desktop.services.records import RecordFilter
from tests.conftest import ADMIN
from tests.hq.netutil import ANALYST, make_net, view
from tests.services.records_factories import create


def test_imported_persons_are_found_by_name_on_postgres(tmp_path: Path, pg_url: str) -> None:
    net = make_net(tmp_path, 1, db_url=pg_url)
    try:
        officer = net.officers[0]
        zarmina = create(officer, "person", values={"given_name": "Zarmína", "family_name": "Pgkhan"}).id
        zahid = create(officer, "person", values={"given_name": "Zahid", "family_name": "Pg_khan-Afridi"}).id
        sid = create(officer, "screening", refs={"person_id": zarmina}).id
        exported = sync.export_changes(officer, tmp_path / "usb")
        admin = net.hq_ws(ADMIN)
        hq = view(admin, ANALYST)
        try:
            assert sync.import_bundle(hq, exported.path).outcome == "imported"

            def found(text: str, type_name: str = "person") -> set[str]:
                return {r.id for r in records.list_records(hq, type_name, RecordFilter(text=text), limit=5000).rows}

            assert found("pgkh ZARMINA") == {zarmina}
            assert found("za") == {zarmina, zahid}
            assert found("pg_k") == {zahid}  # "_" is a letter of the word here, not a wildcard
            assert found("afr zah") == {zahid}
            assert found("armina") == set()
            assert found("zarm", "screening") == {sid}
            assert records.count_records(hq, "person", RecordFilter(text="za")) == 2
        finally:
            admin.lock()
    finally:
        net.close()
