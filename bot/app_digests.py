"""Composition of the digest capability: history feeds per helpdesk, the history and digest services,
and the outbox purpose that posts digests. Called by `bot.app.build_deps`."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.config import AppConfig
from bot.domain.model import Source, TicketRef
from bot.services.digests import DIGEST_PURPOSE, DigestPurpose, DigestService
from bot.services.history import HistoryService
from bot.services.outbox import Outbox
from bot.store.history import HistoryStore
from bot.store.repository import Store
from integrations.base import Helpdesk
from integrations.history import HistoryFeed


def history_feeds(helpdesks: dict[Source, Helpdesk]) -> dict[Source, HistoryFeed]:
    """The history feed of each configured helpdesk (adapters without one are left out)."""
    from integrations.intercom import IntercomHelpdesk
    from integrations.intercom_history import IntercomHistory

    feeds: dict[Source, HistoryFeed] = {}
    for source, helpdesk in helpdesks.items():
        make = getattr(helpdesk, "history_feed", None)
        if make is not None:
            feeds[source] = make()
        elif isinstance(helpdesk, IntercomHelpdesk):
            feeds[source] = IntercomHistory(helpdesk)
    return feeds


def build_digests(
    engine: Engine, store: Store, outbox: Outbox, config: AppConfig, helpdesks: dict[Source, Helpdesk]
) -> tuple[HistoryService, DigestService]:
    history = HistoryService(
        engine=engine, store=HistoryStore(engine), feeds=history_feeds(helpdesks), config=config
    )

    def url_of(ref: str) -> str | None:
        """The synced copy's link, else the helpdesk's (solved tickets are not in the synced copy)."""
        parsed = TicketRef.parse(ref)
        item = store.get_item(parsed)
        if item is not None and item.url:
            return item.url
        helpdesk = helpdesks.get(parsed.source)
        return helpdesk.item_url(parsed.external_id) if helpdesk is not None else None

    digests = DigestService(engine=engine, history=history, config=config, outbox=outbox, url_of=url_of)
    outbox.register(DIGEST_PURPOSE, DigestPurpose())
    return history, digests
