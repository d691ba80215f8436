"""Parallel workers by CPUs (PGTune's formulas, applied only from 4 CPUs up and only to raise).

max_worker_processes and max_parallel_workers: one per CPU; per Gather and
per index build: half the CPUs, at most 4 (beyond that PGTune finds no clear
gain, and a warehouse is the exception a --profile dw keeps).
"""

from __future__ import annotations

import math

from .context import Context
from .model import Family


def targets(cpus: int, *, warehouse: bool = False) -> dict[str, int]:
    half = math.ceil(cpus / 2)
    return {"max_worker_processes": cpus, "max_parallel_workers": cpus,
            "max_parallel_workers_per_gather": half if warehouse else min(4, half),
            "max_parallel_maintenance_workers": min(4, half)}


def propose(ctx: Context) -> None:
    cpus = ctx.hardware.cpus
    if cpus is None or cpus < 4:
        return
    for name, want in targets(cpus).items():
        have = int(ctx.snap.setting(name).number)
        if have < want:
            ctx.server(name, str(want), Family.PARALLEL, f"{name} is {have} on {cpus} CPUs",
                       f"queries and index builds may use up to {want} workers: long scans finish sooner on idle CPUs",
                       cpus=cpus)
