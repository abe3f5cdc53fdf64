"""`deskwatch webhooks install`: point the helpdesks' webhooks at `serve` (`/webhooks/zendesk`,
`/webhooks/intercom`). Registered on `cli` by `bot.cli` (imported at its end)."""

from __future__ import annotations

import hmac
from typing import Annotated

import typer

from bot.cli import _fail_config, cli, load_all

webhooks_cli = typer.Typer(help="Helpdesk webhooks: real-time re-reads between polls.", no_args_is_help=True)
cli.add_typer(webhooks_cli, name="webhooks")

# What changes a conversation's deadlines or route; each notification's `data.item` is the conversation.
INTERCOM_TOPICS = (
    "conversation.user.created",
    "conversation.user.replied",
    "conversation.admin.replied",
    "conversation.admin.single.created",
    "conversation.admin.assigned",
    "conversation.admin.closed",
    "conversation.admin.opened",
    "conversation.admin.snoozed",
    "conversation.admin.unsnoozed",
    "conversation.priority.updated",
)


@webhooks_cli.command("install")
def webhooks_install(
    url: Annotated[
        str, typer.Option(help="Public base URL of `deskwatch serve`, e.g. https://dw.example.com")
    ],
    show_secret: Annotated[
        bool,
        typer.Option("--show-secret", help="Print Zendesk's signing secret (to set ZENDESK_WEBHOOK_SECRET)."),
    ] = False,
) -> None:
    """Create or update the Zendesk webhook and its trigger (idempotent); print the Intercom topics."""
    from bot.app import build_helpdesks
    from bot.domain.model import Source
    from integrations.base import HelpdeskError
    from integrations.zendesk_webhooks import ZendeskWebhookInstaller

    settings, _ = load_all()
    base = url.rstrip("/")
    if not base.startswith("https://"):
        _fail_config([f"--url: must start with https:// (Zendesk and Intercom call it), got {url!r}"])
    helpdesks = build_helpdesks(settings)
    if not helpdesks:
        _fail_config(["no helpdesk configured: set the Zendesk or Intercom credentials"])
    zendesk = helpdesks.get(Source.ZENDESK)
    if zendesk is not None:
        try:
            result = ZendeskWebhookInstaller(zendesk).install(f"{base}/webhooks/zendesk")  # type: ignore[arg-type]
        except HelpdeskError as exc:
            typer.echo(f"Zendesk: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(
            f"Zendesk: webhook {result.webhook_id} {'created' if result.webhook_created else 'updated'}, "
            f"trigger {result.trigger_id} {'created' if result.trigger_created else 'updated'} "
            f"-> {base}/webhooks/zendesk"
        )
        configured = settings.zendesk_webhook_secret
        if result.signing_secret is None:
            typer.echo("Zendesk: the signing secret could not be read (an app-owned webhook?)", err=True)
        elif configured is not None and hmac.compare_digest(
            configured.get_secret_value(), result.signing_secret
        ):
            typer.echo("Zendesk: ZENDESK_WEBHOOK_SECRET matches the webhook's signing secret.")
        elif show_secret:
            typer.echo(f"Zendesk: set ZENDESK_WEBHOOK_SECRET={result.signing_secret}")
        else:
            typer.echo(
                "Zendesk: set ZENDESK_WEBHOOK_SECRET to the webhook's signing secret "
                "(Admin Center > Webhooks, or run again with --show-secret)."
            )
    if Source.INTERCOM in helpdesks:
        typer.echo(
            f"Intercom: in the Developer Hub (your app > Webhooks) set the endpoint {base}/webhooks/intercom"
        )
        typer.echo("Intercom: and subscribe to these topics:")
        for topic in INTERCOM_TOPICS:
            typer.echo(f"  {topic}")
        if settings.intercom_client_secret is None:
            typer.echo("Intercom: set INTERCOM_CLIENT_SECRET to the app's client secret (Basic information).")
