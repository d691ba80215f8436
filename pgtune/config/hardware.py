"""The server's hardware: memory (its cgroup limit where one applies), CPUs, and what its data lives on.

Read from the host only when pgtune runs on it, which pgtune checks by the
server's own backend: its process must be visible in /proc and the data
directory must exist here with the server's major version in PG_VERSION. The
limits are those of the *server's* cgroup (/proc/<backend pid>/cgroup), not
pgtune's — a container's limit, not the host's memory (the complaint of
timescaledb-tune issue 58). Anything not found here comes from the
``--memory``, ``--cpus`` and ``--storage`` flags, which always win.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .model import Storage

UNLIMITED = 1 << 60          # cgroup v1 writes a huge number for "no limit"
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Hardware:
    memory_bytes: int | None = None
    cpus: int | None = None
    storage: Storage | None = None
    wal_free_bytes: int | None = None      # free space where the data directory lives
    source: dict[str, str] = field(default_factory=dict)   # per item: 'flag', 'cgroup v2', 'host', …

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["storage"] = str(self.storage) if self.storage else None
        return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def on_host(pid: int, data_directory: str | None, major: int) -> bool:
    """Is the server's backend ``pid`` a process of this machine, running the data directory seen here?"""
    if not data_directory:
        return False
    cmd = _read(Path(f"/proc/{pid}/cmdline"))
    version = _read(Path(data_directory) / "PG_VERSION")
    return cmd is not None and "postgres" in cmd and version == str(major)


def _cgroup_dirs(pid: int) -> tuple[list[Path], list[Path], list[Path]]:
    """(v2 dirs, v1 memory dirs, v1 cpu dirs) of the process's cgroup, innermost first, up to the root."""
    v2: list[Path] = []
    mem1: list[Path] = []
    cpu1: list[Path] = []
    for line in (_read(Path(f"/proc/{pid}/cgroup")) or "").splitlines():
        hier, controllers, path = [*line.split(":", 2), "", ""][:3]
        rel = Path(path.lstrip("/"))
        chain = [rel, *rel.parents]
        if hier == "0" and controllers == "":
            v2 = [CGROUP_ROOT / p for p in chain]
        elif "memory" in controllers.split(","):
            mem1 = [CGROUP_ROOT / "memory" / p for p in chain]
        elif "cpu" in controllers.split(","):
            cpu1 = [CGROUP_ROOT / "cpu,cpuacct" / p for p in chain] + [CGROUP_ROOT / "cpu" / p for p in chain]
    return v2, mem1, cpu1


def cgroup_memory(pid: int) -> tuple[int | None, str]:
    """The tightest memory limit over the process's cgroup and its ancestors (v2 memory.max, v1 limit_in_bytes)."""
    v2, mem1, _ = _cgroup_dirs(pid)
    limits = [int(t) for d in v2 if (t := _read(d / "memory.max")) and t.isdigit()]
    if limits:
        return min(limits), "cgroup v2 memory.max"
    limits = [int(t) for d in mem1 if (t := _read(d / "memory.limit_in_bytes")) and t.isdigit()]
    limits = [n for n in limits if n < UNLIMITED]
    if limits:
        return min(limits), "cgroup v1 memory.limit_in_bytes"
    return None, ""


def cgroup_cpus(pid: int) -> float | None:
    """CPUs a cgroup quota allows (v2 cpu.max "quota period", v1 cfs_quota_us / cfs_period_us)."""
    v2, _, cpu1 = _cgroup_dirs(pid)
    quotas = []
    for d in v2:
        parts = (_read(d / "cpu.max") or "max").split()
        if parts[0].isdigit() and len(parts) > 1:
            quotas.append(int(parts[0]) / int(parts[1]))
    for d in cpu1:
        q, p = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
        if q and p and q.lstrip("-").isdigit() and int(q) > 0:
            quotas.append(int(q) / int(p))
    return min(quotas) if quotas else None


def host_memory() -> int | None:
    for line in (_read(Path("/proc/meminfo")) or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


SYS_ROOT = Path("/sys")
# Where a virtual disk's sysfs path, driver or SCSI vendor shows it: virtio-blk and virtio-scsi (KVM, most clouds),
# Xen's blkfront (vbd-…, xvd*), Hyper-V's VMBus storage, and the disks VMware, Hyper-V, QEMU and VirtualBox emulate.
VIRTUAL_PATHS = ("virtio", "vbd-", "VMBUS", "vmbus")
VIRTUAL_DRIVERS = ("virtio", "xen", "vbd", "hv_storvsc", "vmw_pvscsi")
VIRTUAL_VENDORS = ("0x1af4", "VMware", "Msft", "QEMU", "VBOX", "Xen", "Google", "Amazon")


@dataclass(frozen=True)
class Device:
    name: str
    rotational: bool | None
    virtual: str | None = None      # what shows it is a virtual disk (its flag then says nothing of the host)


def _virtual(real: Path) -> str | None:
    """What shows the resolved sysfs device ``real`` (or the disk of a partition) to be a virtual disk."""
    for part in real.parts:
        if part.startswith(VIRTUAL_PATHS):
            return f"its device path {real.as_posix()} is under {part}"
    for dev in (real / "device", real.parent / "device"):
        try:
            driver = (dev / "driver").resolve(strict=True).name
        except OSError:
            driver = ""
        if driver.startswith(VIRTUAL_DRIVERS):
            return f"its driver is {driver}"
        vendor = _read(dev / "vendor") or ""
        if vendor.startswith(VIRTUAL_VENDORS):
            return f"its vendor is {vendor}"
    return None


def block_device(directory: str, sys_root: Path = SYS_ROOT) -> Device | None:
    """The block device under ``directory``: its name, queue/rotational (its own or its disk's), and whether it is
    virtual (checked down a device-mapper's or md's slaves too). None: no block device (overlay, tmpfs, NFS)."""
    try:
        dev = os.stat(directory).st_dev
    except OSError:
        return None
    try:
        real = (sys_root / "dev" / "block" / f"{os.major(dev)}:{os.minor(dev)}").resolve(strict=True)
    except OSError:
        return None
    flag = next((f for d in (real, real.parent) if (f := _read(d / "queue" / "rotational")) in ("0", "1")), None)
    virtual = _virtual(real)
    slaves = real / "slaves"
    for under in (sorted(slaves.iterdir()) if slaves.is_dir() and virtual is None else []):
        if (why := _virtual(under.resolve())) is not None:
            virtual = f"it stands on {under.name}, whose {why.removeprefix('its ')}"
            break
    return Device(real.name, None if flag is None else flag == "1", virtual)


def storage_of(device: Device | None) -> tuple[Storage | None, str]:
    """The storage a device's flag shows, and where that came from. A virtual disk says rotational whatever the
    host's storage is (virtio-blk always does), so its 1 is no evidence; its 0 is the hypervisor's own word."""
    if device is None or device.rotational is None:
        return None, ""
    if device.rotational and device.virtual:
        return None, (f"not known: the data directory is on {device.name}, a virtual disk ({device.virtual}), whose "
                      "queue/rotational says 1 whatever storage the host has (most often SSD in a cloud); "
                      "--storage ssd|hdd|san sets it")
    return (Storage.HDD if device.rotational else Storage.SSD), (
        f"host (queue/rotational of the data directory's device {device.name})")


def detect(pid: int, data_directory: str | None, major: int) -> Hardware:
    """What the host says about the server, or nothing when pgtune does not run on the server's host."""
    if not on_host(pid, data_directory, major):
        return Hardware()
    assert data_directory is not None
    source: dict[str, str] = {}
    memory = host_memory()
    if memory:
        source["memory_bytes"] = "host /proc/meminfo"
    limit, where = cgroup_memory(pid)
    if limit is not None and (memory is None or limit < memory):
        memory, source["memory_bytes"] = limit, where
    try:
        cpus: float | None = len(os.sched_getaffinity(pid))
        source["cpus"] = "host (CPU affinity of the server)"
    except OSError:
        cpus = os.cpu_count()
        source["cpus"] = "host"
    quota = cgroup_cpus(pid)
    if quota is not None and (cpus is None or quota < cpus):
        cpus, source["cpus"] = quota, "cgroup CPU quota"
    storage, said = storage_of(block_device(data_directory))
    if said:
        source["storage"] = said
    try:
        st = os.statvfs(data_directory)
        free: int | None = st.f_bavail * st.f_frsize
        source["wal_free_bytes"] = "host (free space of the data directory's file system)"
    except OSError:
        free = None
    return Hardware(memory, max(1, math.floor(cpus)) if cpus else None, storage, free, source)


def merge(found: Hardware, memory: int | None = None, cpus: int | None = None,
          storage: Storage | None = None) -> Hardware:
    """The flags over what the host said."""
    source = dict(found.source)
    for key, given in (("memory_bytes", memory), ("cpus", cpus), ("storage", storage)):
        if given is not None:
            source[key] = "flag"
    return Hardware(memory if memory is not None else found.memory_bytes,
                    cpus if cpus is not None else found.cpus,
                    storage if storage is not None else found.storage, found.wal_free_bytes, source)
