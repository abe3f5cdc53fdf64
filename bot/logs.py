"""structlog set-up, called from the composition root only. Secrets are scrubbed from every event."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

import structlog

REDACTED = "[redacted]"


def secret_scrubber(secrets: Iterable[str]):
    """A structlog processor replacing any configured secret value that sneaks into an event."""
    values = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def scrub(_logger, _method, event_dict):
        if not values:
            return event_dict
        for key, value in list(event_dict.items()):
            if isinstance(value, str):
                for secret in values:
                    if secret in value:
                        value = value.replace(secret, REDACTED)
                event_dict[key] = value
        return event_dict

    return scrub


class _Stderr:
    """Resolves sys.stderr at each write, so a swapped or captured stderr (tests, daemons) keeps working."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(*, json_logs: bool, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=getattr(logging, level.upper(), 20))
    for noisy in ("apscheduler", "urllib3", "httpx", "zenpy", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            secret_scrubber(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), 20)),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),
        cache_logger_on_first_use=False,
    )
