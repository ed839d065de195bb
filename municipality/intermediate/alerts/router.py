"""HTTP: unusual-access alerts for the operator and the information-policy department (情報政策課),
the operator's declaration of staff households, and `/metrics` for Prometheus."""

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from municipality.intermediate.alerts.rules import RuleName
from municipality.intermediate.alerts.schemas import AlertOut, AlertStatus, EvaluationOut, HouseholdIn, HouseholdOut
from municipality.intermediate.alerts.service import (
    acknowledge_alert,
    alert_counts,
    declare_household,
    evaluate_alerts,
    list_alerts,
)
from municipality.intermediate.staff.router import StaffAdministrator
from services.app import DbSession, Operator, RuntimeDep

router = APIRouter(tags=["SCM alerts"])


@router.get("/alerts", response_model=list[AlertOut])
async def get_alerts(
    _administrator: StaffAdministrator,
    session: DbSession,
    alert_status: Annotated[AlertStatus | None, Query(alias="status")] = None,
    rule: RuleName | None = None,
) -> list[AlertOut]:
    """Alerts, newest first, filtered by status and rule."""
    alerts = await list_alerts(session, status=alert_status, rule=rule)
    return [AlertOut.model_validate(a, from_attributes=True) for a in alerts]


@router.post("/alerts/{alert_id}/acknowledgement", response_model=AlertOut)
async def post_acknowledgement(
    alert_id: Annotated[int, Path()], administrator: StaffAdministrator, session: DbSession
) -> AlertOut:
    """Mark an alert looked into, by whom (the operator, or the 情報政策課 staff member)."""
    return AlertOut.model_validate(await acknowledge_alert(session, alert_id, administrator), from_attributes=True)


@router.post("/alerts/evaluate", response_model=EvaluationOut)
async def post_evaluate(_operator: Operator, runtime: RuntimeDep, request: Request) -> EvaluationOut:
    """Judge the log entries written since the last evaluation now, rather than at the next round."""
    evaluation = await evaluate_alerts(runtime.database, request.app.state.alert_rules)
    return EvaluationOut(
        evaluated_through=evaluation.evaluated_through,
        entries_evaluated=evaluation.entries_evaluated,
        alerts=[AlertOut.model_validate(a, from_attributes=True) for a in evaluation.alerts],
    )


@router.post("/staff-households", response_model=list[HouseholdOut], status_code=status.HTTP_201_CREATED)
async def post_staff_household(body: HouseholdIn, _operator: Operator, session: DbSession) -> list[HouseholdOut]:
    """Declare address numbers of a staff member's household: their lookups raise `own_household`.
    Every address number declared for the staff member is answered."""
    households = await declare_household(session, body.staff_id, body.address_numbers)
    return [HouseholdOut.model_validate(h, from_attributes=True) for h in households]


class _Snapshot(Collector):
    """Metric families computed once per scrape from the alerts table: right across replicas."""

    def __init__(self, opened: dict[str, int], total: dict[str, int]) -> None:
        self.opened, self.total = opened, total

    def collect(self) -> Iterable[Metric]:
        opened = GaugeMetricFamily("mynumber_access_alerts_open", "Open unusual-access alerts", labels=["rule"])
        total = CounterMetricFamily("mynumber_access_alerts", "Unusual-access alerts ever raised", labels=["rule"])
        for rule, count in sorted(self.opened.items()):
            opened.add_metric([rule], count)
        for rule, count in sorted(self.total.items()):
            total.add_metric([rule], count)
        return [opened, total]


@router.get("/metrics", tags=["operations"], include_in_schema=False)
async def get_metrics(session: DbSession) -> Response:
    """Prometheus text format; a registry per scrape, never the process-global one."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(*await alert_counts(session)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
