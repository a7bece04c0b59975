# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed models of the monthly returns (DESIGN §4 "monthly return", §5 approval chain).

A :class:`MonthlyReturn` is one unit's return for one calendar month: the compiled values (every
indicator of the framework plus the FIA case pipeline) as a JSON snapshot, its state in the
approval chain (draft → submitted → approved, or returned with a reason) and who did what when.
``version`` guards against two people changing the same return at once; the sync columns
(``origin_unit``, ``base_version``, ``content_hash``, ``seq``, ``updated_at``) follow DESIGN §4 so
that returns can travel in bundles. Comments on single values and the history of state changes
have their own tables. Free text (comments, reasons) stays inside the encrypted store: audit
entries only count it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nap_desktop.data.models import Base, new_id, utcnow


class MonthlyReturn(Base):
    """One unit's return for one month (``month`` is ``YYYY-MM``)."""

    __tablename__ = "monthly_returns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit: Mapped[str] = mapped_column(ForeignKey("units.code"))
    month: Mapped[str] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(12), default="draft")  # draft / submitted / approved / returned
    framework_version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: indicator values, case pipeline, record counts
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the snapshot's compiled values
    compiled_at: Mapped[datetime] = mapped_column(default=utcnow)
    compiled_by: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None] = mapped_column()
    submitted_by: Mapped[str | None] = mapped_column(String(32))
    first_submitted_at: Mapped[datetime | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column()
    approved_by: Mapped[str | None] = mapped_column(String(32))
    returned_at: Mapped[datetime | None] = mapped_column()
    returned_by: Mapped[str | None] = mapped_column(String(32))
    returned_reason: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Sync bookkeeping (DESIGN §4).
    origin_unit: Mapped[str] = mapped_column(String(24))
    base_version: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(32), default="")

    __table_args__ = (
        UniqueConstraint("unit", "month", name="uq_monthly_returns_unit_month"),
        Index("ix_monthly_returns_month_state", "month", "state"),
        Index("ix_monthly_returns_seq", "seq"),
    )


class ReturnComment(Base):
    """A comment on one value of a return (an indicator code, ``pipeline.<name>`` or ``return``)."""

    __tablename__ = "return_comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    return_id: Mapped[str] = mapped_column(ForeignKey("monthly_returns.id"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the return: the order they were written
    value_key: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnEvent(Base):
    """One step in a return's history: compiled, submitted, approved, sent back, unlocked."""

    __tablename__ = "return_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    return_id: Mapped[str] = mapped_column(ForeignKey("monthly_returns.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    return_version: Mapped[int] = mapped_column(Integer)
