"""`deskwatch sync [--backfill 56d]` and `deskwatch digest send`: the digest history and digests by hand.

Registered on the main `cli` by `bot.cli` (imported at its end)."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from typing import Annotated

import typer

from bot.cli import EXIT_CONFIG, _progress_printer, cli, load_all
from bot.domain.model import Source

digest_cli = typer.Typer(help="Daily standup digests and weekly reports.", no_args_is_help=True)
cli.add_typer(digest_cli, name="digest")


def _backfill_span(text: str) -> timedelta:
    from bot.domain.durations import parse_duration

    try:
        span = parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if span <= timedelta(0):
        raise typer.BadParameter("the backfill span must be positive, e.g. 56d")
    return span


@cli.command("sync")
def sync(
    backfill: Annotated[
        str | None,
        typer.Option(
            "--backfill",
            metavar="SPAN",
            help="Also re-read the digest history this far back (e.g. 56d); what is stored is kept.",
        ),
    ] = None,
) -> None:
    """Sync changed tickets and the digest history (events, SLA outcomes, ratings) once."""
    from bot.app import build_deps

    span = _backfill_span(backfill) if backfill is not None else None
    settings, config = load_all()
    deps = build_deps(settings, config)
    if not deps.helpdesks:
        typer.echo("No helpdesk has credentials (ZENDESK_* / INTERCOM_ACCESS_TOKEN): nothing to sync.")
        raise typer.Exit(EXIT_CONFIG)
    now = deps.clock()
    failed = False
    for result in deps.sync.sync_all(now=now, progress=_progress_printer()):
        line = f"{result.source.label}: {result.items} items synced with {result.api_calls} API calls"
        if result.error:
            failed = True
            line += f" - FAILED: {result.error}"
        typer.echo(line)
    if span is not None and span > config.retention.history:
        typer.echo(
            f"Note: retention.history is {config.retention.history.days} days: older history is pruned "
            "again within the hour (raise retention.history to keep more)."
        )
    since = now - span if span is not None else None
    with _HistoryProgress(since, now) as progress:
        if since is not None:
            results = deps.history.backfill(since, now=now, progress=progress)
        else:
            results = deps.history.pull(now=now, progress=progress)
    for history in results:
        line = (
            f"{history.source.label} history: {history.records} new records "
            f"({history.pages} pages, {history.api_calls} API calls)"
        )
        if history.error:
            failed = True
            line += f" - FAILED: {history.error} (run again to resume)"
        typer.echo(line)
    if failed:
        raise typer.Exit(1)


class _HistoryProgress:
    """A progress bar per helpdesk from `since` to `now` (the time each feed has read up to)."""

    def __init__(self, since: datetime | None, now: datetime) -> None:
        self.since, self.now = since, now
        self.bar = None
        self.source: Source | None = None
        self.shown = 0

    def __enter__(self):
        return self if self.since is not None else None

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None

    def __call__(self, source: Source, reached: datetime | None, records: int) -> None:
        total = int((self.now - self.since).total_seconds())  # type: ignore[operator]
        if source != self.source:
            self._close()
            self.source, self.shown = source, 0
            self.bar = typer.progressbar(
                length=max(total, 1), label=f"{source.label} history", file=sys.stderr
            )
            self.bar.render_progress()
        if reached is None or self.bar is None:
            return
        done = min(max(int((reached - self.since).total_seconds()), 0), total)  # type: ignore[operator]
        if done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done


@digest_cli.command("send")
def digest_send(
    team: Annotated[str, typer.Option("--team", help="The configured team, e.g. billing.")],
    on: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="The send date (team timezone); default today."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the digest as text; post nothing.")
    ] = False,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Only this schedule (e.g. daily, weekly).")
    ] = None,
) -> None:
    """Send (or print) the team's digest that goes out on that date: a Tuesday's covers Monday."""
    from bot.app import build_deps
    from bot.blocks.digest import digest_text
    from bot.services.digests import UnknownTeam

    settings, config = load_all()
    deps = build_deps(settings, config)
    now = deps.clock()
    try:
        schedules = _schedules(deps, team, schedule)
    except UnknownTeam as exc:
        typer.echo(f"deskwatch: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    tz = config.team_tz(schedules[0].team)
    day = _date(on) if on else now.astimezone(tz).date()
    if deps.helpdesks:
        deps.history.pull(now=now)
    for digest in schedules:
        send_at = deps.digests.send_time_on(digest, day)
        if send_at > now and not dry_run:
            typer.echo(
                f"deskwatch: the {digest.schedule_name} digest of {day} covers a window that has not ended"
            )
            raise typer.Exit(1)
        if dry_run:
            typer.echo(digest_text(deps.digests.view(digest, send_at, now=now), escape=False))
            typer.echo("")
            continue
        queued = deps.digests.enqueue(digest, send_at, now=now)
        if queued is None:
            typer.echo(f"{digest.team} {digest.schedule_name} digest of {day}: already sent (one per date)")
            continue
        report = deps.outbox.drain(now=now, max_seconds=60)
        state = "posted" if report.posted else "queued (see `deskwatch outbox list`)"
        typer.echo(f"{digest.team} {digest.schedule_name} digest of {day}: {state}")


def _schedules(deps, team: str, name: str | None):
    from bot.config.digests import digests_for

    daily = deps.digests.schedule(team)  # raises UnknownTeam
    configured = digests_for(deps.config, daily.team)
    if name is not None:
        picked = [d for d in configured if d.schedule_name == name]
        if not picked and name in ("daily", "weekly"):
            picked = [deps.digests.schedule(team, weekly=name == "weekly")]
        if not picked:
            names = ", ".join(d.schedule_name for d in configured) or "daily, weekly"
            typer.echo(f'deskwatch: team "{daily.team}" has no digest named "{name}" (use {names})', err=True)
            raise typer.Exit(EXIT_CONFIG)
        return picked
    return configured or [daily]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f'"{text}" is not a date: use YYYY-MM-DD, e.g. 2026-11-30') from None


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_lines(config, now: datetime | None = None) -> list[str]:
    """`Digest OK: billing daily at 09:15 Europe/London mon-fri (previous_business_day, holidays skipped)
    -> C0BILLING; next Tue 1 Dec 09:15`, one line per configured digest."""
    from bot.app import utc_now
    from bot.config.digests import digest_channel
    from bot.domain.digest_schedule import next_send_time

    now = now or utc_now()
    lines = []
    for digest in config.digests:
        tz = config.team_tz(digest.team)
        calendar = config.calendar_for(digest.team)
        days = ",".join(_DAY_NAMES[day] for day in digest.days)
        skip = ", holidays skipped" if digest.skip_holidays and calendar is not None else ""
        try:
            upcoming = next_send_time(digest.send_schedule(), tz, calendar, now).astimezone(tz)
            nxt = f"next {upcoming:%a} {upcoming.day} {upcoming:%b %H:%M %Z}"
        except ValueError as exc:
            nxt = f"NEVER SENT: {exc}"
        lines.append(
            f"Digest OK: {digest.team} {digest.schedule_name} at {digest.at:%H:%M} {tz} {days} "
            f"({digest.covers.value}{skip}) -> {digest_channel(config, digest)}; {nxt}"
        )
    return lines
