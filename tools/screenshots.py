# SPDX-License-Identifier: GPL-3.0-or-later
"""Renders the main screens in English and Urdu into ``docs/screenshots/``.

Run it under a real X server (Xvfb is enough)::

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 .venv/bin/python tools/screenshots.py [--out docs/screenshots] [--records 3000]

It builds a throw-away demo workspace with sample records in a temporary folder, opens each
screen in a real window (first run, sign-in, start page, a list with data, the dashboard, the
indicator explorer with a drill-down, a screening form, an awareness-session form with its
participants matrix, a case with its timeline) and saves
``<lang>-<screen>.png``. No real data is ever involved.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCREENS = (
    "first-run", "first-run-unit", "first-run-admin", "login", "start", "list", "screening-form", "session-form", "case-form", "case-links", "dashboard", "explorer",
)


SYNC_SCREENS = ("sync", "sync-conflict")
SYNC_PASSWORD = "Border-Sync-Peshawar-26!"
SYNC_HEAD = "circ.psh"


def _build_sync_sites(folder: Path) -> Path:
    """HQ, the Peshawar circle and its Torkham post, enrolled, with bundles sent both ways: the
    circle has imported two of the post's bundles, holds a third (one is missing), has a conflict
    and has sent its own bundle to HQ (acknowledged) and another one (awaiting HQ's receipt).
    Returns the circle's folder (its head signs in with :data:`SYNC_PASSWORD`)."""
    from nap_desktop.services import records, sync
    from nap_desktop.services.users import add_user
    from nap_desktop.services.workspace import init_workspace, open_workspace

    usb = folder / "usb"

    def site(name: str, kind: str, unit: str, **extra: Any) -> Any:
        init_workspace(folder / name, site_kind=kind, unit=unit, admin="admin", admin_password=SYNC_PASSWORD, **extra)
        return open_workspace(folder / name, "admin", SYNC_PASSWORD)

    hq = site("hq", "hq", "HQ", recovery_identity_out=folder / "hq-recovery.age", recovery_passphrase=SYNC_PASSWORD)
    recipient = hq.wf.recovery.recipient
    circle = site("circle", "circle", "C-PSH", recovery_recipient=recipient)
    post = site("post", "post", "P-TORKHAM", recovery_recipient=recipient)
    try:
        add_user(hq, username="analyst", full_name="HQ Analyst", role="hq_analyst", unit="HQ", password=SYNC_PASSWORD, must_change_password=False)
        add_user(circle, username=SYNC_HEAD, full_name="Circle Head", role="circle_head", unit="C-PSH", password=SYNC_PASSWORD, must_change_password=False)
        add_user(post, username="officer", full_name="Post Officer", role="officer", unit="P-TORKHAM", password=SYNC_PASSWORD, must_change_password=False)
        for ws in (circle, post):
            resp = sync.enrol_approve(hq, sync.enrol_request(ws, usb).path, out_dir=usb)
            sync.enrol_accept(ws, resp.path, expected_fingerprint=resp.root_fingerprint)
        for f in sync.write_registry_bundles(hq, usb):
            if "C-PSH" in f.name:
                sync.import_bundle(circle, f)
        circle.lock()
        post.lock()
        hq.lock()
        head = open_workspace(folder / "circle", SYNC_HEAD, SYNC_PASSWORD)
        off = open_workspace(folder / "post", "officer", SYNC_PASSWORD)
        ana = open_workspace(folder / "hq", "analyst", SYNC_PASSWORD)
        try:
            person = records.create_record(
                off, "person", {"given_name": "Ayesha", "family_name": "Bibi", "sex": "female", "age_years": 24, "citizenship": "pk", "residence_province": "kp", "residence_district": "Peshawar"}
            )
            sync.import_bundle(head, sync.export_changes(off, usb).path)
            records.update_record(head, person.id, {"residence_district": "Mardan", "phone": "+92 300 7654321"})
            records.update_record(off, person.id, {"residence_district": "Khyber", "marital_status": "married"})
            sync.import_bundle(head, sync.export_changes(off, usb).path)  # the conflict
            records.create_record(off, "person", {"given_name": "Gul", "family_name": "Khan", "sex": "male", "age_years": 31, "citizenship": "af"})
            sync.export_changes(off, usb / "lost")  # never reaches the circle
            records.create_record(off, "person", {"given_name": "Noor", "family_name": "Jan", "sex": "female", "age_years": 19, "citizenship": "pk"})
            sync.import_bundle(head, sync.export_changes(off, usb).path)  # held: the previous one is missing
            records.create_record(head, "person", {"given_name": "Sana", "family_name": "Iqbal", "sex": "female", "age_years": 27, "citizenship": "pk"})
            to_hq = usb / "to-hq"
            first = sync.export_changes(head, to_hq)
            for r in sync.import_files(ana, [first.path, *first.relayed]):
                if not isinstance(r, Exception) and r.receipt is not None and r.source_unit == "C-PSH":
                    sync.import_bundle(head, r.receipt)
            records.create_record(head, "person", {"given_name": "Bilal", "family_name": "Ahmed", "sex": "male", "age_years": 35, "citizenship": "pk"})
            sync.export_changes(head, to_hq)  # awaiting HQ's receipt
            records.create_record(head, "person", {"given_name": "Zara", "family_name": "Shah", "sex": "female", "age_years": 22, "citizenship": "pk"})
        finally:
            for ws in (head, off, ana):
                ws.lock()
    finally:
        for ws in (hq, circle, post):
            if not ws.locked:
                ws.lock()
    return folder / "circle"


def render_sync(lang: str, shooter: Shooter, circle: Path) -> None:
    """The circle head's sync screen and its conflict, side by side."""
    from nap_desktop.services.workspace import open_workspace
    from nap_desktop.ui import i18n
    from nap_desktop.ui.main_window import MainWindow
    from nap_desktop.ui.session import SessionRef

    i18n.set_language(lang)
    ws = open_workspace(circle, SYNC_HEAD, SYNC_PASSWORD)
    try:
        main = MainWindow(SessionRef(ws))
        main.resize(1340, 800)
        main.show()
        shooter.settle(lambda: main.start_page.loaded)
        view = main.show_sync()
        shooter.settle(lambda: view.loaded)
        shooter.shoot(main, f"{lang}-sync")
        view.tabs.setCurrentIndex(view.conflicts_tab)
        dlg = view.open_conflict(0)
        dlg.resize(960, 640)
        shooter.settle(lambda: dlg.detail is not None)
        shooter.shoot(dlg, f"{lang}-sync-conflict")
        dlg.close()
        main._quitting = True  # noqa: SLF001
        main.close()
        main.deleteLater()
    finally:
        ws.lock()


def _sample_records(ws: Any) -> dict[str, str]:
    """A few hand-made records whose forms are shown (ids by name)."""
    from nap_desktop.domain.validation import HTCDS_CONSENT
    from nap_desktop.services.records import create_record

    today = date.today()
    ids: dict[str, str] = {}
    person = create_record(
        ws,
        "person",
        {
            "given_name": "Ayesha",
            "family_name": "Bibi",
            "father_or_husband_name": "Gul Khan",
            "cnic": "17301-1234567-2",
            "sex": "female",
            "age_years": 16,
            "age_estimated": True,
            "citizenship": "pk",
            "residence_province": "kp",
            "residence_district": "Khyber",
            "marital_status": "single",
            "migration_status": "deportee",
        },
    )
    ids["person"] = person.id
    consent = {c: "yes" for c in HTCDS_CONSENT} | {"guardian_present": "yes", "interpreter_used": "no"}
    screening = create_record(
        ws,
        "screening",
        {
            "person_id": person.id,
            "screened_on": (today - timedelta(days=2)).isoformat(),
            "location_type": "land_border",
            "checkpoint_type": "land_crossing",
            "interpreter_language": "ps",
            "consent": consent,
            "ilo_indicators": {"deception": "yes", "retention_of_identity_documents": "yes", "isolation": "unknown"},
            "palermo_act": ["recruitment", "transportation"],
            "palermo_purpose": ["forced_labour_or_services"],
            "exploitation_types": ["domestic_servitude"],
            "identification_status": "presumed_victim",
            "decided_by": "fia",
            "immediate_needs": ["shelter", "medical"],
            "narrative": "Recruited for domestic work abroad; passport kept by the agent.",
        },
    )
    ids["screening"] = screening.id
    ids["session"] = create_record(
        ws,
        "awareness_session",
        {
            "held_on": (today - timedelta(days=5)).isoformat(),
            "district": "Khyber",
            "venue_type": "college_university",
            "audience_groups": ["students", "youth"],
            "participants": {"female": {"adult": 34, "child": 12}, "male": {"adult": 41, "child": 9}, "transgender": {"adult": 2}},
            "topics": ["human_trafficking", "safe_legal_migration", "helpline_reporting"],
            "language": "ps",
            "materials_distributed": 90,
            "survey_respondents": 40,
            "survey_named_forms": 31,
            "survey_knew_what_to_do": 27,
            "survey_knew_where_to_report": 25,
        },
    ).id
    suspect_person = create_record(ws, "person", {"given_name": "Rahim", "family_name": "Shinwari", "sex": "male", "age_years": 41, "citizenship": "pk"})
    ids["case"] = create_record(
        ws,
        "case",
        {
            "fir_number": "FIR 112/2025",
            "registered_on": (today - timedelta(days=200)).isoformat(),
            "case_type": "tip_transnational",
            "offences": ["ptpa_2018_s3"],
            "events": [
                {"event": "complaint_received", "on_date": (today - timedelta(days=210)).isoformat()},
                {"event": "case_registered", "on_date": (today - timedelta(days=200)).isoformat()},
                {"event": "arrest", "on_date": (today - timedelta(days=190)).isoformat()},
                {"event": "challan_submitted", "on_date": (today - timedelta(days=120)).isoformat()},
                {"event": "trial_started", "on_date": (today - timedelta(days=60)).isoformat()},
            ],
            "parties": [
                {"person_id": person.id, "party_role": "victim"},
                {"person_id": suspect_person.id, "party_role": "suspect"},
            ],
        },
    ).id
    return ids


def _build_workspace(folder: Path, records: int) -> tuple[Path, dict[str, str]]:
    from nap_desktop.services.demo import DEMO_PASSWORD, DEMO_USER, ensure_demo_workspace
    from nap_desktop.services.workspace import unlocked

    path = ensure_demo_workspace(folder / "demo")
    with unlocked(path, DEMO_USER, DEMO_PASSWORD) as ws:
        try:
            from nap_desktop.services.demo_data import generate_demo_records
        except ImportError:
            generate_demo_records = None
        if generate_demo_records is not None and records:
            for _p in generate_demo_records(ws, records, seed=7):
                pass
        ids = _sample_records(ws)
    return path, ids


class Shooter:
    def __init__(self, out: Path) -> None:
        from PySide6.QtWidgets import QApplication

        self.app = QApplication.instance()
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.saved: list[Path] = []

    def settle(self, until: Callable[[], bool] | None = None, timeout: float = 20.0) -> None:
        from nap_desktop.ui import workers

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.app.processEvents()
            if not workers.busy() and (until is None or until()):
                break
            time.sleep(0.02)
        for _ in range(5):
            self.app.processEvents()
            time.sleep(0.02)

    def shoot(self, widget: Any, name: str) -> Path:
        widget.show()
        widget.raise_()
        self.settle()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        self.saved.append(path)
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path


def render(lang: str, shooter: Shooter, path: Path, ids: dict[str, str], scratch: Path) -> None:
    from PySide6.QtWidgets import QWizard

    from nap_desktop.services.demo import DEMO_PASSWORD, DEMO_USER
    from nap_desktop.services.workspace import open_workspace
    from nap_desktop.ui import i18n
    from nap_desktop.ui.first_run_wizard import FirstRunWizard
    from nap_desktop.ui.login_dialog import LoginDialog
    from nap_desktop.ui.main_window import MainWindow
    from nap_desktop.ui.session import SessionRef

    i18n.set_language(lang)
    p = f"{lang}-"

    wiz = FirstRunWizard(scratch / f"new-{lang}")
    wiz.resize(760, 560)
    shooter.shoot(wiz, p + "first-run")
    wiz.next()  # site and unit
    wiz.site_page.kind_radios["post"].setChecked(True)
    wiz.site_page.unit_combo.set_value("P-TORKHAM")
    shooter.shoot(wiz, p + "first-run-unit")
    wiz.next()
    wiz.admin_page.name_edit.setText("Station Administrator" if lang == "en" else "اسٹیشن ایڈمنسٹریٹر")
    wiz.admin_page.password_edit.setText("torkham2026")
    shooter.shoot(wiz, p + "first-run-admin")
    wiz.hide()
    wiz.deleteLater()

    login = LoginDialog(path, user=DEMO_USER)
    login.password_edit.setText("x" * 12)
    shooter.shoot(login, p + "login")
    login.hide()
    login.deleteLater()

    ws = open_workspace(path, DEMO_USER, DEMO_PASSWORD)
    try:
        ref = SessionRef(ws)
        main = MainWindow(ref)
        main.resize(1340, 740)
        main.show()
        shooter.settle(lambda: main.start_page.loaded)
        shooter.shoot(main, p + "start")
        view = main.show_type("screening")
        shooter.settle(lambda: view.model.total is not None and not view.model.loading)
        shooter.shoot(main, p + "list")

        def form(type_name: str, rid: str, name: str, tab: int = 0, scroll_to: str | None = None) -> None:
            f = main.open_record(type_name, rid)
            f.resize(980, 730)
            shooter.settle(lambda: f.dto is not None)
            f.tabs.setCurrentIndex(tab)
            if scroll_to:
                area = f.tabs.widget(0)
                area.ensureWidgetVisible(f.editors[scroll_to], 0, 200)  # type: ignore[attr-defined]
            shooter.shoot(f, p + name)
            f._discard = True  # noqa: SLF001
            f.close()

        dash = main.show_dashboard()
        shooter.settle(lambda: dash is not None and dash.loaded, timeout=120)
        shooter.shoot(main, p + "dashboard")
        explorer = main.show_indicator("1.3.a")
        shooter.settle(lambda: explorer.value is not None, timeout=120)
        explorer.dim_combo.setCurrentIndex(explorer.dim_combo.findData("identification_status"))
        top = max(range(explorer.proxy.rowCount()), key=lambda r: explorer.proxy.index(r, 1).data(explorer.proxy.sortRole()) or 0)
        explorer.table.setCurrentIndex(explorer.proxy.index(top, 0))
        explorer.drill()
        shooter.settle(lambda: explorer.drill_result is not None, timeout=120)
        shooter.shoot(main, p + "explorer")
        form("screening", ids["screening"], "screening-form")
        form("awareness_session", ids["session"], "session-form", scroll_to="participants")
        form("case", ids["case"], "case-form", scroll_to="events")
        form("case", ids["case"], "case-links", tab=2)
        main._quitting = True  # noqa: SLF001
        main.close()
        main.deleteLater()
    finally:
        ws.lock()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--records", type=int, default=3000, help="demo records to generate (if the generator is installed)")
    ap.add_argument("--lang", choices=("en", "ur"), action="append", help="only this language (repeatable)")
    ap.add_argument("--sync-only", action="store_true", help="only the sync screens (faster)")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        print("error: set DISPLAY (e.g. run Xvfb :99 and DISPLAY=:99)", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["nap-screenshots"])
    app.setApplicationName("NAP Desktop")
    from nap_desktop.ui.qt_compat import GuiThreadGarbageCollector

    collector = GuiThreadGarbageCollector(app)
    with tempfile.TemporaryDirectory(prefix="nap-shots-") as tmp:
        scratch = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
        shooter = Shooter(Path(args.out))
        if not args.sync_only:
            path, ids = _build_workspace(scratch, args.records)
            for lang in args.lang or ["en", "ur"]:
                render(lang, shooter, path, ids, scratch)
        circle = _build_sync_sites(scratch / "sync")
        for lang in args.lang or ["en", "ur"]:
            render_sync(lang, shooter, circle)
    collector.stop()
    screens = SYNC_SCREENS if args.sync_only else SCREENS + SYNC_SCREENS
    missing = [f"{lang}-{name}" for lang in args.lang or ["en", "ur"] for name in screens if not (Path(args.out) / f"{lang}-{name}.png").exists()]
    print(f"{len(shooter.saved)} screenshots in {args.out}")
    if missing:
        print(f"error: not rendered: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
