"""The `deskwatch` command line (typer). Every command loads settings and YAML first; a bad config
prints one actionable line per problem and exits 2, never a traceback."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bot.config import AppConfig, ConfigError, Settings, load_config, load_settings, settings_problems
from bot.domain.model import Source
from bot.logs import configure_logging

EXIT_CONFIG = 2

cli = typer.Typer(
    name="deskwatch",
    help="Deskwatch: SLA alerts, escalations, digests and QA for Zendesk and Intercom, in Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_cli = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema management.", no_args_is_help=True)
sla_cli = typer.Typer(help="SLA alerting.", no_args_is_help=True)
outbox_cli = typer.Typer(
    help="The outbox: every Slack post and update, and its delivery state.", no_args_is_help=True
)
escalations_cli = typer.Typer(help="Escalation handoffs and their audit trail.", no_args_is_help=True)
qa_cli = typer.Typer(help="QA scorecards: reviews, calibration, disputes.", no_args_is_help=True)
cli.add_typer(config_cli, name="config")
cli.add_typer(db_cli, name="db")
cli.add_typer(sla_cli, name="sla")
cli.add_typer(outbox_cli, name="outbox")
cli.add_typer(escalations_cli, name="escalations")
cli.add_typer(qa_cli, name="qa")


def _fail_config(problems: list[str]) -> None:
    typer.echo("deskwatch: configuration problems:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
    raise typer.Exit(EXIT_CONFIG)


def _secrets(settings: Settings) -> list[str]:
    values = []
    for name in (
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "zendesk_api_token",
        "zendesk_webhook_secret",
        "intercom_access_token",
        "intercom_client_secret",
    ):
        secret = getattr(settings, name, None)
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


def load_all(*, json_logs: bool = False) -> tuple[Settings, AppConfig]:
    """Settings from the environment plus the YAML file; exits 2 listing every problem."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail_config(exc.problems)
    problems = settings_problems(settings)
    try:
        config = load_config(settings.deskwatch_config)
    except ConfigError as exc:
        _fail_config(problems + exc.problems)
    if problems:
        _fail_config(problems)
    configure_logging(json_logs=json_logs, secrets=_secrets(settings))
    return settings, config


def _progress_printer():
    """Progress of a first sync on a terminal (a long backlog takes a while); silent when piped."""
    if not sys.stderr.isatty():
        return None

    def show(source: Source, count: int, pages: int, first_sync: bool) -> None:
        if first_sync:
            plural = "" if pages == 1 else "s"
            sys.stderr.write(f"\r{source.label}: {count:,} items synced ({pages:,} page{plural})…")
            sys.stderr.flush()

    return show


# -- config --------------------------------------------------------------------------------------
@config_cli.command("check")
def config_check() -> None:
    """Validate the YAML (escalation tiers and the QA rubric included) and environment, test each credential
    with one identity call, then check every configured channel (alerts and escalation tiers) and every
    responder user group in Slack."""
    from bot.app import build_helpdesks, build_slack_client
    from bot.services.channel_check import (
        check_channels,
        check_usergroups,
        configured_channels,
        configured_usergroups,
    )
    from bot.services.credentials import check_credentials

    settings, config = load_all()
    slack = build_slack_client(settings)
    problems = check_credentials(settings, slack=slack, helpdesks=build_helpdesks(settings))
    if not problems:
        typer.echo("Slack channels:")
        for check in check_channels(slack, configured_channels(config)):
            typer.echo(f"  {check.line()}")
            if not check.ok:
                problems.append(f"channel {check.channel} ({check.used_by}): {check.detail}")
        groups = configured_usergroups(config)
        if groups:
            typer.echo("Slack user groups:")
            for group in check_usergroups(slack, groups):
                typer.echo(f"  {group.line()}")
                if not group.ok:
                    problems.append(f"user group {group.group} ({group.used_by}): {group.detail}")
    problems += _outbox_warnings(settings)
    if problems:
        _fail_config(problems)
    teams = ", ".join(t.name for t in config.teams) or "none"
    typer.echo(f"Configuration OK: {settings.deskwatch_config} (teams: {teams})")
    if config.escalation is not None:
        tiers = " -> ".join(t.name for t in config.escalation.tiers)
        reasons = len(config.escalation.reasons)
        typer.echo(f"Escalation OK: tiers {tiers}; {reasons} reason{'' if reasons == 1 else 's'}")
    if config.qa is not None:
        typer.echo(_qa_line(config))
    if config.digests:
        from bot.cli_digests import digest_lines

        for line in digest_lines(config):
            typer.echo(line)
    typer.echo(f"Helpdesks polled: {', '.join(s.label for s in build_helpdesks(settings)) or 'none'}")


def _qa_line(config: AppConfig) -> str:
    """`QA OK: rubric 64a5e9d325db (4 categories, scale 1-5, pass 80%), 1 reviewer (plus team managers:
    3 in all)`, then the weekly sample when one is configured."""
    qa = config.qa
    assert qa is not None
    rubric = qa.rubric()
    categories = len(rubric.categories)
    reviewers = len(qa.reviewers)
    everyone = qa.all_reviewers(m for team in config.teams for m in team.managers)
    line = (
        f"QA OK: rubric {rubric.version} ({categories} {'category' if categories == 1 else 'categories'}, "
        f"scale 1-{rubric.scale}, pass {rubric.pass_mark}%), "
        f"{reviewers} reviewer{'' if reviewers == 1 else 's'} (plus team managers: {len(everyone)} in all)"
    )
    if qa.sample is not None:
        line += f"; weekly sample: {qa.sample.per_agent_per_week} per agent from {qa.sample.from_} tickets"
    return line


def _outbox_warnings(settings: Settings) -> list[str]:
    """Rows whose outcome is unknown wait on a lookup the bot cannot make: a human must let it read."""
    from bot.store.db import current_revision, make_engine
    from bot.store.outbox import OutboxState, OutboxStore

    engine = make_engine(settings.database_url)
    try:
        if current_revision(engine) is None:
            return []
        unknown = OutboxStore(engine).list(state=OutboxState.UNKNOWN, limit=20)
    except Exception:  # an unreachable database is reported by the commands that need it
        return []
    finally:
        engine.dispose()
    return [
        f"outbox row {row.id} ({row.key}) in {row.channel}: outcome unknown, not re-sent until it can "
        f"be looked up: {row.last_error}"
        for row in unknown
    ]


# -- db ------------------------------------------------------------------------------------------
@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema (alembic migrations shipped in the package)."""
    from bot.store.db import current_revision, make_engine, upgrade

    settings, _ = load_all()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo(f"Database at revision {current_revision(engine)}")


# -- sla -----------------------------------------------------------------------------------------
@sla_cli.command("scan")
def sla_scan(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Sync and show what would be posted; post nothing.")
    ] = False,
) -> None:
    """One pass: sync changed tickets, evaluate every deadline, post due alerts."""
    from bot.app import build_deps
    from jobs.sla import scan

    settings, config = load_all()
    deps = build_deps(settings, config)
    if not deps.helpdesks:
        typer.echo(
            "No helpdesk has credentials (ZENDESK_* / INTERCOM_ACCESS_TOKEN): evaluating stored state only."
        )
    report = scan(deps, deps.clock(), dry_run=dry_run, progress=_progress_printer())
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    for result in report.syncs:
        line = f"{result.source.label}: {result.items} items synced with {result.api_calls} API calls"
        if result.first_sync:
            line += " (first sync)"
        if result.error:
            line += f" - FAILED: {result.error} (alerts evaluated from stored state)"
        typer.echo(line)
    if dry_run:
        typer.echo(f"Dry run: {len(report.would_post)} alert(s) would be posted")
        for routed in report.would_post:
            d = routed.decision.deadline
            typer.echo(
                f"  {routed.decision.key:<10} {d.ref!s:<12} {d.metric:<22} due {d.due_at:%Y-%m-%d %H:%M} UTC"
                f" -> {routed.channel}"
            )
    else:
        assert report.sweep is not None
        delivery = report.sweep.delivery
        typer.echo(
            f"Alerts: {len(report.sweep.decided)} decided, {len(delivery.posted)} posted, "
            f"{len(delivery.recovered)} recovered, {len(delivery.failed)} failed (will retry), "
            f"{len(delivery.unknown)} unknown (looked up before any re-send), {len(delivery.dead)} dead, "
            f"{len(delivery.cancelled)} no longer due"
        )
        if delivery.dead:
            typer.echo("See `deskwatch outbox list --state dead` for the reasons.")
    if report.sync_failed:
        raise typer.Exit(1)


# -- escalations ---------------------------------------------------------------------------------
@escalations_cli.command("export")
def escalations_export(
    fmt: Annotated[
        str, typer.Option("--format", help="csv (with a header row) or json (one array).")
    ] = "csv",
    since: Annotated[
        str | None, typer.Option(help="Only events on or after this UTC day, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Print every audit event (created, accepted, re-pinged, resolved...), oldest first."""
    from bot.services.escalation_export import write_export
    from bot.store.escalations import EscalationStore

    _export(
        fmt,
        since,
        lambda engine, start: write_export(EscalationStore(engine).events(since=start), sys.stdout, fmt=fmt),
    )


def _export(fmt: str, since: str | None, write) -> None:
    """Shared by the exports: check --format/--since (exit 2 with a clear line), then `write(engine, start)`
    to stdout on a migrated database."""
    from bot.services.escalation_export import FORMATS, ExportError, parse_since
    from bot.store.db import make_engine, upgrade

    try:
        if fmt not in FORMATS:
            raise ExportError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        start = parse_since(since)
    except ExportError as exc:
        typer.echo(f"deskwatch: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    settings, _ = load_all()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        write(engine, start)
        sys.stdout.flush()
    finally:
        engine.dispose()


# -- qa ------------------------------------------------------------------------------------------
@qa_cli.command("export")
def qa_export(
    fmt: Annotated[
        str, typer.Option("--format", help="csv (with a header row) or json (one array).")
    ] = "csv",
    since: Annotated[
        str | None, typer.Option(help="Only reviews created on or after this UTC day, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Print every review (not calibration scores), oldest first: scores per category, %, dispute state."""
    from bot.services.qa_export import write_export
    from bot.store.qa import QaStore

    def write(engine, start) -> None:
        store = QaStore(engine)
        rubrics = store.rubrics_used(since=start)  # one column per category those reviews were scored on
        write_export(store.iter_reviews(since=start), sys.stdout, fmt=fmt, rubrics=rubrics)

    _export(fmt, since, write)


# -- demo ----------------------------------------------------------------------------------------
@cli.command("demo")
def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Exit after one pass instead of running until Ctrl-C.")
    ] = False,
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: a fresh SQLite file in a temp dir).")
    ] = None,
    port: Annotated[
        int, typer.Option(help="Port of the workspace page on 127.0.0.1 (0: any free port; not with --once).")
    ] = 8080,
) -> None:
    """Run the real bot against bundled local Slack/Zendesk/Intercom emulators with sample tickets."""
    from bot.demo import run_demo

    configure_logging(json_logs=False, level="WARNING")
    run_demo(once=once, database_url=database, out=typer.echo, port=port)


def main() -> None:
    cli()


import bot.cli_digests  # noqa: E402,F401  (registers `sync` and `digest` on `cli`)
import bot.cli_outbox  # noqa: E402,F401  (registers `outbox list` and `outbox retry`)
import bot.cli_serve  # noqa: E402,F401  (registers `serve`)
import bot.cli_webhooks  # noqa: E402,F401  (registers `webhooks install`)
