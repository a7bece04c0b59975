# SPDX-License-Identifier: GPL-3.0-or-later
"""Three sites for sync tests: HQ, the Peshawar circle and its Torkham post, each its own workspace.

Each site is signed in by its administrator; ``site.as_(role)`` gives the same unlocked store seen
by an account of another role (same engine and key), so a test can act as the officer, the circle
head or the HQ analyst without unlocking again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nap_desktop.services import sync, users
from nap_desktop.services.context import Workspace
from nap_desktop.services.workspace import init_workspace, open_workspace
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS
from tests.services.records_factories import pin_today

ROLE_PASSWORD = {"ana.hq": "analyst", "circ.psh": "head", "off.torkham": "officer"}


@dataclass
class Site:
    path: Path
    ws: Workspace
    views: dict[str, Workspace] = field(default_factory=dict)

    def as_(self, who: str) -> Workspace:
        if who == "admin":
            return self.ws
        if who not in self.views:
            view = copy.copy(self.ws)
            view.user = next(u for u in users.list_users(self.ws) if u.username == who)
            self.views[who] = view
        return self.views[who]

    def reopen(self) -> None:
        self.ws.lock()
        self.ws = open_workspace(self.path, ADMIN, ADMIN_PW)
        self.views = {}


RECOVERY_PASSPHRASE = "National-Recovery-2026!"


def make_site(root: Path, name: str, site_kind: str, unit: str, roles: dict[str, str], *, recovery: str | None = None) -> Site:
    path = root / name
    extra: dict[str, object] = (
        {"recovery_identity_out": root / "hq-recovery.age", "recovery_passphrase": RECOVERY_PASSPHRASE}
        if site_kind == "hq"
        else {"recovery_recipient": recovery}
    )
    init_workspace(path, site_kind=site_kind, unit=unit, admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF, **extra)  # type: ignore[arg-type]
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    for who, role in roles.items():
        users.add_user(ws, username=who, full_name=who, role=role, unit=unit, password=PASSWORDS[ROLE_PASSWORD[who]], case_access=role == "hq_analyst", must_change_password=False)
    return Site(path, ws)


@dataclass
class Network:
    hq: Site
    circle: Site
    post: Site
    root: Path

    def enrol(self, site: Site) -> None:
        req = sync.enrol_request(site.ws, self.root / "usb")
        resp = sync.enrol_approve(self.hq.ws, req.path, out_dir=self.root / "usb")
        sync.enrol_accept(site.ws, resp.path, expected_fingerprint=resp.root_fingerprint)

    def distribute_registry(self) -> None:
        """HQ's current registry reaches every enrolled site (as registry bundles)."""
        for path in sync.write_registry_bundles(self.hq.ws, self.root / "registry"):
            for site in (self.circle, self.post):
                if site.ws.wf.unit in path.name:
                    sync.import_bundle(site.ws, path)

    def close(self) -> None:
        for s in (self.hq, self.circle, self.post):
            s.ws.lock()


def build_network(root: Path) -> Network:
    hq = make_site(root, "hq", "hq", "HQ", {"ana.hq": "hq_analyst"})
    recipient = hq.ws.wf.recovery.recipient if hq.ws.wf.recovery else None
    return Network(
        hq=hq,
        circle=make_site(root, "circle", "circle", "C-PSH", {"circ.psh": "circle_head"}, recovery=recipient),
        post=make_site(root, "post", "post", "P-TORKHAM", {"off.torkham": "officer"}, recovery=recipient),
        root=root,
    )


@pytest.fixture
def network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    """HQ, circle C-PSH and post P-TORKHAM, not yet enrolled."""
    pin_today(monkeypatch)
    net = build_network(tmp_path)
    yield net
    net.close()


@pytest.fixture
def enrolled(network: Network) -> Network:
    """The same three sites, the circle and the post enrolled with HQ."""
    network.enrol(network.circle)
    network.enrol(network.post)
    network.distribute_registry()
    return network


@pytest.fixture(scope="module")
def enrolled_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Enrolled sites shared by a module's tests that leave HQ unchanged (refusals)."""
    mp = pytest.MonkeyPatch()
    pin_today(mp)
    net = build_network(tmp_path_factory.mktemp("net"))
    net.enrol(net.circle)
    net.enrol(net.post)
    net.distribute_registry()
    yield net
    net.close()
    mp.undo()
