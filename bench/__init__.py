# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks: each prints its result beside a baseline measured in the same run, as a ratio."""
