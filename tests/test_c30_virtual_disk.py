"""A virtual disk's queue/rotational is no evidence of the host's storage (p28).

virtio-blk (this machine's /dev/vda), Xen's blkfront and the SCSI disks VMware,
Hyper-V and QEMU emulate say rotational = 1 whatever storage the host has, so
`pgtune config` called a cloud VM's data directory "hdd" and proposed
effective_io_concurrency 2, a single rotating disk's, beside random_page_cost
1.1. A virtual disk's 1 is now unknown storage, said in a note naming the
device and --storage; a physical disk's flag is trusted as before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli
from pgtune.config import Storage, hardware

PCI = "devices/pci0000:00"


def _sysfs(root: Path, data: Path, device: str, rotational: str, *, vendor: str | None = None,
           driver: str | None = None, slaves: dict[str, str] | None = None) -> Path:
    """A sysfs under ``root`` where ``data``'s device number resolves to ``device`` (a path under root)."""
    dev = os.stat(data).st_dev
    real = root / device
    (real / "queue").mkdir(parents=True)
    (real / "queue" / "rotational").write_text(rotational + "\n")
    if vendor is not None or driver is not None:
        (real / "device").mkdir()
        if vendor is not None:
            (real / "device" / "vendor").write_text(vendor + "\n")
        if driver is not None:
            target = root / "bus" / "drivers" / driver
            target.mkdir(parents=True)
            (real / "device" / "driver").symlink_to(target)
    for name, under in (slaves or {}).items():
        (root / under / "queue").mkdir(parents=True, exist_ok=True)
        (real / "slaves").mkdir(exist_ok=True)
        (real / "slaves" / name).symlink_to(root / under)
    link = root / "dev" / "block" / f"{os.major(dev)}:{os.minor(dev)}"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    return root


CASES = {
    "virtio-blk": (f"{PCI}/0000:00:02.0/virtio1/block/vda", "1", {}, None, "vda"),
    "xen blkfront": ("devices/vbd-51712/block/xvda", "1", {}, None, "xvda"),
    "vmware scsi": (f"{PCI}/0000:00:10.0/host0/target0:0:0/0:0:0:0/block/sda", "1",
                    {"vendor": "VMware  ", "driver": "sd"}, None, "sda"),
    "hyper-v scsi": ("devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/f8b3781b/host0/block/sda", "1",
                     {"vendor": "Msft    "}, None, "sda"),
    "physical sata hdd": (f"{PCI}/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", "1",
                          {"vendor": "ATA     ", "driver": "sd"}, Storage.HDD, None),
    "physical nvme": (f"{PCI}/0000:01:00.0/nvme/nvme0/nvme0n1", "0", {}, Storage.SSD, None),
    "virtio saying ssd": (f"{PCI}/0000:00:02.0/virtio1/block/vda", "0", {}, Storage.SSD, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_virtual_disks_rotational_flag_is_not_taken_for_a_rotating_disk(tmp_path: Path, case: str) -> None:
    device, flag, extra, storage, named = CASES[case]
    data = tmp_path / "data"
    data.mkdir()
    root = _sysfs(tmp_path / "sys", data, device, flag, **extra)
    found, said = hardware.storage_of(hardware.block_device(str(data), root))
    assert found == storage, (case, said)
    if named:
        assert said.startswith("not known") and named in said and "--storage" in said, said
    else:
        assert said.startswith("host (queue/rotational") and "not known" not in said


def test_lvm_on_a_virtio_disk_is_virtual_too(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    root = _sysfs(tmp_path / "sys", data, "devices/virtual/block/dm-0", "1",
                  slaves={"vda2": f"{PCI}/0000:00:02.0/virtio1/block/vda/vda2"})
    found, said = hardware.storage_of(hardware.block_device(str(data), root))
    assert found is None and "dm-0" in said and "vda2" in said, said
    plain = _sysfs(tmp_path / "sys2", data, "devices/virtual/block/dm-0", "1",
                   slaves={"sda2": f"{PCI}/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2"})
    assert hardware.storage_of(hardware.block_device(str(data), plain))[0] == Storage.HDD


def _virtio_device(conn: psycopg.Connection[Any]) -> str | None:
    """The name of the data directory's device when it is a virtio disk saying rotational = 1 (read here apart
    from pgtune's code), else None."""
    row = conn.execute("SELECT current_setting('data_directory')").fetchone()
    assert row is not None
    dev = os.stat(row[0]).st_dev
    real = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}").resolve()
    flags = [f.read_text().strip() for f in (real / "queue" / "rotational", real.parent / "queue" / "rotational")
             if f.exists()]
    return real.name if "virtio" in str(real) and flags[:1] == ["1"] else None


def test_config_on_this_machines_virtio_disk_proposes_no_hdd_setting(db: str, conn: psycopg.Connection[Any]) -> None:
    if os.environ.get("PGTUNE_TEST_DSN"):
        pytest.skip("the test server may not run on this host")
    device = _virtio_device(conn)
    if device is None:
        pytest.skip("the test cluster's data directory is not on a virtio disk saying rotational = 1")
    row = conn.execute("SELECT current_setting('effective_io_concurrency')::int").fetchone()
    assert row is not None
    out = CliRunner().invoke(cli, ["config", "--dsn", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    eic = [p for p in report["proposals"] if p["setting"] == "effective_io_concurrency"]
    assert eic == [], eic                                   # main on PG15 (default 1): 2, an HDD's
    assert report["hardware"]["storage"] is None
    (note,) = [n for n in report["notes"] if "effective_io_concurrency" in n]
    assert device in note and "virtual disk" in note and "--storage" in note, note
    table = CliRunner().invoke(cli, ["config", "--dsn", db])
    assert f"on {device}, a virtual disk" in " ".join(table.output.split()), table.output

    flagged = CliRunner().invoke(cli, ["config", "--dsn", db, "--format", "json", "--storage", "hdd"])
    report = json.loads(flagged.output)
    assert report["hardware"]["source"]["storage"] == "flag"
    assert not [n for n in report["notes"] if "virtual disk" in n]
    if row[0] < 2:
        assert [p["value"] for p in report["proposals"] if p["setting"] == "effective_io_concurrency"] == ["2"]
