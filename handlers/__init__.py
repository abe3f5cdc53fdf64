"""Thin Bolt listeners grouped by Slack surface; each module exposes `register(app)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from handlers import (
    actions,
    commands,
    digests,
    errors,
    escalate,
    events,
    handoff,
    home,
    qa,
    qa_actions,
    unfurls,
)

if TYPE_CHECKING:
    from bot.app import Deps


def register_all(app: App, deps: Deps) -> None:
    """Put `deps` into every request's context (listeners take a `deps` argument) and register all."""

    @app.middleware
    def inject_deps(context, next):  # noqa: A002 - Bolt's argument name
        context["deps"] = deps
        next()

    errors.register(app)
    commands.register(app)
    actions.register(app)
    events.register(app)
    escalate.register(app)
    handoff.register(app)
    qa.register(app)
    qa_actions.register(app)
    digests.register(app)
    home.register(app)
    unfurls.register(app)
