# SPDX-License-Identifier: GPL-3.0-or-later
"""Foundation budgets (DESIGN §7): the encrypted store against plain SQLite; unlock time.

1. The same insert + aggregate workload through the same engine factory, once keyed (SQLCipher)
   and once without a key (the same library writing a plain SQLite file): budget ≤ 1.3×.
2. Unlock (Argon2id + opening the store + the unlock audit entry) at the production KDF cost,
   against the bare Argon2id derivation as the baseline.
"""

from __future__ import annotations

import random
import secrets
import tempfile
from pathlib import Path

from sqlalchemy import text

from bench.common import Result, median_time
from nap_desktop.data.db import make_engine, shrink_memory
from nap_desktop.security.crypto import KdfParams, derive_password_key

ROWS = 50_000
SEXES = ("female", "male", "transgender", "unknown")
UNITS = [f"P-{i:02d}" for i in range(30)]


def _rows(n: int, seed: int = 7) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    return [
        {
            "id": f"{i:08d}-{rnd.getrandbits(64):016x}",
            "unit": rnd.choice(UNITS),
            "month": f"2026-{rnd.randint(1, 12):02d}",
            "sex": rnd.choice(SEXES),
            "age": rnd.randint(1, 70),
            "note": "x" * rnd.randint(20, 200),
        }
        for i in range(n)
    ]


def _workload(path: Path, key: bytes | None, rows: list[dict[str, object]]) -> None:
    engine, holder = make_engine(path, key)
    try:
        with engine.begin() as c:
            c.execute(
                text(
                    "CREATE TABLE screenings (id TEXT PRIMARY KEY, unit TEXT, month TEXT, sex TEXT, age INT, note TEXT)"
                )
            )
            c.execute(text("CREATE INDEX ix_s_unit_month ON screenings(unit, month)"))
        for start in range(0, len(rows), 1000):  # many committed transactions, as capture does
            with engine.begin() as c:
                c.execute(
                    text("INSERT INTO screenings VALUES (:id, :unit, :month, :sex, :age, :note)"),
                    rows[start : start + 1000],
                )
        from sqlalchemy.orm import Session

        with Session(engine) as s:
            for _ in range(5):
                s.execute(
                    text(
                        "SELECT unit, month, sex, age < 18, count(*) FROM screenings GROUP BY unit, month, sex, age < 18"
                    )
                ).all()
                s.execute(text("SELECT count(*) FROM screenings WHERE unit = 'P-03' AND month = '2026-05'")).one()
                shrink_memory(s)
    finally:
        engine.dispose()
        holder.drop()


def bench_encrypted_vs_plain(tmp: Path) -> Result:
    rows = _rows(ROWS)
    key = secrets.token_bytes(32)
    counter = iter(range(100))

    def run(k: bytes | None) -> None:
        _workload(tmp / f"db{next(counter)}.db", k, rows)

    # Interleave the two so that machine noise hits both alike.
    plain: list[float] = []
    enc: list[float] = []
    for _ in range(3):
        plain.append(median_time(lambda: run(None), repeat=1))
        enc.append(median_time(lambda: run(key), repeat=1))
    return Result(
        f"encrypted store: insert {ROWS // 1000}k + aggregates",
        sorted(enc)[1],
        "same on plain SQLite",
        sorted(plain)[1],
        1.3,
    )


def bench_unlock(tmp: Path) -> Result:
    from nap_desktop.services.workspace import init_workspace, open_workspace

    pw = "Bench-Pass-2026!"
    path = tmp / "ws"
    init_workspace(path, site_kind="post", unit="P-TORKHAM", admin="admin", admin_password=pw, kdf=KdfParams())
    params = KdfParams()

    def unlock() -> None:
        open_workspace(path, "admin", pw).lock()

    unlock_s = median_time(unlock, repeat=5)
    kdf_s = median_time(lambda: derive_password_key(pw, b"0123456789abcdef", params), repeat=5)
    return Result("unlock (Argon2id + open store + audit)", unlock_s, "Argon2id derivation alone", kdf_s, None)


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="nap-bench-") as d:
        tmp = Path(d)
        return [bench_encrypted_vs_plain(tmp), bench_unlock(tmp)]
