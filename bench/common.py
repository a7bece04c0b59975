# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the benchmarks: timing, and one printed line per result."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    """One benchmark line: a measurement, its baseline from the same run, and the budget."""

    name: str
    value_s: float
    baseline_name: str
    baseline_s: float
    budget_ratio: float | None
    unit: str = "ms"  # "ms": value_s and baseline_s are seconds; "MiB": they are bytes

    @property
    def ratio(self) -> float:
        return self.value_s / self.baseline_s if self.baseline_s else float("inf")

    @property
    def within_budget(self) -> bool:
        return self.budget_ratio is None or self.ratio <= self.budget_ratio

    def line(self) -> str:
        budget = "" if self.budget_ratio is None else f"  budget ≤ {self.budget_ratio:.2f}×  {'OK' if self.within_budget else 'OVER'}"
        scale = 1000 if self.unit == "ms" else 1 / 1024**2
        return (
            f"{self.name:<44} {self.value_s * scale:9.1f} {self.unit:<3}   vs {self.baseline_name:<30} "
            f"{self.baseline_s * scale:9.1f} {self.unit:<3}   ratio {self.ratio:5.2f}×{budget}"
        )


def median_time(fn: Callable[[], object], *, repeat: int = 5, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cached_workspace(cache: Path, name: str, make: Callable[[Path], Path]) -> Path:
    """The workspace ``cache/name``, made once by ``make(folder)`` (``NAP_BENCH_CACHE``).

    It is made in a temporary folder beside it and marked complete only when done, so an
    interrupted generation is never reused.
    """
    path, done = cache / name, cache / f"{name}.complete"
    if not done.is_file():
        if path.exists():
            shutil.rmtree(path)
        cache.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="generating-", dir=cache))
        try:
            make(work).rename(path)
        finally:
            shutil.rmtree(work)
        done.write_text("generated\n")
    return path
