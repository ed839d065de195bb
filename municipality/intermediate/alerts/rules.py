"""The alert rules as data (rules.yaml): thresholds and windows an operator can read and tune
without reading code. Unknown keys are refused, so that a typo cannot silently switch a rule off."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

RULES_FILE = Path(__file__).parent / "rules.yaml"
RuleName = Literal["volume", "off_hours", "outside_role", "many_staff_one_person", "own_household"]
RULE_NAMES: tuple[RuleName, ...] = ("volume", "off_hours", "outside_role", "many_staff_one_person", "own_household")
DAY = timedelta(days=1)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_minutes: int = Field(ge=1, le=24 * 60)

    @field_validator("window_minutes")
    @classmethod
    def _divides_a_day(cls, minutes: int) -> int:
        if (24 * 60) % minutes:
            raise ValueError("window_minutes must divide a day (1440 minutes)")
        return minutes

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


class VolumeRule(_Rule):
    baseline_days: int = Field(ge=1)
    factor: float = Field(gt=0)
    floor: int = Field(ge=1)


class OffHoursRule(_Rule):
    weekdays: frozenset[int]
    opens: time
    closes: time

    def outside(self, local: datetime) -> bool:
        return local.isoweekday() not in self.weekdays or not self.opens <= local.time() < self.closes


class OutsideRoleRule(_Rule):
    refusal: str
    refusals: int = Field(ge=1)

    @property
    def outcome(self) -> str:
        return f"refused:{self.refusal}"


class ManyStaffRule(_Rule):
    max_staff: int = Field(ge=1)


class OwnHouseholdRule(_Rule):
    pass


class AlertRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    volume: VolumeRule
    off_hours: OffHoursRule
    outside_role: OutsideRoleRule
    many_staff_one_person: ManyStaffRule
    own_household: OwnHouseholdRule

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except ZoneInfoNotFoundError as error:
            raise ValueError(f"unknown time zone {name}") from error
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # zoneinfo caches zones by name

    def window(self, at: datetime, length: timedelta) -> tuple[datetime, datetime]:
        """The fixed window holding `at`: windows start at local midnight and every `length` after."""
        local = at.astimezone(self.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight + ((local - midnight) // length) * length
        return start.astimezone(UTC), (start + length).astimezone(UTC)


def load_alert_rules(path: Path = RULES_FILE) -> AlertRules:
    return AlertRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
