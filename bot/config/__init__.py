"""Deskwatch configuration: secrets and endpoints from the environment, teams and SLAs from YAML.

`Settings` holds what differs per deployment and must stay secret (tokens, database URL); `AppConfig`
holds what a support lead edits (teams, channels, business hours, SLA targets). Both report every
problem at once as one actionable line naming the env var or YAML path, so an operator fixes the
whole file in one pass and never sees a traceback. Nothing here runs at import time: the composition
root calls `load_settings()` and `load_config()`.

Submodules:
- `errors`: ConfigError and the pydantic-error -> `yaml.path: message` formatting.
- `fields`: scalar YAML field types (durations, clock times, days, dates, holidays, timezones, ids).
- `models`: the pydantic YAML models, AppConfig included, and the team-conflict checks.
- `escalation`: the optional `escalation:` section (tiers, reasons) and its domain policy.
- `qa`: the optional `qa:` section (rubric, reviewers, calibration, disputes, sampling) and its Rubric.
- `digests`: the optional `digests:` list (per-team digest schedules) and its domain SendSchedule.
- `loading`: secret stripping, the YAML 1.2 loader, `load_config` and `config_from_dict`.
- `settings`: environment `Settings`, `load_settings` and `settings_problems`.
"""

from __future__ import annotations

# models first: it imports the sections (qa, digests) that build on its models once those exist
import bot.config.models  # noqa: F401, I001
from bot.config.digests import DigestSchedule, digest_channel, digests_for
from bot.config.errors import ConfigError
from bot.config.escalation import EscalationConfig, EscalationTier, IntercomHandoff, ZendeskHandoff
from bot.config.fields import DAY_NAMES
from bot.config.loading import EXAMPLE_FILE, SECRET_IN_YAML, config_from_dict, load_config
from bot.config.models import (
    AlertsConfig,
    AppConfig,
    BusinessHoursConfig,
    HolidayDates,
    IntercomSlaConfig,
    RedactConfig,
    ReplyTargets,
    ScheduleConfig,
    SlackConfig,
    SlaConfig,
    TeamConfig,
)
from bot.config.qa import QaConfig, RubricCategory, SampleConfig
from bot.config.settings import Settings, load_settings, settings_problems

__all__ = [
    "DAY_NAMES",
    "EXAMPLE_FILE",
    "SECRET_IN_YAML",
    "AlertsConfig",
    "AppConfig",
    "BusinessHoursConfig",
    "ConfigError",
    "DigestSchedule",
    "EscalationConfig",
    "EscalationTier",
    "HolidayDates",
    "IntercomHandoff",
    "IntercomSlaConfig",
    "QaConfig",
    "RedactConfig",
    "ReplyTargets",
    "RubricCategory",
    "SampleConfig",
    "ScheduleConfig",
    "Settings",
    "SlaConfig",
    "SlackConfig",
    "TeamConfig",
    "ZendeskHandoff",
    "config_from_dict",
    "digest_channel",
    "digests_for",
    "load_config",
    "load_settings",
    "settings_problems",
]
