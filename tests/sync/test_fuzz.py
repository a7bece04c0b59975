# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzzing the bundle reader: whatever bytes arrive, the answer is a clear typed error (or, for a
change that touches nothing that matters, the bundle itself) — never a crash, never a partial import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nap_desktop.errors import UserFacingError
from nap_desktop.services import sync
from nap_desktop.sync import registry
from nap_desktop.sync.bundle import Manifest
from nap_desktop.sync.minisign import Signature
from tests.services.records_factories import create
from tests.sync.conftest import Network
from tests.sync.helpers import row_counts

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
RECORD_TABLES = ("persons", "screenings", "sync_bundles", "remote_audit", "sync_conflicts")


@pytest.fixture(scope="module")
def original(enrolled_module: Network, tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, bytes, Path]:
    officer = enrolled_module.post.as_("off.torkham")
    create(officer, "screening", full=True)
    path = sync.export_changes(officer, tmp_path_factory.mktemp("orig")).path
    assert path is not None
    return enrolled_module, path.read_bytes(), tmp_path_factory.mktemp("fuzz")


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("cut"), st.integers(min_value=0), st.just(0)),
    st.tuples(st.just("insert"), st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
    st.tuples(st.just("delete"), st.integers(min_value=0), st.integers(min_value=1, max_value=64)),
)


def _apply(data: bytes, muts: list[tuple[str, int, int]]) -> bytes:
    b = bytearray(data)
    for kind, pos, val in muts:
        if not b:
            break
        pos %= len(b)
        if kind == "flip":
            b[pos] ^= val
        elif kind == "cut":
            del b[pos:]
        elif kind == "insert":
            b[pos:pos] = bytes([val])
        else:
            del b[pos : pos + val]
    return bytes(b)


@SETTINGS
@given(muts=st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_bundle_is_refused_cleanly_or_imports_whole(original: tuple[Network, bytes, Path], muts: list[tuple[str, int, int]]) -> None:
    net, data, folder = original
    hq = net.hq.as_("ana.hq")
    path = folder / "fuzzed.napb"
    path.write_bytes(_apply(data, muts))
    before = row_counts(hq)
    try:
        summary = sync.import_bundle(hq, path)
    except UserFacingError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        after = row_counts(hq)
        assert {t: after[t] for t in RECORD_TABLES} == {t: before[t] for t in RECORD_TABLES}
        return
    # Only bytes nobody reads (zip header dates, padding) were touched: the real bundle went in whole.
    assert summary.outcome in ("imported", "already imported")
    assert row_counts(hq)["screenings"] == 1


def _parse_all(raw: bytes) -> None:
    """Each parser returns its object or raises a typed error with a message; nothing else."""
    parsers = ((Manifest.parse, Manifest), (lambda r: registry.parse(r, trusted_root=None), registry.Registry), (Signature.parse, Signature))
    for parse, kind in parsers:
        try:
            result = parse(raw)
        except UserFacingError as exc:
            assert str(exc)
        else:
            assert isinstance(result, kind)


@SETTINGS
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=6), max_leaves=20))
def test_manifest_and_registry_parsers_never_crash(doc: object) -> None:
    raw = json.dumps(doc).encode()
    _parse_all(raw)


@SETTINGS
@given(raw=st.binary(max_size=400))
def test_parsers_take_any_bytes(raw: bytes) -> None:
    _parse_all(raw)
