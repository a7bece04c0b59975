# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m bench``: runs every benchmark and prints one line per result.

Exit status 1 if a result is over its budget, so the numbers are looked at, not assumed.
"""

from __future__ import annotations

import sys

from bench import bench_gui, bench_hq, bench_indicators, bench_records, bench_render, bench_returns, bench_store, bench_sync

MODULES = [bench_store, bench_records, bench_indicators, bench_returns, bench_gui, bench_sync, bench_render, bench_hq]


def main() -> int:
    over = 0
    for module in MODULES:
        for result in module.run():
            print(result.line(), flush=True)
            over += not result.within_budget
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
