"""config on PostgreSQL 18: a raise of effective_io_concurrency says what io_method makes of it (p17)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.config import ConfigOptions, Storage
from pgtune.config.units import GB


def test_a_raise_of_effective_io_concurrency_names_io_method_and_io_workers(conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 180000:
        pytest.skip("io_method is PostgreSQL 18's")
    report = api.config(conn, ConfigOptions(memory=16 * GB, cpus=8, storage=Storage.SSD))
    eic = next(p for p in report.proposals if p.setting == "effective_io_concurrency")
    assert eic.value == "200"
    said = [n for n in report.notes if "io_method" in n]
    assert len(said) == 1 and "io_workers = 3" in said[0] and "io_uring" in said[0], report.notes
    assert "AioIoCompletion" in said[0]
