"""Logging set-up, called from the composition root only.

structlog events and standard-library records (Bolt, APScheduler, urllib3, zenpy, slack_sdk, httpx)
go through the same processors, so every line is scrubbed the same way: configured secret values become
`[redacted]` and card numbers / IBANs are masked, in the message, every field and exception text.
slack_sdk logs whole request bodies at DEBUG, so without this a ticket's card number would reach the logs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import structlog

from bot.domain.redact import IDENTIFIER_KEYS, redact_escaped

REDACTED = "[redacted]"
NOISY_LOGGERS = ("apscheduler", "urllib3", "httpx", "zenpy", "slack_bolt", "slack_sdk")


def secret_scrubber(secrets: Iterable[str]):
    """A structlog processor replacing configured secret values and masking card numbers in every field.

    Secrets go everywhere; values under identifier keys (`ts`, `channel`, ...) keep their digits. Nested
    dicts and lists are scrubbed too; other objects become their scrubbed repr when it held something.
    """
    values = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def clean_text(text: str, cards: bool) -> str:
        for secret in values:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return redact_escaped(text) if cards else text  # SDKs log dict reprs: `4111\xa01111...`

    def clean(value: Any, cards: bool = True) -> Any:
        if isinstance(value, str):
            return clean_text(value, cards)
        if isinstance(value, dict):
            return {k: clean(v, cards and k not in IDENTIFIER_KEYS) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(item, cards) for item in value]
        if value is None or isinstance(value, bool):
            return value
        shown = str(value) if isinstance(value, int | float) else repr(value)
        scrubbed = clean_text(shown, cards)
        return value if scrubbed == shown else scrubbed

    def scrub(_logger, _method, event_dict):
        for key, value in list(event_dict.items()):
            if not key.startswith("_"):
                event_dict[key] = clean(value, key not in IDENTIFIER_KEYS)
        return event_dict

    return scrub


class _Stderr:
    """Resolves sys.stderr at each write, so a swapped or captured stderr (tests, daemons) keeps working."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _DeskwatchHandler(logging.StreamHandler):
    """Marks the root handler `configure_logging` installs, so a second call replaces it."""


def configure_logging(*, json_logs: bool, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Configure structlog and the stdlib root logger; safe to call again (the handler is replaced)."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    scrub = secret_scrubber(list(secrets))
    renderer = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, scrub, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),
        cache_logger_on_first_use=False,
    )
    handler = _DeskwatchHandler(_Stderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                scrub,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _DeskwatchHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    # Libraries stay at WARNING unless the operator asked for DEBUG (then their request logs are scrubbed).
    library_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(library_level)
