"""Digest cost over a large history: one team's 14-day figures over 1,000,000 stored history rows.

The history tables are filled with plain bulk inserts (executemany on SQLite in one transaction, COPY on
PostgreSQL) of rows shaped as `HistoryService` stores them: 56 days (retention.history) of ticket events
(created, first_reply, replied, solved, reopened, reassigned), SLA outcomes, ratings, creation tags (40
tags) and hourly backlog snapshots, for 6 teams, the measured one holding about a third. Then
`FigureBuilder.figures` computes the digest's figures for a 14-day window (and, inside it, the same window
a week earlier for the trends): 1 warm-up, then the median of --repeat runs, with each SQL statement timed.
No helpdesk, no Slack: HistoryService has no feeds.
Usage: python benchmarks/digest_cost.py [--rows 1000000] [--days 14] [--repeat 5] [--explain]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, text

from bot.config import config_from_dict
from bot.logs import configure_logging
from bot.services.digest_figures import FigureBuilder
from bot.services.history import HistoryService
from bot.store.db import make_engine, upgrade
from bot.store.digest_queries import window_data
from bot.store.history import HistoryStore
from bot.store.history_tables import (
    BacklogSnapshotRow,
    HistoryEventRow,
    HistoryOutcomeRow,
    HistoryRatingRow,
    HistoryTagRow,
)

END = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning: the digest is sent now
HISTORY = timedelta(days=56)
TEAM = "billing"  # the measured team
TEAMS = {"billing": 1 / 3, "payments": 2 / 15, "compliance": 2 / 15, "tech": 2 / 15, "onboarding": 2 / 15}
TEAMS["enterprise"] = 1 - sum(TEAMS.values())
TAGS = [f"tag_{n:02d}" for n in range(40)]
TAG_WEIGHTS = [1 / (n + 1) for n in range(40)]  # a few drivers dominate, a long tail
ZD_CHANNELS = (("email", 45), ("web", 25), ("chat", 15), ("api", 5), ("voice", 10))
IC_CHANNELS = (("messenger", 80), ("email", 20))
ZD_PRIORITIES = (("low", 20), ("normal", 55), ("high", 18), ("urgent", 7))
IC_PRIORITIES = (("not_priority", 80), ("priority", 20))
FIRST_REPLY_TARGET = {"urgent": 1800, "high": 3600, "priority": 3600}  # seconds; others 4 h
TABLES = (HistoryEventRow, HistoryOutcomeRow, HistoryRatingRow, HistoryTagRow, BacklogSnapshotRow)


def config():
    teams = [
        {"name": name, "channel": f"C0{name.upper()[:8]}", "zendesk_group_ids": [100 + i]}
        for i, name in enumerate(TEAMS)
    ]
    return config_from_dict({"alerts": {"channel": "C0ALERTS"}, "teams": teams}, source="digest_cost")


def _pick(rng: random.Random, pairs) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


class History:
    """Generated rows per table, stopping once `rows` are reached (backlog snapshots included)."""

    def __init__(self, rows: int, *, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._backlog()
        teams, weights = list(TEAMS), list(TEAMS.values())
        n = 0
        while self.total < rows:
            self._ticket(n, self.rng.choices(teams, weights=weights)[0])
            n += 1
        self.tickets = n

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def _backlog(self) -> None:
        hours = int(HISTORY / timedelta(hours=1))
        for team in [*TEAMS, ""]:
            scale = 0.3 if team == "" else TEAMS[team] * 3
            for h in range(hours):
                at = END - HISTORY + timedelta(hours=h + 1)
                under, middle, over = (
                    int(self.rng.randint(lo, hi) * scale) for lo, hi in ((80, 160), (60, 120), (30, 90))
                )
                self.tables["history_backlog"].append(
                    {"team": team, "at": at, "open": under + middle + over, "under_1d": under,
                     "from_1d_to_3d": middle, "over_3d": over}
                )  # fmt: skip

    def _event(self, ref, n, kind, at, created, team, group, priority, channel, seconds=None, replies=None):
        if at >= END:
            return False
        self.tables["history_events"].append(
            {"ref": ref, "event_id": f"{kind}:{n}", "kind": kind, "at": at, "team": team, "group_id": group,
             "priority": priority, "channel": channel, "created_at": created, "seconds": seconds,
             "business_seconds": seconds, "agent_replies": replies, "recorded_at": at + timedelta(minutes=3)}
        )  # fmt: skip
        return True

    def _outcome(self, ref, metric, cycle, achieved, at, due, team, priority) -> None:
        if at < END:
            self.tables["history_sla_outcomes"].append(
                {"ref": ref, "metric": metric, "cycle": cycle, "achieved": achieved, "at": at, "due_at": due,
                 "team": team, "priority": priority, "recorded_at": at + timedelta(minutes=3)}
            )  # fmt: skip

    def _ticket(self, i: int, team: str) -> None:
        rng = self.rng
        zendesk = rng.random() < 0.7
        ref = f"zd:{i}" if zendesk else f"ic:{i}"
        group = str(100 + list(TEAMS).index(team))
        channel = _pick(rng, ZD_CHANNELS if zendesk else IC_CHANNELS)
        priority = _pick(rng, ZD_PRIORITIES if zendesk else IC_PRIORITIES)
        created = END - HISTORY + timedelta(seconds=rng.randrange(int(HISTORY.total_seconds())))
        facts = (team, group, priority, channel)
        self._event(ref, 0, "created", created, created, *facts)
        for tag in set(rng.choices(TAGS, weights=TAG_WEIGHTS, k=rng.choice((1, 1, 2)))):
            self.tables["history_tags"].append({"ref": ref, "tag": tag, "team": team, "at": created})
        if rng.random() < 0.04:  # never answered (yet)
            return
        wait = int(rng.lognormvariate(7.8, 1.3))  # median about 40 min
        first = created + timedelta(seconds=wait)
        self._event(ref, 1, "first_reply", first, created, *facts, seconds=wait)
        target = FIRST_REPLY_TARGET.get(priority, 4 * 3600)
        self._outcome(
            ref, "first_reply_time", "1", wait <= target, min(first, created + timedelta(seconds=target)),
            created + timedelta(seconds=target), team, priority,
        )  # fmt: skip
        at, replies, n = first, 1, 2
        for cycle in range(rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4))):
            gap = int(rng.lognormvariate(9.0, 1.2))
            at += timedelta(seconds=gap)
            self._event(ref, n, "replied", at, created, *facts)
            if zendesk:
                self._outcome(
                    ref, "next_reply_time", str(cycle + 1), gap <= 8 * 3600, at, at, team, priority
                )  # fmt: skip
            n, replies = n + 1, replies + 1
        if rng.random() < 0.15:
            self._event(ref, n, "reassigned", at + timedelta(minutes=rng.randint(1, 600)), created, *facts)
            n += 1
        if rng.random() < 0.12:  # still open
            return
        solved = at + timedelta(seconds=int(rng.lognormvariate(9.5, 1.4)))
        seconds = int((solved - created).total_seconds())
        if not self._event(ref, n, "solved", solved, created, *facts, seconds=seconds, replies=replies):
            return
        n += 1
        if rng.random() < 0.22:
            good = rng.random() < 0.85
            score = (
                ("good" if good else "bad")
                if zendesk
                else str(rng.choice((4, 5)) if good else rng.randint(1, 3))
            )
            self.tables["history_ratings"].append(
                {"ref": ref, "rating_id": f"r{i}", "good": good, "score": score,
                 "at": solved + timedelta(hours=rng.randint(1, 30)), "team": team,
                 "recorded_at": solved + timedelta(hours=31)}
            )  # fmt: skip
            if self.tables["history_ratings"][-1]["at"] >= END:
                self.tables["history_ratings"].pop()
        if rng.random() < 0.06:
            reopened = solved + timedelta(hours=rng.randint(2, 72))
            if self._event(ref, n, "reopened", reopened, created, *facts):
                again = reopened + timedelta(hours=rng.randint(1, 48))
                seconds = int((again - created).total_seconds())
                self._event(
                    ref, n + 1, "solved", again, created, *facts, seconds=seconds, replies=replies + 1
                )


def load(engine, history: History) -> float:
    """Bulk-insert the generated rows; returns the seconds it took."""
    started = time.perf_counter()
    for row_type in TABLES:
        table = row_type.__table__
        rows = history.tables[table.name]
        if not rows:
            continue
        if engine.dialect.name == "postgresql":
            cols = list(rows[0])
            with engine.begin() as conn:
                cursor = conn.connection.driver_connection.cursor()
                with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in cols])
        else:
            with engine.begin() as conn:  # one transaction
                for start in range(0, len(rows), 10_000):
                    conn.execute(table.insert(), rows[start : start + 10_000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a load like this
    return time.perf_counter() - started


class StatementLog:
    """Records every SQL statement the engine runs, with its parameters as sent to the driver."""

    def __init__(self, engine) -> None:
        self.runs: list[list[tuple[str, Any]]] = []
        event.listen(engine, "before_cursor_execute", self._before)

    def start_run(self) -> None:
        self.runs.append([])

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.runs:
            self.runs[-1].append((statement, parameters))


def time_statement(engine, statement: str, parameters, repeat: int) -> float:
    """Median seconds to run the statement alone and fetch all its rows (the driver, no ORM)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        took = []
        for _ in range(repeat + 1):
            began = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            took.append(time.perf_counter() - began)
        raw.rollback()
        return statistics.median(took[1:])
    finally:
        raw.close()


def label(statement: str, parameters: Any) -> str:
    s = " ".join(statement.split()).lower()
    table = next((t for t in ("history_events", "history_sla_outcomes", "history_ratings", "history_tags",
                              "history_backlog", "tickets") if f"from {t}" in s), "?")  # fmt: skip
    where = s.split(" where ", 1)[1] if " where " in s else ""
    if table == "history_events":
        if "group by history_events.kind" in s:
            return "events: count by kind"
        if "coalesce(history_events.channel" in s:
            return "events: created by channel"
        if "agent_replies" in where:
            return "events: one-touch solved count"
        return "events: durations " + ("first_reply" if "first_reply" in str(parameters) else "solved")
    if table == "history_sla_outcomes":
        if "group by history_sla_outcomes.metric" in s:
            return "outcomes: by metric"
        if "limit" in s:
            return "outcomes: worst breaches"
        return "outcomes: breaches by priority"
    names = {
        "history_ratings": "ratings: count",
        "history_tags": "tags: count by tag",
        "history_backlog": "backlog snapshot",
        "tickets": "live backlog (tickets)",
    }
    return names.get(table, s[:60])


def explain(engine, statement: str, parameters) -> list[str]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return [" | ".join(str(c) for c in row[-1:]) for row in cursor.fetchall()]
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="history rows in all tables together")
    parser.add_argument("--days", type=int, default=14, help="the digest window")
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--explain", action="store_true", help="the plan of every statement, not only the count"
    )
    args = parser.parse_args()
    configure_logging(json_logs=False, level="WARNING")
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'digest.db'}"
    schema = None
    if url.startswith("postgresql"):  # a throw-away schema, never the database's public one
        schema = f"dw_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        history = History(args.rows)
        generate_secs = time.perf_counter() - started
        load_secs = load(engine, history)
        cfg = config()
        service = HistoryService(engine=engine, store=HistoryStore(engine), feeds={}, config=cfg)
        builder = FigureBuilder(engine=engine, history=service, config=cfg)
        start = END - timedelta(days=args.days)
        log = StatementLog(engine)
        times = []
        for run in range(args.repeat + 1):  # the first is the warm-up
            log.start_run()
            began = time.perf_counter()
            computed = builder.figures(TEAM, start, END, now=END, at_risk=lambda: 0)
            took = time.perf_counter() - began
            if run:
                times.append(took)
            else:
                warmup = took
        measured, log.runs = log.runs[-1], []  # one measured run's statements; stop recording
        window = []
        for _ in range(args.repeat + 1):
            began = time.perf_counter()
            window_data(engine, TEAM, start, END, business_hours=False)
            window.append(time.perf_counter() - began)
        first_seen: dict[str, tuple[str, Any]] = {}
        counted: Counter[str] = Counter()
        for statement, parameters in measured:
            name = label(statement, parameters)
            counted[name] += 1
            first_seen[f"{name} (week before)" if counted[name] == 2 else name] = (statement, parameters)
        per_statement = {key: time_statement(engine, *sql, args.repeat) for key, sql in first_seen.items()}
        statements = len(measured)
        backend = engine.dialect.name
        counts = {t.__table__.name: len(history.tables[t.__table__.name]) for t in TABLES}
        team_events = sum(1 for r in history.tables["history_events"] if r["team"] == TEAM)
        read_from = start - timedelta(days=7)
        in_window = sum(
            1 for r in history.tables["history_events"] if r["team"] == TEAM and read_from <= r["at"] < END
        )
        plans = {
            key: explain(engine, *first_seen[key])
            for key in first_seen
            if args.explain or key == "events: count by kind"
        }
    finally:
        engine.dispose()
        if schema:
            with create_engine(args.database_url).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    f = computed.figures
    print(
        f"\n{backend}: {history.total:,} rows from {history.tickets:,} tickets, generated in "
        f"{generate_secs:.1f} s, loaded in {load_secs:.1f} s; {TEAM}: {team_events:,} events, "
        f"{in_window:,} of them in the 21 days read"
    )
    print(
        f"figures: new {f.new.current:,}, solved {f.solved.current:,}, breaches {f.breaches.current}, "
        f"first reply median {f.first_reply.median.current if f.first_reply else None}"
    )
    print("\n| Backend | " + " | ".join(counts) + " | Total |")
    print("|---|" + "---|" * (len(counts) + 1))
    print(f"| {backend} | " + " | ".join(f"{n:,}" for n in counts.values()) + f" | {history.total:,} |")
    print(f"\n| Backend | Window | Statements | Warm-up | figures() median of {args.repeat} | min | max |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {backend} | {args.days} days (+ the week before) | {statements} | {warmup * 1000:.0f} ms | "
        f"{statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms | "
        f"{max(times) * 1000:.0f} ms |"
    )
    print(f"\n`window_data` alone (one window): median {statistics.median(window[1:]) * 1000:.0f} ms")
    print(f"\n| Statement ({backend}), run alone | median ms |")
    print("|---|---|")
    for key, secs in sorted(per_statement.items(), key=lambda kv: -kv[1]):
        print(f"| {key} | {secs * 1000:.1f} |")
    for key, plan in plans.items():
        print(f"\nPlan of `{key}`:")
        for line in plan:
            print("    " + line)


if __name__ == "__main__":
    main()
