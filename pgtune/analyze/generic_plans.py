"""A prepared statement may run its generic plan: an index only that plan takes is a risk, not a gain.

PostgreSQL plans a named prepared statement (Prisma's statement cache, JDBC's,
psycopg's, pgx's) for its values five times, then runs its generic plan from
then on once that plan's estimate is below the custom plans' average
(plancache.c, choose_custom_plan). The generic plan prices every value alike
(``website_id = $1`` as one website in ndistinct): on skewed data it can take
an index that no plan made with the values the statement runs with takes, and
read far more through it than the custom plans read (u8, Umami-shaped:
``(event_type, website_id)`` in a BitmapAnd made a small website's day
0.2 ms -> 3.7 ms and 90 days 1.4 -> 97.6 ms, while the generic estimate fell
390 -> 285). No estimate shows that harm, so the selection's custom-plan gain
cannot weigh it: with the chosen set made hypothetically, this pass withdraws
an index a statement's generic plan uses when none of its plans with values
uses it and the server would run that generic plan, one index at a time until
no statement's generic plan does so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

from .. import catalog_sql, ddl
from .._text import one_line
from ..capture import Catalog
from ..connect import lost
from ..ddl import IndexMethod
from ..explain import Plan, Round, explain_scenarios, prepare_text
from ..explain_names import plan_name, raw_cursor
from ..explain_script import deallocate, end_failed
from .model import Advice, AnalyzedStatement, IndexSuggestion, Method
from .whatif import lenient

ROUNDS = 5      # passes at most: each withdrawal changes the set the others were planned with
SHARE = 0.99    # of the parameterized statements' calls x cost: the rest cannot weigh much, whatever their plan
MOST = 500      # statements planned again at most
PIPELINE = 64   # statements planned in one round trip (their plans are held until read)
MARGIN = 10     # an index at risk stays when it saves over this many times what the statements at risk lose


class Made(NamedTuple):
    """A proposal made hypothetically. Its schema too: a schema per tenant has the same proposal name in each,
    and one tenant's risk must not withdraw the other's (p15, Rallly-shaped)."""

    name: str
    table: str          # lower case (what the next pass looks for in statements)
    schema: str


@dataclass(frozen=True)
class Risk:
    """A statement whose generic plan, the one the server would run, uses ``index`` and no custom plan does."""

    index: str
    table: str          # its table's name, lower case (what the next pass looks for in statements)
    schema: str
    statement: AnalyzedStatement
    generic_cost: float
    custom_cost: float


def review(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice,
           only: set[tuple[str, str]] | None = None) -> list[Risk]:
    """Withdraw each proposed b-tree that a prepared statement's generic plan alone would use; ``only``: of those
    (schema, name) alone, the others planned beside them as reviewed already (analyze.reselect's additions).
    Returns the risks that withdrew one: their statements' generic plans wanted an index there."""
    withdrawn: list[Risk] = []
    if advice.method != Method.HYPOPG:
        return withdrawn
    schema = catalog_sql.extension_schema(conn, "hypopg")
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('cpu_operator_cost')::float8").fetchone()
    operator = float(row[0]) if row else 0.0025
    tables = {ix.table.lower() for ix in advice.indexes if only is None or (ix.schema, ix.name) in only}
    kept: set[tuple[str, str]] = set()
    for _ in range(ROUNDS):
        with lenient(conn):     # HypoPG cuts a long name at NAMEDATALEN bytes, through a character maybe
            found = _risks(conn, catalog, advice, schema, operator, tables)
            by_index: dict[tuple[str, str], list[Risk]] = {}
            for r in found:
                if (r.schema, r.index) not in kept and (only is None or (r.schema, r.index) in only):
                    by_index.setdefault((r.schema, r.index), []).append(r)
            risks = []
            for key, theirs in by_index.items():
                hint = _weigh(conn, catalog, advice, schema, theirs, operator)
                if hint is None:
                    risks.append(theirs[0])
                else:
                    kept.add(key)
                    advice.hints.append(hint)
        if not risks:
            return withdrawn
        withdrawn += risks
        for risk in risks:
            st = risk.statement
            advice.withdraw(risk.index, (
                f"{risk.index} withdrawn: the generic plan of statement {st.queryid} ({one_line(st.query, 60)}) "
                f"would use it (planner cost {risk.generic_cost:,.1f}) where none of its plans made with the values "
                f"it runs with does ({risk.custom_cost:,.1f}): PostgreSQL runs that generic plan for a named "
                "prepared statement (Prisma's, JDBC's, pgx's) once it looks cheaper, and an estimate that prices "
                "every value alike can read far more through the index than the custom plans read "
                "(docs/generic-plans.md)"), risk.schema)
        # The rest of the set, planned again where something went: another generic plan may take another index.
        tables = {r.table for r in risks}
    return withdrawn


def _risks(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice, schema: str | None,
           operator: float, tables: set[str]) -> list[Risk]:
    """One risk per index at most, from the statements that name one of ``tables``."""
    made = hypothetical_proposals(conn, catalog, advice.indexes, schema, plain_only=True)
    starts = _starts(catalog, advice.indexes)
    found: list[Risk] = []
    try:
        if not made:
            return []
        todo = [st for st in _weighty(advice.statements) if any(t in st.query.lower() for t in tables)]
        for start in range(0, len(todo), PIPELINE):
            chunk = todo[start:start + PIPELINE]
            for st, plans in zip(chunk, _plans(conn, chunk), strict=True):
                found += _risk(st, plans, made, operator, starts)
        return found
    finally:
        if not lost(conn):
            conn.execute(hypopg_call(schema, "hypopg_reset"))


def _weigh(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice, schema: str | None,
           risks: list[Risk], operator: float = 0.0025) -> str | None:
    """Why the index stays, when what it saves the statements whose plans take it is over MARGIN times what the
    statements at risk would cost more read through it with their own values; None: withdraw it.

    The harm the review guards against is the generic plan reading far more through the index than the plans
    with values read: planned with their values and the index alone (no sequential scan), the statements at
    risk show it. Withdrawing whatever the weights lost Umami's index of its four heaviest statements (23.6M ->
    28.5k planner cost) for one lookup that tied with it (p11). A real index taken in its place leaves the harm
    unknown: withdrawn, as before.
    """
    ix = next((i for i in advice.indexes if (i.schema, i.name) == (risks[0].schema, risks[0].index)), None)
    if ix is None:
        return None
    if (kept := _led_today(conn, catalog, ix, risks, operator)) is not None:
        return kept
    if ix.cost_before is None or ix.cost_after is None:
        return None
    gain = ix.cost_before - ix.cost_after
    harm, worst, worst_through = 0.0, risks[0], 0.0
    for risk in risks:
        through = _through(conn, catalog, ix, schema, risk.statement)
        if through is None:
            return None
        more = risk.statement.calls * max(0.0, through - risk.custom_cost)
        if more >= harm:
            harm, worst, worst_through = more, risk, through
    if gain <= MARGIN * harm:
        return None
    st = worst.statement
    return (f"{ix.name} kept although the generic plan of statement {st.queryid} ({one_line(st.query, 60)}) "
            f"would use it where its plans with values do not: read through it with its own values that statement "
            f"costs {worst_through:,.1f} a call against {worst.custom_cost:,.1f} ({harm:,.0f} over its calls), "
            f"under a {MARGIN:.0f}th of the {gain:,.0f} the index saves the statements whose plans take it. If it "
            "slows down after the deploy, plan_cache_mode = force_custom_plan for its role keeps its plans with "
            "values (docs/generic-plans.md)")


def _led_today(conn: psycopg.Connection[Any], catalog: Catalog, ix: IndexSuggestion,
               risks: list[Risk], operator: float) -> str | None:
    """Why the index stays when each statement at risk's generic plan, made now with no new index, already reads
    through an existing index leading it, and the server runs that plan now (its estimate under the custom
    plans'); None: not so for one of them.

    Reading through the proposal instead reads the rows its leading columns pin, as today, or fewer: the harm the
    review guards against is already there, and not the proposal's. A generic plan priced over the custom plans
    today is not run: the proposal, cheaper, would start it (g10's unpaid list). (t40, Papermark-shaped: ``(teamId,
    hiddenInAllDocuments, createdAt DESC)`` withdrawn for a count whose generic plan read (teamId,
    hiddenInAllDocuments) already, at the same cost; the document list it served went 161.8 -> 0.09 ms).
    """
    led = _starts(catalog, [ix]).get((ix.schema, ix.name), frozenset())
    read: set[str] = set()
    for risk in risks if led else []:
        st = risk.statement
        try:
            plans = explain_scenarios(conn, st.query, [dict(st.literals) or None], context=st.context)
        except (psycopg.Error, ValueError):
            if lost(conn):
                raise
            return None
        if not plans or not plans[0].indexes & led or not runs_generic(plans[0], plans, risk.custom_cost, operator):
            return None
        read |= plans[0].indexes & led
    if not read:
        return None
    st = risks[0].statement
    return (f"{ix.name} kept although the generic plan of statement {st.queryid} ({one_line(st.query, 60)}) "
            f"would use it where its plans with values do not: that generic plan reads through "
            f"{', '.join(sorted(read))} today, which leads it, and would read no more rows through it "
            "(docs/generic-plans.md)")


def _through(conn: psycopg.Connection[Any], catalog: Catalog, ix: IndexSuggestion, schema: str | None,
             st: AnalyzedStatement) -> float | None:
    """``st``'s cost planned with its values and ``ix`` the only hypothetical index, no sequential scan (its
    scenarios' weighted mean); None when a plan takes another index or cannot be made."""
    custom = [sc for sc in st.scenarios if sc.get("values")]
    try:
        made = hypothetical_proposals(conn, catalog, [ix], schema, plain_only=True)
        conn.execute("SELECT /* pgtune */ pg_catalog.set_config('enable_seqscan', 'off', false)")
        plans = explain_scenarios(conn, st.query, [sc["values"] for sc in custom], context=st.context)
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None
    finally:
        if not lost(conn):
            conn.execute("RESET /* pgtune */ enable_seqscan")
            conn.execute(hypopg_call(schema, "hypopg_reset"))
    if not made or not plans or not all(p.indexes & set(made) for p in plans):
        return None
    weight = sum(float(sc.get("weight", 1.0)) for sc in custom) or 1.0
    return sum(float(sc.get("weight", 1.0)) * p.cost for sc, p in zip(custom, plans, strict=True)) / weight


def _weighty(statements: list[AnalyzedStatement]) -> list[AnalyzedStatement]:
    """The statements a driver may prepare that hold the workload's cost: the costliest first, up to SHARE of the
    prepared kind's calls x cost and at most MOST of them (each is planned again here: a round trip)."""
    kind = sorted((st for st in statements if _prepared_kind(st)), key=lambda st: -st.calls * (st.cost_before or 0.0))
    total = sum(st.calls * (st.cost_before or 0.0) for st in kind)
    out: list[AnalyzedStatement] = []
    held = 0.0
    for st in kind[:MOST]:
        if total and held >= SHARE * total:
            break
        out.append(st)
        held += st.calls * (st.cost_before or 0.0)
    return out


def _prepared_kind(st: AnalyzedStatement) -> bool:
    """Has ``$n`` and values to plan it with: a statement a driver may prepare, whose custom plans are known."""
    return st.cost_before is not None and any(s.get("values") for s in st.scenarios) and prepare_text(st.query)[1] > 0


def _scenarios(st: AnalyzedStatement) -> list[dict[str, str | None] | None]:
    """The generic plan first, then the statement's value scenarios. The generic plan with the constants the
    application wrote (``literals``): pg_stat_statements shows ``event_type = 2`` as ``$4``, but the server's
    generic plan has the 2, and takes a partial index WHERE event_type = 2 that a ``$4`` plan cannot (u35,
    Umami-shaped: an index the dashboard needed was withdrawn for a generic plan the server never makes)."""
    return [dict(st.literals) or None, *(s["values"] for s in st.scenarios if s.get("values"))]


def _plans(conn: psycopg.Connection[Any], chunk: list[AnalyzedStatement]) -> list[list[Plan] | None]:
    """Each statement's plans (``_scenarios``), None for one that cannot be planned now: all of them in one
    round trip (a statement's own round trip each was most of this pass's time, 500 of them at
    benchmarks/speed.py's 5,000 statements). When one fails, each is planned alone, as before."""
    rounds: list[Round | None] = []
    for st in chunk:
        try:
            rounds.append(Round(conn, st.query, _scenarios(st), context=st.context))
        except (psycopg.Error, ValueError):
            if lost(conn):
                raise
            rounds.append(None)     # not plannable now: the selection planned it, this pass has nothing to add
    sent = [r for r in rounds if r is not None]
    failure: psycopg.Error | None = None
    try:
        with conn.pipeline():
            try:
                for r in sent:
                    r.send(conn)
            except psycopg.Error as exc:
                failure = exc       # raised once the block is left (as explain.Round.run does)
        if failure is None:
            return [r.plans() if r is not None else None for r in rounds]
    except psycopg.Error as exc:
        failure = failure or exc
    if lost(conn):
        raise failure
    end_failed(conn, bool(sent) and sent[0].nested)
    for name in sorted({n for r in sent for n in r.names}):
        deallocate(conn, name)
    return [_alone(conn, st) for st in chunk]


def _alone(conn: psycopg.Connection[Any], st: AnalyzedStatement) -> list[Plan] | None:
    try:
        return explain_scenarios(conn, st.query, _scenarios(st), context=st.context)
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None


def _starts(catalog: Catalog, indexes: list[IndexSuggestion]) -> dict[tuple[str, str], frozenset[str]]:
    """Each proposal's (schema, name) -> the existing b-trees on its table whose columns lead it (``a`` for
    ``(a, b)``)."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for ix in indexes:
        if any(ix.expressions):
            continue
        out[(ix.schema, ix.name)] = frozenset(
            old.name for old in catalog.indexes_on((ix.schema, ix.table))
            if old.method == "btree" and old.is_valid and old.predicate is None and old.columns
            and None not in old.columns and list(old.columns) == ix.columns[:len(old.columns)])
    return out


def _risk(st: AnalyzedStatement, plans: list[Plan] | None, made: dict[str, Made],
          operator: float, starts: dict[tuple[str, str], frozenset[str]] | None = None) -> list[Risk]:
    if plans is None:
        return []           # not plannable now: the selection planned it, this pass has nothing to add
    custom = [s for s in st.scenarios if s.get("values")]
    generic, customs = plans[0], plans[1:]
    taken = {made[n] for n in generic.indexes if n in made} - {made[n] for p in customs for n in p.indexes if n in made}
    # A custom plan that reads an existing index leading the proposal ((userId) for (userId, startTime)), a near
    # tie with it (g10: Cal.com's upcoming list, host 50's plan 531 through Booking_userId_idx, host 100's 443
    # through the proposal), reads at least the rows the generic plan reads through the proposal: no harm to
    # weigh, and withdrawing it lost the index the app's calls need.
    led = starts or {}
    taken = {t for t in taken
             if not (customs and all(p.indexes & led.get((t.schema, t.name), frozenset()) for p in customs))}
    if not taken:
        return []
    weight = sum(float(s.get("weight", 1.0)) for s in custom) or 1.0
    mean = sum(float(s.get("weight", 1.0)) * p.cost for s, p in zip(custom, customs, strict=True)) / weight
    if not runs_generic(generic, customs, mean, operator):
        return []
    return [Risk(t.name, t.table, t.schema, st, generic.cost, mean) for t in sorted(taken)]


def runs_generic(generic: Plan, customs: list[Plan], mean: float, operator: float) -> bool:
    """Would the server run the generic plan (``mean``: the custom plans' weighted cost)? choose_custom_plan: when
    its cost is below the custom plans' average, each of those charged its planning too (1000 cpu_operator_cost
    per relation, plus one)."""
    return generic.cost < mean + 1000 * operator * (_relations(customs[0]) + 1)


def _relations(plan: Plan) -> int:
    stack, count = [plan.plan.get("Plan", plan.plan)], 0
    while stack:
        node = stack.pop()
        count += "Relation Name" in node
        stack.extend(node.get("Plans", ()))
    return count


def hypothetical_proposals(conn: psycopg.Connection[Any], catalog: Catalog, indexes: list[IndexSuggestion],
                  schema: str | None, *, plain_only: bool = False) -> dict[str, Made]:
    """The proposed b-trees made hypothetically: HypoPG's name of each -> the proposal's name and its table's
    (lower case), those the server refuses skipped (made_hypothetically). ``plain_only``: not those on a
    partitioned table, which the generic-plan review leaves alone; replan.again plans with them (t36: a statement
    on a partitioned table planned again lost its whole cut)."""
    wanted: list[tuple[str, IndexSuggestion]] = []
    for ix in indexes:
        table = catalog.tables.get((ix.schema, ix.table))
        text = ddl.hypothetical(ix.ddl)
        if ix.method == IndexMethod.BTREE and table is not None and not (plain_only and table.partitioned) \
                and text is not None:
            wanted.append((text, ix))
    made = made_hypothetically(conn, schema, [text for text, _ in wanted])
    return {name: _made(wanted[n][1]) for name, n in made.items()}


def made_hypothetically(conn: psycopg.Connection[Any], schema: str | None, texts: list[str]) -> dict[str, int]:
    """HypoPG's indexes reset, then ``texts`` (CREATE INDEX as HypoPG takes them) made: HypoPG's name of each, as
    a plan names it (explain_names.plan_name: read as bytes, never decoded as text, as a name cut inside a
    character is not UTF-8; c38's warm re-pricing failed so on tests/test_hostile_names.py) -> its position in
    ``texts``. All in one statement (one each was a round trip per proposal: 4,500 of them, five
    times over, at benchmarks/speed.py's 5,000 statements); when the server refuses one, one at a time, skipping
    those it refuses. The one routine for suggest's passes and ``pgtune baseline`` (k37: it had its own copy)."""
    conn.execute(hypopg_call(schema, "hypopg_reset"))
    # HypoPG's own oids run out after a few thousand (4,500 proposals at benchmarks/speed.py's 5,000 statements:
    # each one then made alone, and those past the end never): on a primary it borrows real ones (nothing is
    # written), as a what-if session does (whatif.session), which ran on this connection before m15.
    in_recovery = conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone()
    if in_recovery is not None and not in_recovery[0]:
        conn.execute("SET /* pgtune */ hypopg.use_real_oids = on")
    if not texts:
        return {}
    function = catalog_sql.function(schema, "hypopg_create_index")
    every = sql.SQL("SELECT /* pgtune */ d.n, h.indexname FROM pg_catalog.unnest(%s::text[]) WITH ORDINALITY "
                    "AS d(t, n) CROSS JOIN LATERAL {}(d.t) AS h ORDER BY d.n").format(function)
    try:
        with raw_cursor(conn) as cur:
            rows = cur.execute(every, (texts,)).fetchall()
    except psycopg.Error:
        if lost(conn):
            raise
        conn.execute(hypopg_call(schema, "hypopg_reset"))     # those made before the refused one
        return _one_by_one(conn, texts, function)
    return {plan_name(conn, name): n - 1 for n, name in rows}


def _one_by_one(conn: psycopg.Connection[Any], texts: list[str], function: sql.Composable) -> dict[str, int]:
    made: dict[str, int] = {}
    create = sql.SQL("SELECT /* pgtune */ indexname FROM {}(%s)").format(function)
    for n, text in enumerate(texts):
        try:
            with raw_cursor(conn) as cur:
                row = cur.execute(create, (text,)).fetchone()
        except psycopg.Error:
            if lost(conn):
                raise
            continue
        if row is not None:
            made[plan_name(conn, row[0])] = n
    return made


def _made(ix: IndexSuggestion) -> Made:
    return Made(ix.name, ix.table.lower(), ix.schema)


def hypopg_call(schema: str | None, function: str) -> sql.Composed:
    return sql.SQL("SELECT /* pgtune */ {}()").format(catalog_sql.function(schema, function))
