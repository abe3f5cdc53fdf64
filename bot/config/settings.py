"""Deployment settings from environment variables: tokens, endpoints, database URL.

Problems name the env var and never echo a value (it may be a secret).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.errors import _PROBLEM, ConfigError, _hint, _invalid, _q, _unique


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid(f"{_q(value)} is not an http(s) URL")
    return value


class Settings(BaseSettings):
    """Deployment settings from environment variables (field name = env var name, lower-cased).

    Built only by the composition root (`load_settings()`), never at import. Secrets are SecretStr, and
    DATABASE_URL (which may hold a password) is left out of repr.
    """

    model_config = SettingsConfigDict(
        env_ignore_empty=True, extra="ignore", env_prefix="", case_sensitive=False
    )

    deskwatch_config: Path = Path("deskwatch.yaml")
    database_url: str = Field("sqlite:///deskwatch.db", repr=False)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_url: str | None = None
    zendesk_webhook_secret: SecretStr | None = None
    intercom_access_token: SecretStr | None = None
    intercom_client_secret: SecretStr | None = None
    intercom_url: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """Strip pasted whitespace; an empty override means 'not set' (the default), like an empty env var."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if sep and scheme.lower() in ("postgres", "postgresql"):
            value = f"postgresql+psycopg://{rest}"
        try:
            make_url(value)
        except ArgumentError:
            raise _invalid(
                "is not a database URL (e.g. sqlite:///deskwatch.db or postgresql://user:password@host:5432/deskwatch)"
            ) from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        _http_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("zendesk_url")
    @classmethod
    def _zendesk_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        base = _http_url(value).rstrip("/")
        if base.lower().endswith("/api/v2"):
            raise _invalid(
                f"{_q(value)} must be the base URL without /api/v2 (e.g. https://acme.zendesk.com or "
                f"http://127.0.0.1:8025); Deskwatch adds /api/v2 itself"
            )
        return base

    @field_validator("intercom_url")
    @classmethod
    def _intercom_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value).rstrip("/")

    @field_validator("zendesk_subdomain")
    @classmethod
    def _zendesk_subdomain(cls, value: str | None) -> str | None:
        """Accept `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/` and keep `acme`."""
        if value is None:
            return None
        text = re.sub(r"^https?://", "", value.lower()).rstrip("/")
        text = text.removesuffix(".zendesk.com")
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", text):
            raise _invalid(
                f"{_q(value)} is not a Zendesk subdomain (the `acme` in acme.zendesk.com; "
                "use ZENDESK_URL for another host)"
            )
        return text

    @field_validator("zendesk_email")
    @classmethod
    def _zendesk_email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise _invalid(
                f"{_q(value)} is not an email address (the Zendesk agent the API token belongs to)"
            )
        return value

    @property
    def zendesk_enabled(self) -> bool:
        return bool(
            (self.zendesk_subdomain or self.zendesk_url) and self.zendesk_email and self.zendesk_api_token
        )

    @property
    def intercom_enabled(self) -> bool:
        return self.intercom_access_token is not None


_ZENDESK_VARS = (
    "zendesk_subdomain",
    "zendesk_url",
    "zendesk_email",
    "zendesk_api_token",
    "zendesk_webhook_secret",
)
_INTERCOM_VARS = ("intercom_client_secret", "intercom_url")


def settings_problems(settings: Settings) -> list[str]:
    """Half-configured integrations, one actionable line each; a helpdesk with nothing set is just off."""
    problems: list[str] = []
    zendesk_set = [name.upper() for name in _ZENDESK_VARS if getattr(settings, name) is not None]
    if zendesk_set and not settings.zendesk_enabled:
        present = ", ".join(zendesk_set) + (" are" if len(zendesk_set) > 1 else " is")
        off = "or unset the ZENDESK_* variables to turn Zendesk off"
        if not (settings.zendesk_subdomain or settings.zendesk_url):
            problems.append(
                f"ZENDESK_SUBDOMAIN is not set but {present} set: set ZENDESK_SUBDOMAIN (the `acme` in "
                f"acme.zendesk.com) or ZENDESK_URL, {off}"
            )
        if not settings.zendesk_email:
            problems.append(
                f"ZENDESK_EMAIL is not set but {present} set: set ZENDESK_EMAIL to the agent email that owns "
                f"the API token, {off}"
            )
        if not settings.zendesk_api_token:
            problems.append(
                f"ZENDESK_API_TOKEN is not set but {present} set: set ZENDESK_API_TOKEN to a Zendesk API "
                f"token (Admin Center > Apps and integrations > Zendesk API), {off}"
            )
    intercom_set = [name.upper() for name in _INTERCOM_VARS if getattr(settings, name) is not None]
    if intercom_set and not settings.intercom_enabled:
        problems.append(
            f"INTERCOM_ACCESS_TOKEN is not set but {', '.join(intercom_set)} "
            f"{'are' if len(intercom_set) > 1 else 'is'} set: set INTERCOM_ACCESS_TOKEN to "
            "an Intercom access token, or unset the INTERCOM_* variables to turn Intercom off"
        )
    bot, app = settings.slack_bot_token, settings.slack_app_token
    if bot is not None and bot.get_secret_value().startswith("xapp-"):
        problems.append(
            "SLACK_BOT_TOKEN holds an app-level token (xapp-...): put it in SLACK_APP_TOKEN instead"
        )
    if app is not None and app.get_secret_value().startswith(("xoxb-", "xoxp-")):
        problems.append(
            "SLACK_APP_TOKEN holds a bot/user token (xox...): use the app-level token (xapp-...), and put "
            "the bot token (xoxb-...) in SLACK_BOT_TOKEN"
        )
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment plus keyword overrides; raise ConfigError naming each env var."""
    values = {key.lower(): value for key, value in overrides.items()}
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        known = [name.upper() for name in Settings.model_fields]
        raise ConfigError(
            [f"{key.upper()}: not a Deskwatch setting{_hint(key.upper(), known)}" for key in unknown]
        )
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_settings_lines(exc)) from None


def _settings_lines(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        name = str(err["loc"][0]).upper() if err["loc"] else "<settings>"
        if err["type"] == _PROBLEM:
            lines.append(f"{name}: {err['msg']}")
        else:  # never echo the input: it may be a secret
            lines.append(f"{name}: invalid value ({err.get('msg', err['type'])})")
    return _unique(lines)
