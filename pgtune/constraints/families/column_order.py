"""column-order: ``CHECK ("endDate" >= "startDate")``, ``CHECK ("storageUsed" <= "storageQuota")``.

Pairs are found by name within one table and one type category: start/end
(start|begin … end|finish|stop with the same stem; never a time of day, which
wraps at midnight) and used/limit (used|usage
… quota|limit|capacity|max with the same stem). A pair whose DEFAULTs together
would break the rule, or that pgtune cannot evaluate, is left alone. A
used/limit pair is a low-confidence hint, never written to a migration: a
downgrade sets a quota below what is already used, and a limit of -1 often
means "unlimited".

A start/end pair is high confidence only when the data holds it (every row
with both set, enough of them: propose) and the application's writes do not
send either value itself (``weigh``): a parameter or constant in an INSERT or
UPDATE is the client's clock or an ingested event's own timestamps, and one
sent out of order would be refused (q9, Langfuse's observations: end_time and
start_time come from the SDKs). Then it is low: listed with the reason, never
written to a migration (r11: at medium, ``--emit --constraints`` wrote it and
the ingest's next out-of-order write was refused). Writes pgtune cannot read
leave it low too.
How many statements read the columns says nothing either way. A NULL end
(an open interval, which the schema allows) passes the CHECK.
"""

from __future__ import annotations

import re

from ..model import Candidate, Column, Confidence, ConstraintKind, Rule, RuleOp
from ..prove import Prover

KIND = ConstraintKind.COLUMN_ORDER
PAIRS = (
    (re.compile(r"^(.*?)(start|begin)(s|ed|ing)?(.*)$", re.I),
     re.compile(r"^(.*?)(end|finish|stop)(s|ed|ing)?(.*)$", re.I), RuleOp.GE),
    (re.compile(r"^(.*?)(used|usage)(.*)$", re.I),
     re.compile(r"^(.*?)(quota|limit|capacity|max)(.*)$", re.I), RuleOp.LE),
)


# Words of a number that holds a time of day: "startTime", start_min, "endHhmm", end_sec, start_tod (r11).
TIME_WORDS = re.compile(r"time|hour|hh|minute|min(s)?(?![a-z])|sec(ond)?s?(?![a-z])|clock|tod(?![a-z])", re.I)


def _time_of_day(c: Column) -> bool:
    """A time of day, which wraps at midnight: a 22:00-02:00 window ends before it starts and is the application's
    to write (u12, Cal.com's Availability "startTime"/"endTime" of type time, and minutes-of-day integers). The
    time types, or a number named for a time; a date or timestamp is a point in time and does not wrap."""
    kind = c.type.lower()
    if c.category == "D":
        return kind.startswith("time") and not kind.startswith("timestamp")
    return bool(TIME_WORDS.search(c.name))


def _stem(m: re.Match[str]) -> str:
    groups = m.groups()
    return (groups[0] + groups[-1]).lower()


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    by_table: dict[tuple[str, str], list[Column]] = {}
    for c in columns:
        by_table.setdefault(c.table_key, []).append(c)
    for cols in by_table.values():
        for first_re, second_re, op in PAIRS:
            for a in cols:
                ma = first_re.match(a.name)
                if not ma or a.category not in ("N", "D") or (op == RuleOp.GE and _time_of_day(a)):
                    continue
                for b in cols:
                    mb = second_re.match(b.name)
                    if b is a or not mb or b.category != a.category or _stem(ma) != _stem(mb):
                        continue
                    # start/end: end >= start; used/limit: used <= limit
                    left, right = (b, a) if op == RuleOp.GE else (a, b)
                    rule = Rule(op, (left.name, right.name))
                    if not rule.admits({left.name: left.unset, right.name: right.unset}):
                        continue
                    # used <= limit is a hint: a downgrade sets a quota below what is already used, and -1 says
                    # "unlimited"; an end before its start is what the rule is for.
                    sure = Confidence.HIGH if op == RuleOp.GE else Confidence.LOW
                    out.append(Candidate(KIND, a.schema, a.table, (left.name, right.name), rule.text(), sure,
                                         {"pair": [left.name, right.name]}, rule))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    return cand


def weigh(cand: Candidate, sent: dict[str, set[str]] | None) -> Candidate:
    """``cand`` at low confidence (never written) when the application sends either column's value, or its writes
    are unknown: a rule the application's own writes may break is no rule to add."""
    if cand.kind != KIND or cand.confidence != Confidence.HIGH:
        return cand
    if sent is None:
        why = ("the workload's writes could not be read (pg_stat_statements): whether the application sends them "
               "is unknown")
    elif named := sorted(set(cand.columns) & sent.get(cand.table, set())):
        why = (f"the application's INSERT/UPDATE statements send {', '.join(named)} as values: a client that "
               "sends them out of order (its clock, an ingested event) would be refused")
    elif "*" in sent.get(cand.table, set()):
        why = ("the application's writes may set any column of the table (an INSERT without a column list or of "
               "SELECT * over rows it sent, or a trigger's or function's write, which pg_stat_statements does not "
               "list): a client that sends them out of order would be refused")
    else:
        return cand
    return Candidate(cand.kind, cand.schema, cand.table, cand.columns, cand.check, Confidence.LOW,
                     {**cand.evidence, "low": why}, cand.rule)
