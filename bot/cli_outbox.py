"""`deskwatch outbox list` and `deskwatch outbox retry`: every Slack post and update, and its delivery
state. Registered on `outbox_cli` by `bot.cli` (imported at its end)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import _fail_config, load_all, outbox_cli


# -- outbox --------------------------------------------------------------------------------------
def _outbox_store():
    from bot.store.db import make_engine, upgrade
    from bot.store.outbox import OutboxStore

    settings, _ = load_all()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return OutboxStore(engine)


@outbox_cli.command("list")
def outbox_list(
    state: Annotated[
        str | None, typer.Option(help="pending, sending, unknown, posted, dead or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many rows, newest first.")] = 50,
) -> None:
    """Show outbox rows with their state, attempts and reasons."""
    from bot.store.outbox import OutboxState

    if state is not None and state not in OutboxState.ALL:
        _fail_config([f"--state: {state!r} is not one of {', '.join(OutboxState.ALL)}"])
    store = _outbox_store()
    rows = store.list(state=state, limit=limit)
    counts = store.counts_by_state()
    typer.echo(
        "Outbox: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        if any(counts.values())
        else "Outbox: empty"
    )
    for row in rows:
        when = row.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        line = (
            f"{row.id:>6}  {row.state:<9} {row.kind:<12} {row.channel or '-':<12} {row.key:<32} "
            f"tries {row.attempts}  {when} UTC"
        )
        if row.last_error:
            line += f"  reason: {row.last_error}"
        typer.echo(line)


@outbox_cli.command("retry")
def outbox_retry(
    row_id: Annotated[int, typer.Argument(help="The id of a dead row (see `outbox list`).")],
) -> None:
    """Re-queue a dead row after fixing its cause (for example after inviting the bot)."""
    from bot.app import utc_now

    store = _outbox_store()
    row = store.get(row_id)
    if row is None:
        typer.echo(f"deskwatch: no outbox row {row_id}", err=True)
        raise typer.Exit(1)
    if store.requeue(row_id, now=utc_now()) is None:
        typer.echo(
            f"deskwatch: outbox row {row_id} is {row.state}, not dead: only dead rows are retried", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"Outbox row {row_id} ({row.key}) re-queued; it goes out on the next delivery pass.")
