"""Post decided alerts to Slack: once, never twice, never lost.

Order of operations per alert: the decision is already in the store (pending) -> claim it (sending) ->
post -> mark posted with channel/ts. A crash after posting but before marking leaves the row
'sending'; when its claim goes stale the next sweep looks for the message in the channel history
(by its message metadata) before posting, so the crash neither loses nor duplicates the alert.
Each message is sent and failed on its own: one bad alert cannot stop the ones after it.
Posts are paced per channel (Slack allows about one message per second per channel), and channels
are served in parallel so a burst spread over many channels is not serialised.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.alerts import render_alert
from bot.blocks.metadata import alert_id_from_metadata, alert_message_metadata
from bot.domain.model import AlertKind
from bot.metrics import Metrics
from bot.services.sla import SlaService
from bot.store.repository import AlertStatus, Store, StoredAlert

log = structlog.get_logger(__name__)

STALE_CLAIM = timedelta(minutes=2)
MAX_PER_CHANNEL = 60
MAX_RETRY_DELAY = timedelta(hours=1)
FIRST_RETRY_DELAY = timedelta(seconds=30)


class ChannelPacer:
    """Keeps at least `interval` seconds between two posts to the same channel (thread-safe)."""

    def __init__(
        self,
        interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_allowed: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Block until `channel` may receive a post; returns the seconds waited."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_allowed.get(channel, now))
            self._next_allowed[channel] = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay

    def sent(self, channel: str) -> None:
        """Count the interval from when Slack answered, so network jitter cannot squeeze two posts
        into one second on Slack's side."""
        with self._lock:
            done = self._monotonic() + self.interval
            self._next_allowed[channel] = max(self._next_allowed.get(channel, done), done)


@dataclass
class DeliveryReport:
    posted: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    def merge(self, other: DeliveryReport) -> None:
        self.posted += other.posted
        self.recovered += other.recovered
        self.failed += other.failed
        self.cancelled += other.cancelled


class AlertDelivery:
    def __init__(
        self,
        *,
        store: Store,
        slack: WebClient,
        sla: SlaService,
        metrics: Metrics,
        pacer: ChannelPacer,
        max_parallel_channels: int = 16,
    ) -> None:
        self.store = store
        self.slack = slack
        self.sla = sla
        self.metrics = metrics
        self.pacer = pacer
        self.max_parallel_channels = max_parallel_channels

    def deliver_due(self, *, now: datetime) -> DeliveryReport:
        due = self.store.due_for_delivery(now=now, stale_after=STALE_CLAIM)
        report = DeliveryReport()
        if not due:
            return report
        by_channel: dict[str, list[StoredAlert]] = defaultdict(list)
        for alert in due:
            # At ~1 post/s per channel, a sweep takes at most MAX_PER_CHANNEL seconds per channel, well
            # inside STALE_CLAIM; the rest waits for the next sweep (10 s later).
            if len(by_channel[alert.channel]) < MAX_PER_CHANNEL:
                by_channel[alert.channel].append(alert)
        if len(by_channel) == 1:
            report.merge(self._deliver_channel(next(iter(by_channel.values())), now))
            return report
        workers = min(self.max_parallel_channels, len(by_channel))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-post") as pool:
            for part in pool.map(lambda alerts: self._deliver_channel(alerts, now), by_channel.values()):
                report.merge(part)
        return report

    def _deliver_channel(self, alerts: list[StoredAlert], now: datetime) -> DeliveryReport:
        report = DeliveryReport()
        # Warnings before breaches for the same deadline, so a breach can thread under its warning.
        for alert in sorted(alerts, key=lambda a: (a.due_at, a.kind is AlertKind.BREACH, a.id)):
            self._deliver_one(alert, now, report)
        return report

    def _deliver_one(self, alert: StoredAlert, now: datetime, report: DeliveryReport) -> None:
        if not self.store.claim(alert, now=now):
            return  # another sweep or replica took it
        try:
            # A stale claim may have been posted just before a crash: look before deciding anything else.
            if alert.status == AlertStatus.SENDING:
                found = self._find_posted(alert)
                if found is not None:
                    ts, thread_ts = found
                    self.store.mark_posted(alert.id, ts=ts, thread_ts=thread_ts, now=now)
                    log.info("alert_recovered", alert_id=alert.id, ref=str(alert.ref), ts=ts)
                    report.recovered.append(alert.id)
                    return
            check = self.sla.recheck(alert, now=now)
            if check.reason is not None or check.item is None:
                self.store.mark_cancelled(alert.id, reason=check.reason or "ticket missing")
                self.metrics.alerts_cancelled.inc()
                log.info("alert_cancelled", alert_id=alert.id, ref=str(alert.ref), reason=check.reason)
                report.cancelled.append(alert.id)
                return
            message = render_alert(self.sla.alert_view(alert, check.item, check.deadline), now=now)
            thread_ts = None
            if alert.kind is AlertKind.BREACH:
                warning = self.store.posted_warning(alert.ref, alert.metric, alert.cycle)
                if warning is not None and warning.channel == alert.channel and warning.ts:
                    thread_ts = warning.ts
            self.pacer.wait(alert.channel)
            try:
                response = self.slack.chat_postMessage(
                    channel=alert.channel,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread_ts,
                    reply_broadcast=True if thread_ts else None,
                    metadata=alert_message_metadata(alert.id),
                    unfurl_links=False,
                    unfurl_media=False,
                )
            finally:
                self.pacer.sent(alert.channel)
        except SlackApiError as exc:
            self._failed(alert, now, str(exc.response.get("error") or exc.response.status_code), report)
            return
        except OSError as exc:  # connection refused/reset after the client's own retries
            self._failed(alert, now, f"connection error: {type(exc).__name__}", report)
            return
        self.store.mark_posted(alert.id, ts=response["ts"], thread_ts=thread_ts, now=now)
        self.metrics.alerts_posted.labels(alert.kind.value).inc()
        log.info("alert_posted", alert_id=alert.id, ref=str(alert.ref), kind=alert.key, channel=alert.channel)
        report.posted.append(alert.id)

    def _failed(self, alert: StoredAlert, now: datetime, error: str, report: DeliveryReport) -> None:
        delay = min(FIRST_RETRY_DELAY * (2 ** max(alert.attempts, 0)), MAX_RETRY_DELAY)
        self.store.mark_failed(alert.id, error=error, retry_at=now + delay)
        self.metrics.alerts_failed.labels(error[:40]).inc()
        log.warning(
            "alert_post_failed",
            alert_id=alert.id,
            ref=str(alert.ref),
            channel=alert.channel,
            error=error,
            retry_in_seconds=int(delay.total_seconds()),
        )
        report.failed.append(alert.id)

    def _find_posted(self, alert: StoredAlert) -> tuple[str, str | None] | None:
        """Look for this alert's message (by metadata) posted around the time it was claimed."""
        oldest = (alert.claimed_at or alert.decided_at) - timedelta(minutes=1)
        cursor = None
        for _ in range(10):
            page = self.slack.conversations_history(
                channel=alert.channel,
                oldest=f"{oldest.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in page.get("messages", []):
                if alert_id_from_metadata(message.get("metadata")) == alert.id:
                    return message["ts"], message.get("thread_ts") if message.get("thread_ts") != message[
                        "ts"
                    ] else None
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None
