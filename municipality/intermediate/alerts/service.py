"""Detecting unusual staff access from the access log (DOMAIN rule 5) and keeping the alerts.

Each evaluation reads the log entries after the last one evaluated, finds the windows they fall
in, and judges each window on every entry in it (old and new), so the result depends only on the
log, not on how often it is evaluated. It runs as one ordered append (the advisory lock on
PostgreSQL), so replicas evaluating at once take turns instead of storing an alert twice.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from municipality.intermediate.access_log.models import StaffAccess
from municipality.intermediate.alerts.models import AccessAlert, AlertCursor, StaffHousehold
from municipality.intermediate.alerts.rules import RULE_NAMES, AlertRules
from municipality.intermediate.staff.models import StaffMember
from services.db import Database, append_in_order, utc_now
from services.problems import Conflict, NotFound

CURSOR = "staff_access_log"
OPEN, ACKNOWLEDGED = "open", "acknowledged"


@dataclass(frozen=True)
class LoggedAccess:
    """The columns of a StaffAccess entry the rules read."""

    seq: int
    at: datetime
    staff_id: str
    department: str
    address_number: str | None  # None once erased past retention (older than any rule looks)
    outcome: str


@dataclass(frozen=True)
class Finding:
    """A rule fired in one window: what becomes (or grows) one stored alert."""

    rule: str
    window: tuple[datetime, datetime]
    entries: Sequence[LoggedAccess]
    threshold: int
    staff_id: str | None = None
    address_number: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"{self.rule}:{self.staff_id or '-'}:{self.address_number or '-'}:{self.window[0].isoformat()}"


@dataclass
class Evaluation:
    """What one evaluation read and which alerts it stored or grew."""

    evaluated_through: int = 0
    entries_evaluated: int = 0
    alerts: list[AccessAlert] = field(default_factory=list)


_COLUMNS = (
    StaffAccess.seq,
    StaffAccess.at,
    StaffAccess.staff_id,
    StaffAccess.department,
    StaffAccess.address_number,
    StaffAccess.outcome,
)


async def _accesses(session: AsyncSession, *where: ColumnElement[bool]) -> list[LoggedAccess]:
    rows = await session.execute(select(*_COLUMNS).where(*where).order_by(StaffAccess.seq))
    return [LoggedAccess(*row) for row in rows]


def _in(window: tuple[datetime, datetime]) -> ColumnElement[bool]:
    return and_(StaffAccess.at >= window[0], StaffAccess.at < window[1])


async def _volume(session: AsyncSession, rules: AlertRules, new: Sequence[LoggedAccess]) -> list[Finding]:
    rule = rules.volume
    findings = []
    for staff_id, window in sorted({(e.staff_id, rules.window(e.at, rule.window)) for e in new}):
        baseline_start = window[0] - timedelta(days=rule.baseline_days)
        history = await _accesses(session, StaffAccess.staff_id == staff_id, _in((baseline_start, window[1])))
        entries = [e for e in history if e.at >= window[0]]
        per_window = Counter(rules.window(e.at, rule.window) for e in history if e.at < window[0])
        mean = sum(per_window.values()) / len(per_window) if per_window else 0.0
        threshold = max(rule.floor, math.floor(mean * rule.factor))
        if len(entries) > threshold:
            findings.append(Finding("volume", window, entries, threshold, staff_id=staff_id))
    return findings


async def _off_hours(session: AsyncSession, rules: AlertRules, new: Sequence[LoggedAccess]) -> list[Finding]:
    rule = rules.off_hours
    findings = []
    outside = [e for e in new if rule.outside(e.at.astimezone(rules.zone))]
    for staff_id, window in sorted({(e.staff_id, rules.window(e.at, rule.window)) for e in outside}):
        entries = await _accesses(session, StaffAccess.staff_id == staff_id, _in(window))
        entries = [e for e in entries if rule.outside(e.at.astimezone(rules.zone))]
        findings.append(Finding("off_hours", window, entries, 0, staff_id=staff_id))
    return findings


async def _outside_role(session: AsyncSession, rules: AlertRules, new: Sequence[LoggedAccess]) -> list[Finding]:
    rule = rules.outside_role
    findings = []
    refused = {(e.staff_id, rules.window(e.at, rule.window)) for e in new if e.outcome == rule.outcome}
    for staff_id, window in sorted(refused):
        where = (StaffAccess.staff_id == staff_id, StaffAccess.outcome == rule.outcome, _in(window))
        entries = await _accesses(session, *where)
        if len(entries) >= rule.refusals:
            findings.append(Finding("outside_role", window, entries, rule.refusals - 1, staff_id=staff_id))
    return findings


async def _many_staff(session: AsyncSession, rules: AlertRules, new: Sequence[LoggedAccess]) -> list[Finding]:
    rule = rules.many_staff_one_person
    findings = []
    for address_number, window in sorted({(e.address_number, rules.window(e.at, rule.window)) for e in new}):
        entries = await _accesses(session, StaffAccess.address_number == address_number, _in(window))
        if len({e.staff_id for e in entries}) > rule.max_staff:
            findings.append(
                Finding("many_staff_one_person", window, entries, rule.max_staff, address_number=address_number)
            )
    return findings


async def _own_household(session: AsyncSession, rules: AlertRules, new: Sequence[LoggedAccess]) -> list[Finding]:
    rule = rules.own_household
    staff = {e.staff_id for e in new}
    households = select(StaffHousehold.staff_id, StaffHousehold.address_number).where(
        StaffHousehold.staff_id.in_(staff)
    )
    declared = {(staff_id, address_number) for staff_id, address_number in await session.execute(households)}
    findings = []
    hits = {(e.staff_id, e.address_number, rules.window(e.at, rule.window)) for e in new}
    for staff_id, address_number, window in sorted(hit for hit in hits if hit[:2] in declared):
        where = (StaffAccess.staff_id == staff_id, StaffAccess.address_number == address_number, _in(window))
        entries = await _accesses(session, *where)
        findings.append(Finding("own_household", window, entries, 0, staff_id=staff_id, address_number=address_number))
    return findings


RULES = (_volume, _off_hours, _outside_role, _many_staff, _own_household)


async def _store(session: AsyncSession, finding: Finding, now: datetime) -> AccessAlert | None:
    """Store a new alert, or grow the one for the same rule, who and window; None when unchanged."""
    seqs = [e.seq for e in finding.entries]
    staff_ids = sorted({e.staff_id for e in finding.entries})
    alert = await session.scalar(select(AccessAlert).where(AccessAlert.dedupe_key == finding.dedupe_key))
    if alert is not None:
        if alert.seqs == seqs:
            return None
        alert.seqs, alert.count, alert.staff_ids = seqs, len(seqs), staff_ids
        alert.threshold = finding.threshold
        return alert
    alert = AccessAlert(
        dedupe_key=finding.dedupe_key,
        rule=finding.rule,
        staff_id=finding.staff_id,
        department=finding.entries[-1].department if finding.staff_id else None,
        address_number=finding.address_number,
        staff_ids=staff_ids,
        window_start=finding.window[0],
        window_end=finding.window[1],
        count=len(seqs),
        threshold=finding.threshold,
        seqs=seqs,
        detected_at=now,
        status=OPEN,
    )
    session.add(alert)
    return alert


async def evaluate_alerts(database: Database, rules: AlertRules, now: datetime | None = None) -> Evaluation:
    """Judge the log entries after the last evaluated one; `now` stamps new alerts (tests fix it)."""
    detected_at = now or utc_now()
    evaluation = Evaluation()

    async def evaluate(session: AsyncSession) -> None:
        nonlocal evaluation
        evaluation = Evaluation()
        cursor = await session.get(AlertCursor, CURSOR)
        new = await _accesses(session, StaffAccess.seq > (cursor.last_seq if cursor else 0))
        if cursor is None:
            cursor = AlertCursor(log=CURSOR, last_seq=0, evaluated_at=detected_at)
            session.add(cursor)
        cursor.evaluated_at = detected_at
        evaluation.evaluated_through = cursor.last_seq
        if not new:
            return
        for rule in RULES:
            for finding in await rule(session, rules, new):
                stored = await _store(session, finding, detected_at)
                if stored is not None:
                    evaluation.alerts.append(stored)
        await session.flush()
        cursor.last_seq = evaluation.evaluated_through = new[-1].seq
        evaluation.entries_evaluated = len(new)

    await append_in_order(database, evaluate, log="access alerts")
    return evaluation


async def list_alerts(session: AsyncSession, *, status: str | None, rule: str | None) -> list[AccessAlert]:
    """Newest first."""
    query = select(AccessAlert).order_by(AccessAlert.alert_id.desc())
    if status is not None:
        query = query.where(AccessAlert.status == status)
    if rule is not None:
        query = query.where(AccessAlert.rule == rule)
    return list(await session.scalars(query))


async def acknowledge_alert(session: AsyncSession, alert_id: int, acknowledged_by: str) -> AccessAlert:
    alert = await session.get(AccessAlert, alert_id)
    if alert is None:
        raise NotFound("unknown_alert", f"No alert {alert_id}.")
    if alert.status == ACKNOWLEDGED:
        raise Conflict("alert_already_acknowledged", f"Alert {alert_id} was acknowledged by {alert.acknowledged_by}.")
    alert.status, alert.acknowledged_by, alert.acknowledged_at = ACKNOWLEDGED, acknowledged_by, utc_now()
    await session.flush()
    return alert


async def alert_counts(session: AsyncSession) -> tuple[dict[str, int], dict[str, int]]:
    """Open and all alerts per rule (every rule present, zero when none): what /metrics shows."""
    opened: dict[str, int] = dict.fromkeys(RULE_NAMES, 0)
    total: dict[str, int] = dict.fromkeys(RULE_NAMES, 0)
    rows = await session.execute(
        select(AccessAlert.rule, AccessAlert.status, func.count()).group_by(AccessAlert.rule, AccessAlert.status)
    )
    for rule, status, count in rows:
        total[rule] = total.get(rule, 0) + count
        if status == OPEN:
            opened[rule] = opened.get(rule, 0) + count
    return opened, total


async def declare_household(
    session: AsyncSession, staff_id: str, address_numbers: Iterable[str]
) -> list[StaffHousehold]:
    """Record address numbers of a staff member's household; declaring one again keeps its date."""
    if await session.get(StaffMember, staff_id) is None:
        raise NotFound("unknown_staff", f"No staff account {staff_id}.")
    now = utc_now()
    for address_number in sorted(set(address_numbers)):
        if await session.get(StaffHousehold, (staff_id, address_number)) is None:
            session.add(StaffHousehold(staff_id=staff_id, address_number=address_number, declared_at=now))
    await session.flush()
    query = select(StaffHousehold).where(StaffHousehold.staff_id == staff_id).order_by(StaffHousehold.address_number)
    return list(await session.scalars(query))
