# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync screen driven through real widgets across HQ, a circle and a post (tests/sync/conftest.py).

Each test acts as the people who would: the post's officer exports, HQ's analyst checks and
imports, the post takes HQ's receipt back; an analyst decides a conflict from the side-by-side
view; a new post joins through the first-run wizard, HQ's administrator approves it and the post
accepts HQ's answer after comparing the fingerprint; HQ revokes a stolen laptop.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QWizard

from nap_desktop.errors import Cancelled
from nap_desktop.security.permissions import Perm
from nap_desktop.services import records, sync, users
from nap_desktop.services.records import counts_by_type
from nap_desktop.ui import i18n
from nap_desktop.ui.first_run_wizard import PAGE_ENROL, PAGE_JOINED, PAGE_SITE, FirstRunWizard
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.sync_dialogs import AcceptDialog, ApproveDialog, ConflictDialog, ImportDialog, RevokeDialog, RootRotationDialog
from nap_desktop.ui.sync_models import MASK, BundleTableModel, CompareModel, ConflictTableModel, DeviceTableModel, ImportResultModel
from tests.conftest import FAST_KDF, PASSWORDS
from tests.services.records_factories import TODAY, create
from tests.sync.conftest import Network, enrolled, network  # noqa: F401 - fixtures
from tests.sync.helpers import row_counts
from tests.ui.helpers import close_all_windows, sync_view_for, click_box, wait_idle
from tests.ui.test_i18n import english_left, visible_texts


@pytest.fixture(autouse=True)
def _windows_close_before_the_sites_lock(network: Network, qapp: QApplication) -> Any:
    """Windows and their workers end while the sites' workspaces are still open."""
    yield
    close_all_windows(qapp)


view_for = sync_view_for


def cell(model: Any, row: int, key: str) -> str:
    return str(model.data(model.index(row, model.column_of(key))) or "")


def column(model: Any, key: str) -> list[str]:
    return [cell(model, r, key) for r in range(model.rowCount())]


def hold_writer() -> threading.Event:
    """Keeps the single writer thread busy until the returned event is set."""
    from nap_desktop.ui.workers import run_op

    release = threading.Event()
    run_op(None, lambda _op: release.wait(30)).start()
    return release


def record_threads(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Wraps ``sync.<name>`` to note the thread each call runs on."""
    seen: list[int] = []
    real = getattr(sync, name)

    def wrapper(*a: Any, **k: Any) -> Any:
        seen.append(threading.get_ident())
        return real(*a, **k)

    monkeypatch.setattr(sync, name, wrapper)
    return seen


def test_post_exports_hq_checks_then_imports_and_the_receipt_comes_back(
    qtbot: Any, enrolled: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown_boxes: list[Any]
) -> None:
    net = enrolled
    off = net.post.as_("off.torkham")
    create(off, "person")
    create(off, "person")
    gui = threading.get_ident()
    export_threads = record_threads(monkeypatch, "export_changes")
    import_threads = record_threads(monkeypatch, "import_each")

    post = view_for(qtbot, off)
    assert post.export_button.isVisible() and post.import_button.isVisible()
    assert not post.approve_button.isVisible() and not post.request_button.isVisible()
    assert post.info["enrolment"].text() == "Enrolled with HQ."
    assert post.info["pending"].text() == "2" and post.info["unacked"].text() == "0"
    usb = tmp_path / "usb-stick"
    usb.mkdir()
    post.export_to(usb)
    wait_idle(qtbot)
    files = sorted(usb.glob("*.napb"))
    assert len(files) == 1
    assert str(files[0]) in post.banner.text() and "2 changed records" in post.banner.text()
    assert export_threads and export_threads[0] != gui, "the export runs on a worker"
    assert post.info["pending"].text() == "0" and post.info["unacked"].text() == "1"
    assert column(post.bundle_model, "direction") == ["Sent"]
    assert column(post.bundle_model, "state") == ["Sent, awaiting HQ's receipt"]

    # HQ's analyst: a half-copied file beside the good one; the dry run changes nothing.
    half = usb / "half-copied.napb"
    half.write_bytes(files[0].read_bytes()[:300])
    ana = net.hq.as_("ana.hq")
    hq = view_for(qtbot, ana)
    assert hq.import_button.isVisible() and not hq.export_button.isVisible()
    before = row_counts(ana)
    dlg = hq.import_files([files[0], half])
    assert isinstance(dlg, ImportDialog)
    wait_idle(qtbot)
    assert import_threads and all(t != gui for t in import_threads), "the import runs on a worker"
    m = dlg.model
    good = column(m, "file").index(files[0].name)
    bad = column(m, "file").index(half.name)
    assert (cell(m, good, "result"), cell(m, good, "new"), cell(m, good, "conflicts"), cell(m, good, "rejected")) == ("Ready to import", "2", "0", "0")
    assert cell(m, bad, "result") == "Refused" and "incomplete" in cell(m, bad, "problems")
    assert dlg.totals_label.text().startswith("new: 2 · updated: 0 · identical: 0 · conflicts: 0 · rejected: 0 · files refused: 1")
    assert row_counts(ana) == before, "a dry run changes nothing"
    assert dlg.import_button.isEnabled()
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.applied and not dlg.import_button.isVisible()
    assert cell(m, good, "result") == "Imported" and cell(m, good, "new") == "2"
    assert counts_by_type(ana)["person"] == 2
    receipts = [r.receipt for _n, r in dlg.results if not isinstance(r, BaseException)]
    assert receipts[0] is not None and receipts[0].exists() and str(receipts[0].parent) in dlg.banner.text()
    assert "1 receipt(s) for the sending units were written to:" in dlg.banner.text()
    assert [b.objectName() for b in shown_boxes] == ["userErrorBox"], "the refused file is shown the one way"
    assert "incomplete" in shown_boxes[0].text()
    dlg.close()
    wait_idle(qtbot)
    assert column(hq.bundle_model, "state") == ["Imported"]
    assert column(hq.bundle_model, "summary") == ["new: 2 · updated: 0 · identical: 0 · conflicts: 0"]

    # The receipt travels back; the post marks its bundle acknowledged.
    back = post.import_files([receipts[0]])
    wait_idle(qtbot)
    assert cell(back.model, 0, "result") == "Receipt for 1 bundle(s)"
    qtbot.mouseClick(back.import_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    back.close()
    wait_idle(qtbot)
    assert post.info["unacked"].text() == "0"
    assert column(post.bundle_model, "state") == ["Acknowledged by HQ"]
    assert sync.sync_status(off).acked_seq == sync.sync_status(off).exported_seq


def test_a_circle_sees_a_held_bundle_and_forwards_its_posts_bundles(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    usb = enrolled.root / "usb"
    off, head = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh")
    for f in sync.write_registry_bundles(enrolled.hq.ws, usb):
        if "C-PSH" in f.name:
            sync.import_bundle(head, f)
    bundles = []
    for _ in range(3):
        create(off, "person")
        bundles.append(sync.export_changes(off, usb).path)
    circle = view_for(qtbot, head)
    dlg = circle.import_files([bundles[0], bundles[2]])  # the second one was lost on the way
    wait_idle(qtbot)
    assert cell(dlg.model, 0, "result") == "Ready to import"
    # The dry run judges each file after the ones before it: only the lost one is missing.
    assert cell(dlg.model, 1, "result") == "Held: change 2 has not arrived"
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert cell(dlg.model, 1, "result") == "Held: change 2 has not arrived"
    dlg.close()
    wait_idle(qtbot)
    assert circle.info["held"].text() == "From P-TORKHAM: change 2 has not arrived yet"
    assert sorted(column(circle.bundle_model, "state")) == ["Held", "Imported"]
    out = tmp_path / "to-hq"
    out.mkdir()
    circle.export_to(out)
    wait_idle(qtbot)
    names = sorted(p.name for p in out.glob("*.napb"))
    assert bundles[0].name in names and len(names) == 2, "the circle's own bundle and the post's imported one"
    assert "Forwarded unchanged, for HQ, from this circle's posts:" in circle.banner.text() and bundles[0].name in circle.banner.text()
    late = circle.import_files([bundles[1]])  # the lost bundle turns up: the held one follows
    wait_idle(qtbot)
    qtbot.mouseClick(late.import_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    late.close()
    wait_idle(qtbot)
    assert circle.info["held"].text() == "none" and column(circle.bundle_model, "state").count("Imported") == 3


def _conflict_at_hq(net: Network) -> str:
    """Post and circle both edit the same person from version 1; HQ gets the post's edit first."""
    usb = net.root / "usb"
    off, head, ana = net.post.as_("off.torkham"), net.circle.as_("circ.psh"), net.hq.as_("ana.hq")
    for f in sync.write_registry_bundles(net.hq.ws, usb):
        if "C-PSH" in f.name:
            sync.import_bundle(head, f)
    p = create(off, "person")
    b1 = sync.export_changes(off, usb).path
    sync.import_bundle(head, b1)
    sync.import_bundle(ana, b1)
    records.update_record(head, p.id, {"residence_district": "Mardan", "phone": "+92 300 7654321"})
    records.update_record(off, p.id, {"residence_district": "Khyber"})
    sync.import_bundle(ana, sync.export_changes(off, usb).path)
    c1 = sync.export_changes(head, usb).path
    assert sync.import_bundle(ana, c1).conflicts == 1
    return p.id


def test_a_conflict_is_decided_from_the_side_by_side_view(qtbot: Any, enrolled: Network, qtmodeltester: Any) -> None:
    pid = _conflict_at_hq(enrolled)
    hq_admin = enrolled.hq.ws
    users.add_user(hq_admin, username="ana.nocase", full_name="Analyst Two", role="hq_analyst", unit="HQ", password=PASSWORDS["analyst"], must_change_password=False)
    ana = enrolled.hq.as_("ana.nocase")
    assert not ana.can(Perm.PERSONAL_VIEW)
    view = view_for(qtbot, ana)
    assert view.tabs.isTabVisible(view.conflicts_tab) and view.tabs.tabText(view.conflicts_tab) == "Conflicts (1)"
    assert view.info["conflicts"].text() == "1"
    qtmodeltester.check(view.conflict_model)
    assert column(view.conflict_model, "unit") == ["C-PSH"] and column(view.conflict_model, "type") == ["Person"]
    assert not view.compare_button.isEnabled()
    view.conflict_table.selectRow(0)
    assert view.compare_button.isEnabled()
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    dlg = view.dialog
    assert isinstance(dlg, ConflictDialog)
    wait_idle(qtbot)
    m = dlg.model
    qtmodeltester.check(m)
    fields = column(m, "field")
    district = fields.index("District of residence")
    assert (cell(m, district, "local"), cell(m, district, "incoming")) == ("Khyber", "Mardan")
    assert m.data(m.index(district, 1), Qt.ItemDataRole.BackgroundRole) is not None, "a differing field is highlighted"
    same = fields.index("Sex")
    assert m.data(m.index(same, 1), Qt.ItemDataRole.BackgroundRole) is None
    phone = fields.index("Phone")
    assert cell(m, phone, "local") == cell(m, phone, "incoming") == MASK, "personal fields masked for this role"
    assert "hidden" in dlg.legend.text()
    qtbot.mouseClick(dlg.take_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.outcome == "incoming" and not dlg.take_button.isEnabled() and not dlg.keep_button.isEnabled()
    assert view.conflict_model.rowCount() == 0 and view.info["conflicts"].text() == "0"
    assert records.get_record(enrolled.hq.as_("ana.hq"), pid).values["residence_district"] == "Mardan"
    assert sync.list_conflicts(ana, state="resolved")[0].resolution == "incoming"


def test_a_late_record_of_an_approved_month_waits_in_the_queue_until_the_unlock(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    from nap_desktop.reports import returns
    from tests.sync.test_locked_months import _approved_at_circle

    off, head = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh")
    _approved_at_circle(enrolled, tmp_path)
    late = create(off, "screening", full=True)
    assert sync.import_bundle(head, sync.export_changes(off, tmp_path / "late").path).conflicts == 1  # type: ignore[arg-type]
    view = view_for(qtbot, head)
    assert column(view.conflict_model, "reason") == ["Month approved"] and column(view.conflict_model, "local") == ["none (new record)"]
    view.conflict_table.selectRow(0)
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    dlg = view.dialog
    assert isinstance(dlg, ConflictDialog)
    wait_idle(qtbot)
    assert "approved" in dlg.explain.text() and "unlock" in dlg.banner.text(), "why it waits, and what to unlock"
    assert dlg.keep_button.isHidden(), "a new record has no version here to keep"
    assert not dlg.take_button.isEnabled() and "unlocked" in dlg.take_button.toolTip()
    dlg.reject()

    returns.unlock_return(enrolled.circle.ws, "P-TORKHAM", "2026-06", "late records")
    view.conflict_table.selectRow(0)
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    dlg = view.dialog
    assert isinstance(dlg, ConflictDialog)
    wait_idle(qtbot)
    assert dlg.take_button.isEnabled()
    qtbot.mouseClick(dlg.take_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.outcome == "incoming" and records.get_record(head, late.id).values["screened_on"] == late.values["screened_on"]


def test_a_new_post_joins_through_the_wizard_hq_approves_and_the_post_accepts(qtbot: Any, network: Network, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    wiz = FirstRunWizard(tmp_path / "kharlachi", kdf=FAST_KDF)
    qtbot.addWidget(wiz)
    wiz.show()
    click_box(qtbot, wiz.start_page.join_radio)
    wiz.next()
    assert wiz.currentId() == PAGE_SITE and not wiz.site_page.kind_radios["hq"].isVisible(), "HQ does not enrol"
    wiz.site_page.unit_combo.set_value("P-KHARLACHI")
    wiz.next()
    page = wiz.admin_page
    page.user_edit.clear()
    qtbot.keyClicks(page.user_edit, "post.admin")
    qtbot.keyClicks(page.password_edit, "Kharlachi-Admin-26!")
    qtbot.keyClicks(page.confirm_edit, "Kharlachi-Admin-26!")
    wiz.next()
    qtbot.keyClicks(wiz.recovery_page.recipient_edit, network.hq.ws.wf.recovery.recipient)
    wiz.next()
    assert wiz.currentId() == PAGE_ENROL
    wiz.enrol_page.folder_edit.setText(str(usb))
    wiz.next()
    assert "Enrolment request to:" in wiz.create_page.summary.text()
    commit = wiz.button(QWizard.WizardButton.CommitButton)
    assert commit.isVisible() and commit.text() == "Create and write the request"
    with qtbot.waitSignal(wiz.workspace_created, timeout=30_000):
        qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert wiz.currentId() == PAGE_JOINED
    requests = sorted(usb.glob("*.napreq"))
    assert len(requests) == 1 and str(requests[0]) in wiz.joined_page.result_label.text()
    key_id = json.loads(requests[0].read_text())["request"]["key_id"]
    assert " ".join(key_id[i : i + 4] for i in range(0, 16, 4)) in wiz.joined_page.result_label.text()
    assert not wiz.button(QWizard.WizardButton.BackButton).isEnabled()
    qtbot.mouseClick(wiz.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    assert wiz.result() == QWizard.DialogCode.Accepted
    post_ws = wiz.workspace
    try:
        # HQ's administrator checks what the request asks for, then writes the answer beside it.
        hq = view_for(qtbot, network.hq.ws)
        assert hq.approve_button.isVisible() and not hq.import_button.isVisible()
        approve = hq.approve_request(requests[0])
        assert isinstance(approve, ApproveDialog)
        wait_idle(qtbot)
        assert "(P\u2060-\u2060KHARLACHI)" in approve.fields["unit"].text() and approve.fields["kind"].text() == "New device"
        assert approve.fields["key"].text().replace(" ", "") == key_id
        assert approve.folder_edit.text() == str(usb)
        qtbot.mouseClick(approve.approve_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot)
        answers = sorted(usb.glob("*.napresp"))
        assert len(answers) == 1 and str(answers[0]) in approve.banner.text()
        fingerprint = approve.result.root_fingerprint
        assert fingerprint in approve.banner.text()
        approve.close()
        wait_idle(qtbot)
        assert "P-KHARLACHI" in column(hq.device_model, "unit")

        # The post: the fingerprint HQ read out on the phone must be typed and match.
        post = view_for(qtbot, post_ws)
        assert post.info["enrolment"].text().startswith("Not enrolled")
        assert not post.export_button.isVisible(), "the administrator does not export records"
        accept = post.accept_answer(answers[0])
        assert isinstance(accept, AcceptDialog)
        wait_idle(qtbot)
        assert accept.file_fp.text() == fingerprint
        assert not accept.accept_button.isEnabled()
        qtbot.keyClicks(accept.typed, "AAAA BBBB CCCC DDDD")
        assert not accept.accept_button.isEnabled() and "Does not match" in accept.match_label.text()
        accept.typed.clear()
        qtbot.keyClicks(accept.typed, fingerprint.lower().replace(" ", ""))
        assert accept.accept_button.isEnabled() and accept.match_label.text() == "Matches."
        qtbot.mouseClick(accept.accept_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot)
        assert accept.result is not None and "Accepted" in accept.banner.text()
        accept.close()
        wait_idle(qtbot)
        assert post.info["enrolment"].text() == "Enrolled with HQ."
        assert post.info["root"].text() == fingerprint
        assert sync.sync_status(post_ws).enrolled
    finally:
        post_ws.lock()


def test_hq_revokes_a_stolen_laptop_and_its_bundles_are_refused(qtbot: Any, enrolled: Network, tmp_path: Path, qtmodeltester: Any) -> None:
    off = enrolled.post.as_("off.torkham")
    create(off, "person")
    bundle = sync.export_changes(off, enrolled.root / "usb").path
    admin = view_for(qtbot, enrolled.hq.ws)
    qtmodeltester.check(admin.device_model)
    assert admin.tabs.isTabVisible(admin.devices_tab) and not admin.tabs.isTabVisible(admin.conflicts_tab)
    units = column(admin.device_model, "unit")
    assert sorted(units) == ["C-PSH", "HQ", "P-TORKHAM"]
    admin.device_table.selectRow(units.index("HQ"))
    assert not admin.revoke_button.isEnabled(), "HQ's own key is not revoked here"
    admin.device_table.selectRow(units.index("P-TORKHAM"))
    assert admin.revoke_button.isEnabled()
    qtbot.mouseClick(admin.revoke_button, Qt.MouseButton.LeftButton)
    dlg = admin.dialog
    assert isinstance(dlg, RevokeDialog) and dlg.device.unit == "P-TORKHAM"
    assert not dlg.revoke_button.isEnabled(), "a reason is required"
    dlg.reason.setCurrentIndex(dlg.reason.findData("stolen"))
    assert dlg.revoke_button.isEnabled()
    version = sync.sync_status(enrolled.hq.ws).registry_version
    qtbot.mouseClick(dlg.revoke_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.registry_version == version + 1
    dlg.close()
    wait_idle(qtbot)
    post_row = column(admin.device_model, "unit").index("P-TORKHAM")
    assert "(revoked)" in cell(admin.device_model, post_row, "keys")
    out = tmp_path / "registry-bundles-out"
    out.mkdir()
    admin.write_registry(out)
    wait_idle(qtbot)
    written = sorted(p.name for p in out.glob("*.napb"))
    assert len(written) == 1 and "C-PSH" in written[0] and written[0] in admin.banner.text(), "none for the revoked post"

    hq = view_for(qtbot, enrolled.hq.as_("ana.hq"))
    imp = hq.import_files([bundle])
    wait_idle(qtbot)
    assert cell(imp.model, 0, "result") == "Refused" and "revoked" in cell(imp.model, 0, "problems")
    assert not imp.import_button.isEnabled()
    assert "Nothing here can be imported" in imp.banner.text()


def test_cancelling_an_export_leaves_no_file_and_nothing_marked_sent(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    from nap_desktop.services.demo_data import generate_demo_records

    off = enrolled.post.as_("off.torkham")
    for _p in generate_demo_records(off, 2500, seed=3, as_of=TODAY):
        pass
    pending = sync.sync_status(off).pending_records
    assert pending >= 2000, "enough records for the export to report progress"
    view = view_for(qtbot, off)
    out = tmp_path / "out"
    out.mkdir()
    op = view.export_to(out)
    op.cancel()
    wait_idle(qtbot, 60_000)
    assert isinstance(op.exception, Cancelled)
    assert list(out.iterdir()) == [], "no bundle, not even a partial one"
    assert view.banner.text() == "Export cancelled; nothing was written."
    assert sync.sync_status(off).pending_records == pending
    assert sync.list_bundles(off) == []


def test_cancelling_an_import_applies_nothing_and_it_can_be_run_again(qtbot: Any, enrolled: Network) -> None:
    off = enrolled.post.as_("off.torkham")
    create(off, "person")
    bundle = sync.export_changes(off, enrolled.root / "usb").path
    ana = enrolled.hq.as_("ana.hq")
    hq = view_for(qtbot, ana)
    dlg = ImportDialog(hq.ref, [bundle], parent=hq)
    dlg.show()
    release = hold_writer()  # the check waits in the writer queue until it is cancelled
    dlg.start().cancel()
    release.set()
    wait_idle(qtbot)
    assert dlg.banner.text() == "Check cancelled; nothing was imported." and not dlg.import_button.isEnabled()
    dlg.close()
    dlg = hq.import_files([bundle])
    wait_idle(qtbot)
    assert cell(dlg.model, 0, "new") == "1" and dlg.import_button.isEnabled()
    before = row_counts(ana)
    release = hold_writer()
    dlg.apply().cancel()
    release.set()
    wait_idle(qtbot)
    assert "Import cancelled" in dlg.banner.text() and not dlg.applied
    assert row_counts(ana) == before
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.applied and counts_by_type(ana)["person"] == 1


def test_actions_follow_site_and_role(qtbot: Any, enrolled: Network) -> None:
    hq_admin = view_for(qtbot, enrolled.hq.ws)
    assert [b.isVisible() for b in (hq_admin.approve_button, hq_admin.registry_button, hq_admin.import_button, hq_admin.export_button, hq_admin.request_button)] == [
        True, True, False, False, False,
    ]
    post_admin = view_for(qtbot, enrolled.post.ws)
    assert [b.isVisible() for b in (post_admin.request_button, post_admin.accept_button, post_admin.rotate_button, post_admin.export_button)] == [True, True, True, False]
    assert not post_admin.request_button.isEnabled() and post_admin.rotate_button.isEnabled(), "enrolled: rotate, not request again"
    assert post_admin.retention_button.isVisible()
    head = view_for(qtbot, enrolled.circle.as_("circ.psh"))
    assert head.export_button.isVisible() and head.import_button.isVisible() and head.tabs.isTabVisible(head.conflicts_tab)
    assert not head.approve_button.isVisible() and not head.tabs.isTabVisible(head.devices_tab)
    users.add_user(enrolled.circle.ws, username="aud.psh", full_name="Auditor", role="auditor", unit="C-PSH", password=PASSWORDS["auditor"], must_change_password=False)
    auditor = enrolled.circle.as_("aud.psh")
    main = MainWindow(SessionRef(auditor))
    qtbot.addWidget(main)
    assert main.nav.count() == 1, "no Sync page for a role without sync permissions"


def test_key_rotation_and_retention_from_the_screen(qtbot: Any, enrolled: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    view = view_for(qtbot, enrolled.post.ws)
    old_key = view.info["key"].text()
    monkeypatch.setattr(view, "ask", lambda _t, _x: True)
    view.rotate_keys(tmp_path)
    wait_idle(qtbot)
    assert len(list(tmp_path.glob("*.napreq"))) == 1 and "Enrolment request written to:" in view.banner.text()
    assert view.info["key"].text() != old_key
    view.change_retention(30)
    wait_idle(qtbot)
    assert view.info["retention"].text() == "30 days"
    assert sync.sync_status(enrolled.post.ws).retention_days == 30


def test_the_start_page_shows_pending_sync_and_opens_the_sync_screen(qtbot: Any, enrolled: Network) -> None:
    off = enrolled.post.as_("off.torkham")
    create(off, "person")
    main = MainWindow(SessionRef(off))
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot)
    text = main.start_page.info["sync"].text()
    assert text == "changes not yet sent: 1 · bundles awaiting HQ's receipt: 0 · open conflicts: 0"
    qtbot.mouseClick(main.start_page.sync_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert main.stack.currentWidget() is main.sync_view and main.sync_view.loaded
    assert main.current_type() is None and not main.new_action.isEnabled()


def test_every_sync_table_model_passes_the_model_tester(qtmodeltester: Any, enrolled: Network) -> None:
    from nap_desktop.domain.codelists import default_codelists
    from nap_desktop.errors import BundleDamaged

    off = enrolled.post.as_("off.torkham")
    create(off, "person")
    path = sync.export_changes(off, enrolled.root / "usb").path
    ana = enrolled.hq.as_("ana.hq")
    results = [(p.name, r) for p, r in sync.import_each(ana, [path], dry_run=True)] + [("bad.napb", BundleDamaged("The bundle file bad.napb is damaged."))]
    for model, rows in (
        (BundleTableModel(), sync.list_bundles(off)),
        (ConflictTableModel(), []),
        (DeviceTableModel(), sync.list_devices(enrolled.hq.ws)),
        (ImportResultModel(), results),
    ):
        qtmodeltester.check(model)
        model.set_rows(rows)
        qtmodeltester.check(model)
        assert model.rowCount() == len(rows)
        assert model.headerData(0, Qt.Orientation.Horizontal) and model.data(QModelIndex()) is None
    compare = CompareModel(default_codelists())
    qtmodeltester.check(compare)
    assert compare.rowCount() == 0


def test_the_sync_screen_in_urdu_is_right_to_left_with_no_english_left(qtbot: Any, enrolled: Network) -> None:
    _conflict_at_hq(enrolled)
    i18n.set_language("ur")
    assert QApplication.instance().layoutDirection() == Qt.LayoutDirection.RightToLeft
    data = {"C-PSH", "P-TORKHAM", "HQ"}
    bad: list[str] = []
    for ws in (enrolled.hq.as_("ana.hq"), enrolled.hq.ws, enrolled.post.as_("off.torkham"), enrolled.post.ws):
        view = view_for(qtbot, ws)
        assert view.layoutDirection() == Qt.LayoutDirection.RightToLeft
        for i in range(view.tabs.count()):
            if view.tabs.isTabVisible(i):
                view.tabs.setCurrentIndex(i)
                bad += english_left(visible_texts(view), data | _data_tokens(view))
    view = view_for(qtbot, enrolled.hq.as_("ana.hq"))
    assert view.conflict_model.rowCount() == 1, view.info["conflicts"].text()
    dlg = view.open_conflict(0)
    wait_idle(qtbot)
    bad += english_left(visible_texts(dlg), data | _data_tokens(dlg))
    assert sorted(set(bad)) == []
    assert i18n.missing_translations() == set()


def test_in_urdu_at_a_laptop_width_every_status_line_is_shown_whole(qtbot: Any, enrolled: Network) -> None:
    """The unit's name wraps onto a second line; that line is not drawn over the next row."""
    i18n.set_language("ur")
    view = view_for(qtbot, enrolled.post.ws)
    for width in (1000, 1280):
        view.resize(width, 700)
        qtbot.wait(50)
        unit = view.info["unit"]
        assert unit.heightForWidth(unit.width()) > unit.fontMetrics().lineSpacing() * 1.5, "the name takes two lines here"
        clipped = [k for k, label in view.info.items() if label.isVisible() and label.height() < label.heightForWidth(label.width())]
        assert clipped == [], f"cut off at {width} px: {clipped}"


def test_hq_sees_its_intake_inbox_and_why_a_bundle_was_refused(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    from nap_desktop.services import hq

    ana = enrolled.hq.as_("ana.hq")
    inbox = hq.intake_dir(ana)
    officer = enrolled.post.as_("off.torkham")
    create(officer, "person")
    made = sync.export_changes(officer, tmp_path / "made")
    assert made.path is not None
    data = bytearray(made.path.read_bytes())
    data[200] ^= 0xFF  # altered on the way: the container opens, the payload does not
    (inbox / made.path.name).write_bytes(bytes(data))
    (refused,) = hq.import_inbox(ana)
    assert refused.outcome == "rejected"
    (inbox / made.path.name).write_bytes(made.path.read_bytes())  # sent again, whole: waits for the importer
    view = view_for(qtbot, ana)
    label = view.info["inbox"]
    assert label.text() == "1 waiting · 0 being imported · 1 refused"
    assert label.toolTip().startswith("Latest refusals (the files are in inbox/intake/rejected):\n")
    assert refused.note in label.toolTip() and "damaged" in refused.note
    assert "inbox" not in view_for(qtbot, enrolled.hq.ws).info, "HQ's administrator does not import: no inbox row"
    assert "inbox" not in view_for(qtbot, officer).info


def test_a_wrapping_unit_line_never_splits_the_units_code(qtbot: Any, enrolled: Network) -> None:
    """A narrow window wraps the unit line between words, not inside "C-PSH" ("(C-" above "PSH)")."""
    from PySide6.QtCore import QTextBoundaryFinder

    view = view_for(qtbot, enrolled.post.ws)
    text = view.info["unit"].text()
    assert text.replace("\u2060", "").startswith("FIA Immigration, Torkham Border, Khyber (P-TORKHAM)"), text
    start = text.index("(")
    end = text.index(")", start)
    finder = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Line, text)
    breaks = []
    while (pos := finder.toNextBoundary()) != -1:
        breaks.append(pos)
    assert [b for b in breaks if start < b <= end] == [], "a line may break only outside the code"
    assert any(b <= start for b in breaks), "the name itself may still wrap"


def _data_tokens(root: Any) -> set[str]:
    """File names, ids and hex key ids on the screen: data, not UI text."""
    import re

    from PySide6.QtWidgets import QAbstractItemView, QLabel

    out: set[str] = set()
    texts = [w.text() for w in root.findChildren(QLabel)]
    for v in root.findChildren(QAbstractItemView):
        m = v.model()
        if m is None:
            continue
        texts += [str(m.data(m.index(r, c)) or "") for r in range(m.rowCount()) for c in range(m.columnCount())]
    for t in texts:
        out.update(
            re.findall(
                r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|\b[0-9a-f]{8}\b|\b[0-9A-F]{4}(?: [0-9A-F]{4}){3}\b|[\w.-]+\.(?:napb|napreq|napresp)|/[\w./-]+", t
            )
        )
    return out


def test_hq_changes_its_root_key_and_a_post_follows(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    admin = view_for(qtbot, enrolled.hq.ws)
    old = sync.sync_status(enrolled.hq.ws).root_fingerprint
    assert not admin.root_button.isHidden()  # on the Devices tab
    qtbot.mouseClick(admin.root_button, Qt.MouseButton.LeftButton)
    dlg = admin.dialog
    assert isinstance(dlg, RootRotationDialog)
    assert dlg.old_fp.text().strip("\u2066\u2069") == old and not dlg.new_fp.isVisibleTo(dlg)
    qtbot.mouseClick(dlg.rotate_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.result is not None and not dlg.rotate_button.isVisibleTo(dlg)
    new = dlg.result.new_fingerprint
    assert new != old and dlg.new_fp.text().strip("\u2066\u2069") == new and "Changed (key registry version" in dlg.banner.text()
    dlg.close()
    wait_idle(qtbot)
    assert admin.info["root"].text().strip("\u2066\u2069") == new, "the Status shows the new fingerprint"
    # The post follows the hand-over with the next registry bundle; its screen shows the new key.
    enrolled.distribute_registry()
    assert sync.sync_status(enrolled.post.ws).root_fingerprint == new
    # A field administrator has no such button.
    assert view_for(qtbot, enrolled.post.ws).root_button.isHidden()
