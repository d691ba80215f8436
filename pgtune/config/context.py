"""What every setting family reads (the evidence, the hardware) and how it makes a proposal for a scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evidence import Snapshot, TableStats
from .hardware import Hardware
from .model import Advice, Family, Proposal, Scope, Symptom


@dataclass
class Context:
    snap: Snapshot
    hardware: Hardware
    notes: list[str] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    pooler: bool | None = None      # --pooler / --no-pooler: the DBA says whether a pooler is in front
    work_mem_held: int = 0          # the largest work_mem a spill needed that the memory budget held back

    def server(self, name: str, value: str, family: Family, why: str, expect: str,
               symptom: Symptom = Symptom.NONE, **evidence: Any) -> Proposal:
        """A server-wide setting: ALTER SYSTEM, then a reload, or a restart when its context is postmaster."""
        s = self.snap.setting(name)
        p = Proposal(name, family, Scope.RESTART if s.needs_restart else Scope.RELOAD, value, s.shown, s.source,
                     s.context, s.pending_restart, why, expect, symptom, {name: s.shown, **evidence})
        self.proposals.append(p)
        return p

    def role(self, role: str, name: str, value: str, family: Family, why: str, expect: str,
             symptom: Symptom = Symptom.NONE, **evidence: Any) -> Proposal:
        """A setting for one role's new sessions in this database (ALTER ROLE … IN DATABASE … SET)."""
        s = self.snap.setting(name)
        db = self.snap.database
        own = self.snap.role_value(role, db, name)
        p = Proposal(name, family, Scope.ROLE, value, own, "role" if own is not None else "not set", s.context,
                     s.pending_restart, why, expect, symptom,
                     {f"{name} (server)": s.shown, f"{name} ({role})": own, **evidence}, role=role, database=db)
        self.proposals.append(p)
        return p

    def table(self, t: TableStats, name: str, value: str, family: Family, why: str, expect: str,
              symptom: Symptom = Symptom.NONE, **evidence: Any) -> Proposal:
        """A storage parameter of one table (ALTER TABLE … SET (…)): in force at once."""
        own = t.reloptions.get(name)
        p = Proposal(name, family, Scope.TABLE, value, own, "table" if own is not None else "not set",
                     "table", False, why, expect, symptom, evidence, schema=t.schema, table=t.table)
        self.proposals.append(p)
        return p

    def memory(self) -> int | None:
        return self.hardware.memory_bytes

    def bytes(self, name: str) -> int:
        b = self.snap.setting(name).bytes
        return b if b is not None else 0

    def proposed(self, name: str) -> Proposal | None:
        return next((p for p in self.proposals if p.setting == name and p.scope in (Scope.RELOAD, Scope.RESTART)),
                    None)
