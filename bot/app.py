"""Composition root: builds settings-driven clients, the store, services, the Bolt app and the scheduler.

Nothing happens at import time; every function here is called by the CLI (or a test) with explicit
settings and configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.app_digests import build_digests
from bot.config import AppConfig, Settings
from bot.domain.model import Source
from bot.domain.redact import RedactionPolicy
from bot.metrics import Metrics
from bot.services.alert_delivery import ItemRefresher, SlaAlertPurpose, SlaAlertUpdatePurpose
from bot.services.deadlines import DeadlineKeeper
from bot.services.digests import DigestService
from bot.services.escalation_delivery import (
    HandoffPostPurpose,
    HandoffUpdatePurpose,
    NeedInfoDmPurpose,
    ThreadStepPurpose,
    WriteBackPurpose,
)
from bot.services.escalation_effects import (
    DM_PURPOSE,
    POST_PURPOSE,
    STEP_PURPOSE,
    UPDATE_PURPOSE,
    WRITE_PURPOSE,
)
from bot.services.escalations import EscalationService
from bot.services.group_delivery import (
    GROUP_UPDATE_PURPOSE,
    AlertGroupPurpose,
    AlertGroupUpdatePurpose,
    BacklogPurpose,
)
from bot.services.history import HistoryService
from bot.services.home import HomeService
from bot.services.outbox import Outbox
from bot.services.qa import QaService
from bot.services.qa_agents import QaAgents
from bot.services.qa_calibration import CalibrationService
from bot.services.qa_delivery import QaDmPurpose, QaRenderer, QaUpdatePurpose
from bot.services.qa_effects import CHANNEL_PURPOSE as QA_CHANNEL_PURPOSE
from bot.services.qa_effects import DM_PURPOSE as QA_DM_PURPOSE
from bot.services.qa_effects import UPDATE_PURPOSE as QA_UPDATE_PURPOSE
from bot.services.realtime import WebhookQueue
from bot.services.sla import SlaService
from bot.services.slack_directory import AgentDirectory, SlackDirectory
from bot.services.sweep import BACKLOG_PURPOSE, GROUP_PURPOSE, DeadlineSweep
from bot.services.sync import SyncService
from bot.services.ticket_summary import TicketLookup, live_fields
from bot.store.alerts import ALERT_PURPOSE, ALERT_UPDATE_PURPOSE
from bot.store.db import make_engine, upgrade
from bot.store.escalations import EscalationStore
from bot.store.home import HomeStore
from bot.store.outbox import OutboxStore
from bot.store.pacing import SharedPacer
from bot.store.qa import QaStore
from bot.store.repository import Store
from integrations.base import Helpdesk
from integrations.intercom import IntercomHelpdesk
from integrations.slack_client import RedactingWebClient, redacting_copy, redaction_middleware
from integrations.zendesk import ZendeskHelpdesk

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The one place production code reads the wall clock."""
    return datetime.now(UTC)


@dataclass
class Deps:
    """Everything listeners and jobs need, built once by `build_deps`."""

    settings: Settings
    config: AppConfig
    store: Store
    slack: WebClient
    helpdesks: dict[Source, Helpdesk]
    metrics: Metrics
    sla: SlaService
    sync: SyncService
    outbox: Outbox
    keeper: DeadlineKeeper
    sweep: DeadlineSweep
    escalations: EscalationService
    tickets: TicketLookup
    directory: SlackDirectory
    qa: QaService
    calibration: CalibrationService
    qa_renderer: QaRenderer
    qa_agents: QaAgents
    history: HistoryService
    digests: DigestService
    clock: Clock = field(default=utc_now)
    realtime: WebhookQueue | None = None  # webhook-driven re-reads (`deskwatch serve` runs its worker)
    home: HomeService | None = None  # the App Home board (views.publish, refreshed by jobs/home.py)

    def __deepcopy__(self, memo: dict) -> Deps:
        """Bolt deep-copies the request context for lazy listeners; services are shared, not copied."""
        return self


def interactive_retry_handlers() -> list:
    """Retries for calls that are safe to repeat (lookups, views, ephemeral answers): never posts."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]


def build_slack_client(settings: Settings) -> WebClient:
    """The interactive client (Bolt listeners: views, ephemeral replies, lookups), with retry handlers
    (RateLimitErrorRetryHandler is not on by default). Posts never go through it: see the outbox's."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return RedactingWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=interactive_retry_handlers(),
    )


def build_outbox_slack_client(settings: Settings, *, timeout: float = 10.0) -> WebClient:
    """The outbox's client: it retries only a 429 (Slack did nothing). A connection error or a 5xx
    after a post may have gone through, so it is never re-sent by the SDK: the outbox resolves it by
    looking the message up first. An explicit list matters: WebClient's default re-sends on any
    connection error."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return RedactingWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def redaction_policy(config: AppConfig) -> RedactionPolicy:
    return RedactionPolicy(emails=config.redact.emails, phones=config.redact.phones)


def _redacting(client: WebClient, policy: RedactionPolicy) -> RedactingWebClient:
    """Redaction happens once, here at the Slack boundary, on the final payload of every call."""
    if not isinstance(client, RedactingWebClient):
        client = redacting_copy(client, policy)
    client.redaction = policy
    return client


def build_helpdesks(settings: Settings) -> dict[Source, Helpdesk]:
    """Adapters for the helpdesks that have credentials; a helpdesk without credentials is not polled."""
    helpdesks: dict[Source, Helpdesk] = {}
    if settings.zendesk_enabled:
        helpdesks[Source.ZENDESK] = ZendeskHelpdesk(
            subdomain=settings.zendesk_subdomain,
            email=settings.zendesk_email or "",
            token=settings.zendesk_api_token.get_secret_value() if settings.zendesk_api_token else "",
            base_url=settings.zendesk_url,
        )
    if settings.intercom_enabled:
        helpdesks[Source.INTERCOM] = IntercomHelpdesk(
            token=settings.intercom_access_token.get_secret_value() if settings.intercom_access_token else "",
            base_url=settings.intercom_url,
        )
    return helpdesks


def build_deps(
    settings: Settings,
    config: AppConfig,
    *,
    clock: Clock = utc_now,
    migrate: bool = True,
    slack: WebClient | None = None,
    outbox_slack: WebClient | None = None,
    helpdesks: dict[Source, Helpdesk] | None = None,
    post_interval: float | None = None,
) -> Deps:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    store = Store(engine)
    metrics = Metrics()
    policy = redaction_policy(config)
    slack = _redacting(slack or build_slack_client(settings), policy)
    outbox_slack = _redacting(outbox_slack or build_outbox_slack_client(settings), policy)
    helpdesks = build_helpdesks(settings) if helpdesks is None else helpdesks
    sla = SlaService(store=store, config=config, metrics=metrics)
    keeper = DeadlineKeeper(
        store=store, deadlines=sla.deadline_store, sla=sla, config=config, metrics=metrics
    )
    sweep = DeadlineSweep(
        store=store, deadlines=sla.deadline_store, keeper=keeper, config=config, metrics=metrics
    )
    interval = (
        config.slack.post_interval_per_channel.total_seconds() if post_interval is None else post_interval
    )
    outbox_store = OutboxStore(engine)
    metrics.watch_outbox(outbox_store.counts_by_state)
    outbox = Outbox(
        store=outbox_store,
        slack=outbox_slack,
        pacer=SharedPacer(engine, interval),
        metrics=metrics,
        clock=clock,
    )
    refresher = ItemRefresher(
        store=store,
        helpdesks=helpdesks,
        metrics=metrics,
        on_stored=lambda items, now: keeper.refresh(items, now=now),
    )
    outbox.register(
        ALERT_PURPOSE, SlaAlertPurpose(store=store, sla=sla, refresher=refresher, metrics=metrics)
    )
    outbox.register(ALERT_UPDATE_PURPOSE, SlaAlertUpdatePurpose(store=store, sla=sla))
    outbox.register(GROUP_PURPOSE, AlertGroupPurpose(store=store, sla=sla, refresher=refresher))
    outbox.register(GROUP_UPDATE_PURPOSE, AlertGroupUpdatePurpose(store=store, sla=sla, outbox=outbox_store))
    outbox.register(BACKLOG_PURPOSE, BacklogPurpose(store=store, sla=sla, refresher=refresher))
    directory = SlackDirectory(slack=slack, clock=clock)
    tickets = TicketLookup(helpdesks=helpdesks, sla=sla)
    escalations = EscalationService(
        store=EscalationStore(engine),
        outbox=outbox,
        config=config,
        directory=directory,
        metrics=metrics,
        clock=clock,
        live_ticket=live_fields(store, tickets),
    )
    _register_escalation_purposes(
        outbox, escalations, outbox_store, helpdesks, directory, slack, policy, clock
    )

    qa, qa_renderer, qa_agents = _build_qa(
        engine, store, outbox, outbox_store, config, tickets, directory, helpdesks, metrics, clock
    )

    history, digests = build_digests(engine, store, outbox, config, helpdesks)

    def stored(items, now):
        keeper.refresh(items, now=now)
        escalations.on_items(items, now=now)

    return Deps(
        settings=settings,
        config=config,
        store=store,
        slack=slack,
        helpdesks=helpdesks,
        metrics=metrics,
        sla=sla,
        sync=SyncService(store=store, helpdesks=helpdesks, metrics=metrics, on_stored=stored),
        keeper=keeper,
        sweep=sweep,
        outbox=outbox,
        escalations=escalations,
        tickets=tickets,
        directory=directory,
        qa=qa,
        calibration=CalibrationService(qa),
        qa_renderer=qa_renderer,
        qa_agents=qa_agents,
        history=history,
        digests=digests,
        clock=clock,
        home=HomeService(
            store=HomeStore(engine),
            config=config,
            escalations=escalations,
            qa=qa,
            agents=qa_agents.agents,
            writers=qa_agents.writers,
            sources=helpdesks,
            slack=slack,
            clock=clock,
        ),
        realtime=WebhookQueue(
            store=store,
            helpdesks=helpdesks,
            keeper=keeper,
            escalations=escalations,
            sweep=sweep,
            outbox=outbox,
            metrics=metrics,
            clock=clock,
        ),
    )


def _writers(helpdesks: dict[Source, Helpdesk]):
    """One write-back client per helpdesk, made on first use (Intercom's asks GET /me once)."""
    writers: dict[Source, object] = {}

    def writer(source: Source):
        if source not in writers and source in helpdesks:
            make = getattr(helpdesks[source], "writer", None)
            writers[source] = make() if make is not None else None
        return writers.get(source)

    return writer


def _build_qa(engine, store, outbox, outbox_store, config, tickets, directory, helpdesks, metrics, clock):
    """QA scorecards: service, renderer, agent mapping and the outbox purposes of their messages."""
    agents = AgentDirectory(slack=directory, clock=clock)

    def assignee_of(ref):
        item = store.get_item(ref)
        return item.assignee_id if item is not None else None

    qa_agents = QaAgents(agents=agents, writers=_writers(helpdesks), assignee_of=assignee_of)

    def solved_items(since, until, status_from):
        picked = []
        for item in store.closed_between(since, until):
            if status_from == "closed" and item.status != "closed":
                continue
            user = qa_agents.slack_user(item.ref.source, item.assignee_id)
            if user is not None:
                picked.append((user, item.ref))
        return picked

    def url_of(ref):
        item = store.get_item(ref)
        return item.url if item is not None else None

    qa_store = QaStore(engine)
    renderer = QaRenderer(store=qa_store, config=config, url_of=url_of)
    qa = QaService(
        store=qa_store,
        outbox=outbox,
        config=config,
        tickets=tickets,
        directory=directory,
        metrics=metrics,
        clock=clock,
        solved_items=solved_items,
    )
    common = {"renderer": renderer, "outbox": outbox_store, "directory": directory}
    outbox.register(QA_DM_PURPOSE, QaDmPurpose(**common))
    outbox.register(QA_CHANNEL_PURPOSE, QaDmPurpose(**common))
    outbox.register(QA_UPDATE_PURPOSE, QaUpdatePurpose(**common))
    return qa, renderer, qa_agents


def _register_escalation_purposes(
    outbox: Outbox,
    escalations: EscalationService,
    outbox_store: OutboxStore,
    helpdesks: dict[Source, Helpdesk],
    directory: SlackDirectory,
    slack: WebClient,
    policy: RedactionPolicy,
    clock: Clock,
) -> None:
    """Handoff posts, updates, thread notes, the need-info DM and the helpdesk write-backs."""
    common = {"store": escalations.store, "outbox": outbox_store, "views": escalations.views}
    writer = _writers(helpdesks)

    outbox.register(POST_PURPOSE, HandoffPostPurpose(**common))
    outbox.register(UPDATE_PURPOSE, HandoffUpdatePurpose(**common))
    outbox.register(STEP_PURPOSE, ThreadStepPurpose(**common))
    outbox.register(DM_PURPOSE, NeedInfoDmPurpose(directory=directory, slack=slack, **common))
    outbox.register(
        WRITE_PURPOSE,
        WriteBackPurpose(
            writers=writer,
            agents=AgentDirectory(slack=directory, clock=clock),
            slack=slack,
            redaction=policy,
            **common,
        ),
    )


def build_bolt_app(
    deps: Deps, *, token_verification: bool = True, listener_executor: Executor | None = None
) -> App:
    """The one Bolt app: request verification on, every listener registered, deps in the context.
    `listener_executor` runs the lazy listeners (tests pass theirs to wait for them before stopping)."""
    from handlers import register_all

    signing_secret = deps.settings.slack_signing_secret
    app = App(
        client=deps.slack,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
        # Acks run on the request thread, so a burst of requests never queues an ack behind the lazy
        # work (views, lookups) of earlier ones in Bolt's listener pool; every slow step is lazy.
        process_before_response=True,
        **({"listener_executor": listener_executor} if listener_executor is not None else {}),
    )
    # Bolt builds its own WebClient, say and respond per request: swap in redacting ones.
    app.use(redaction_middleware(redaction_policy(deps.config)))
    register_all(app, deps)
    return app
