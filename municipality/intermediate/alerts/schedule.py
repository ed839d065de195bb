"""The background evaluation of the access log (every `INTERMEDIATE_ALERT_INTERVAL_SECONDS`),
started and stopped with the server. Replicas may all run it: evaluations take turns (service.py)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from municipality.intermediate.alerts.rules import AlertRules, load_alert_rules
from municipality.intermediate.alerts.service import evaluate_alerts
from municipality.intermediate.config import IntermediateSettings
from services.app import Runtime, settings_of
from services.db import Database

logger = logging.getLogger(__name__)


class AlertSchedule:
    """Evaluates the log every `interval` seconds in the background, for this server's lifetime."""

    def __init__(self, database: Database, rules: AlertRules, interval: float) -> None:
        self.database, self.rules, self.interval = database, rules, interval
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0:
            self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                evaluation = await evaluate_alerts(self.database, self.rules)
            except Exception:  # a failed round (database away) is retried at the next one
                logger.exception("access alert evaluation failed")
                continue
            if evaluation.alerts:
                logger.warning("access alerts raised or grown: %s", [a.alert_id for a in evaluation.alerts])

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def start_alert_schedule(app: FastAPI, runtime: Runtime) -> None:
    app.state.alert_rules = rules = load_alert_rules()
    interval = settings_of(runtime, IntermediateSettings).alert_interval_seconds
    app.state.alert_schedule = schedule = AlertSchedule(runtime.database, rules, interval)
    schedule.start()


async def stop_alert_schedule(app: FastAPI, _runtime: Runtime) -> None:
    schedule: AlertSchedule = app.state.alert_schedule
    await schedule.stop()
