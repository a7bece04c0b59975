# SPDX-License-Identifier: GPL-3.0-or-later
"""Alembic environment: migrations always run on a connection handed in by ``data/migrate.py``."""

from __future__ import annotations

from alembic import context

from nap_desktop.data.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI and services always pass a connection
    raise RuntimeError("run migrations through nap_desktop.data.migrate, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
