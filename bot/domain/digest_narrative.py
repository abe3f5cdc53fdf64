"""Three deterministic sentences from digest figures: what moved most and what needs attention.

No language model: every sentence comes from a fixed rule over the numbers, so the same figures always give
the same words. The three sentences are three slots, each with candidate rules tried in a fixed order:

1. Volume. No tickets at all → "No ticket activity in this window." Otherwise, of backlog, new, solved
   and reopened (in that priority order), the figures that moved at least VOLUME_MOVE_PCT % and by at least
   MIN_VOLUME_CHANGE tickets compete; the largest relative move wins (a rise from 0 beats any percentage;
   ties go to the earlier figure): "Backlog grew 18 % to 142." Nothing moved enough → "Volume steady: ...".
2. SLA. No outcomes → "No SLA outcomes in this window." Else, first that applies:
   a. at least MIN_BREACHES_FOR_CONCENTRATION breaches and one priority holds at least
      BREACH_CONCENTRATION_SHARE of them → "9 of 12 breaches were Urgent.";
   b. a metric's attainment is below ATTAINMENT_TARGET_PCT (the lowest; ties by metric name) →
      "First reply SLA attainment was 82 %, down 6 pp.";
   c. any breach → "12 SLA breaches, up from 8."; d. none → "No SLA breaches in this window."
3. Attention, first that applies:
   a. the biggest tag mover changed by at least TAG_MOVE_MIN_CHANGE and TAG_MOVE_PCT % (or from 0) →
      "refund_request doubled to 24.";
   b. CSAT fell at least CSAT_DROP_PP points; c. CSAT is below CSAT_TARGET_PCT;
   d. QA pass rate is below QA_PASS_TARGET_PCT; e. escalations are still open;
   f. one-touch resolution fell at least ONE_TOUCH_DROP_PP points;
   g. otherwise sections without data are named ("No QA reviews or escalations in this window.") rather
      than given invented numbers; with every section present, the top driver and CSAT are stated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bot.domain.digest import (
    DigestFigures,
    TagTrend,
    Trend,
    format_number,
    format_pct,
)
from bot.domain.model import metric_label

VOLUME_MOVE_PCT = 10.0
MIN_VOLUME_CHANGE = 3
MIN_BREACHES_FOR_CONCENTRATION = 3
BREACH_CONCENTRATION_SHARE = 0.5
ATTAINMENT_TARGET_PCT = 90.0
TAG_MOVE_MIN_CHANGE = 5
TAG_MOVE_PCT = 25.0
CSAT_DROP_PP = 5.0
CSAT_TARGET_PCT = 80.0
QA_PASS_TARGET_PCT = 80.0
ONE_TOUCH_DROP_PP = 5.0

# Breach priorities from most to least severe; a tie on breach count goes to the more severe one.
PRIORITY_ORDER = ("urgent", "high", "normal", "low")

_VOLUME = (  # (figure attribute, subject, rise verb, fall verb), in priority order
    ("backlog", "Backlog", "grew", "shrank"),
    ("new", "New tickets", "rose", "fell"),
    ("solved", "Solved tickets", "rose", "fell"),
    ("reopened", "Reopened tickets", "rose", "fell"),
)


def narrative(figures: DigestFigures) -> tuple[str, str, str]:
    """The volume, SLA and attention sentences for `figures` (see the module docstring for the rules)."""
    return _volume_sentence(figures), _sla_sentence(figures), _attention_sentence(figures)


# ----------------------------------------------------------------------------------------------- volume


def _count(t: Trend) -> int:
    return 0 if t.current is None else int(t.current)  # type: ignore[arg-type]


def _volume_sentence(f: DigestFigures) -> str:
    if all(_count(getattr(f, attr)) == 0 for attr, *_ in _VOLUME):
        return "No ticket activity in this window."
    candidates: list[tuple[float, int, str]] = []
    for index, (attr, subject, up, down) in enumerate(_VOLUME):
        t: Trend = getattr(f, attr)
        if t.current is None or t.previous is None or abs(t.delta) < MIN_VOLUME_CHANGE:  # type: ignore[arg-type]
            continue
        size = math.inf if t.pct is None else abs(t.pct)
        if size >= VOLUME_MOVE_PCT:
            candidates.append((size, index, f"{subject} {_change_phrase(t, up, down)}."))
    if candidates:
        return min(candidates, key=lambda c: (-c[0], c[1]))[2]
    return f"Volume steady: {_num(f.new)} new, {_num(f.solved)} solved, backlog {_num(f.backlog)}."


def _num(t: Trend) -> str:
    return "n/a" if t.current is None else format_number(t.current)  # type: ignore[arg-type]


def _change_phrase(t: Trend, up: str, down: str) -> str:
    """ "grew 18 % to 142", "doubled to 24", "more than doubled to 30", "halved to 6", "grew from 0 to 5"."""
    current, previous = t.current, t.previous
    to = format_number(current)  # type: ignore[arg-type]
    if not previous:
        return f"{up} from 0 to {to}"
    if current == 2 * previous:  # type: ignore[operator]
        return f"doubled to {to}"
    if current > 2 * previous:  # type: ignore[operator]
        return f"more than doubled to {to}"
    if 2 * current == previous:  # type: ignore[operator]
        return f"halved to {to}"
    verb = up if t.delta > 0 else down  # type: ignore[operator]
    return f"{verb} {format_pct(abs(t.pct))} to {to}"  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------------- SLA


def _sla_sentence(f: DigestFigures) -> str:
    breaches = _count(f.breaches)
    measured = {metric: t for metric, t in f.sla_attainment.items() if t.current is not None}
    if breaches == 0 and not measured:
        return "No SLA outcomes in this window."
    concentrated = _concentration(breaches, f.breaches_by_priority)
    if concentrated is not None:
        return concentrated
    below = sorted(
        (t.current, metric)
        for metric, t in measured.items()
        if t.current < ATTAINMENT_TARGET_PCT  # type: ignore[operator]
    )
    if below:
        metric = below[0][1]
        t = measured[metric]
        text = f"{metric_label(metric)} SLA attainment was {format_pct(t.current)}"  # type: ignore[arg-type]
        return f"{text}{_pp_change(t)}."
    if breaches:
        previous = f.breaches.previous
        noun = "breach" if breaches == 1 else "breaches"
        if previous is None or previous == breaches:
            return f"{breaches} SLA {noun}."
        direction = "up" if breaches > previous else "down"  # type: ignore[operator]
        return f"{breaches} SLA {noun}, {direction} from {format_number(previous)}."  # type: ignore[arg-type]
    return "No SLA breaches in this window."


def _concentration(breaches: int, by_priority: Mapping[str, int]) -> str | None:
    if breaches < MIN_BREACHES_FOR_CONCENTRATION or not by_priority:
        return None

    def severity(priority: str) -> tuple[int, str]:
        key = priority.lower()
        return (PRIORITY_ORDER.index(key) if key in PRIORITY_ORDER else len(PRIORITY_ORDER), key)

    priority = min(by_priority, key=lambda p: (-by_priority[p], severity(p)))
    count = by_priority[priority]
    if count / breaches < BREACH_CONCENTRATION_SHARE:
        return None
    return f"{count} of {breaches} breaches were {priority.capitalize()}."


def _pp_change(t: Trend) -> str:
    """ ", down 6 pp" / ", up 2.5 pp" for a percentage trend; "" when unknown or under 0.05 points."""
    if t.delta is None:
        return ""
    points = format_number(abs(t.delta))  # type: ignore[arg-type]
    if points == "0":
        return ""
    return f", {'up' if t.delta > 0 else 'down'} {points} pp"  # type: ignore[operator]


# -------------------------------------------------------------------------------------------- attention


def _attention_sentence(f: DigestFigures) -> str:
    for rule in (_tag_rule, _csat_drop_rule, _csat_low_rule, _qa_rule, _escalation_rule, _one_touch_rule):
        sentence = rule(f)
        if sentence is not None:
            return sentence
    missing = _missing_sections(f)
    if missing:
        listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
        return f"No {listed} in this window."
    top: TagTrend = f.tags.top[0]  # type: ignore[union-attr]  (not missing: there is a top tag)
    return (
        f"Top contact driver {top.tag} ({format_number(top.trend.current)}); "  # type: ignore[arg-type]
        f"CSAT {format_pct(f.csat.current)} from {f.csat_responses} responses."  # type: ignore[arg-type]
    )


def _missing_sections(f: DigestFigures) -> list[str]:
    missing = []
    if f.tags is None or not f.tags.top:
        missing.append("contact tags")
    if f.csat.current is None:
        missing.append("CSAT ratings")
    if not any(t is not None and t.current is not None for t in (f.qa_average, f.qa_pass_rate)):
        missing.append("QA reviews")
    if f.escalations is None:
        missing.append("escalations")
    return missing


def _tag_rule(f: DigestFigures) -> str | None:
    mover = None if f.tags is None else f.tags.biggest_mover
    if mover is None or mover.trend.delta is None or abs(mover.trend.delta) < TAG_MOVE_MIN_CHANGE:  # type: ignore[arg-type]
        return None
    t = mover.trend
    if t.pct is not None and abs(t.pct) < TAG_MOVE_PCT:
        return None
    if not t.previous:
        return f"{mover.tag} is new with {format_number(t.current)} tickets."  # type: ignore[arg-type]
    if not t.current:
        return f"{mover.tag} dropped from {format_number(t.previous)} to 0."  # type: ignore[arg-type]
    return f"{mover.tag} {_change_phrase(t, 'rose', 'fell')}."


def _drop(t: Trend | None, points: float) -> bool:
    return t is not None and t.delta is not None and -t.delta >= points  # type: ignore[operator]


def _csat_drop_rule(f: DigestFigures) -> str | None:
    if not _drop(f.csat, CSAT_DROP_PP):
        return None
    return (
        f"CSAT fell {format_number(-f.csat.delta)} pp to {format_pct(f.csat.current)} "  # type: ignore[operator,arg-type]
        f"from {f.csat_responses} responses."
    )


def _csat_low_rule(f: DigestFigures) -> str | None:
    if f.csat.current is None or f.csat.current >= CSAT_TARGET_PCT:  # type: ignore[operator]
        return None
    return f"CSAT was {format_pct(f.csat.current)} from {f.csat_responses} responses."  # type: ignore[arg-type]


def _qa_rule(f: DigestFigures) -> str | None:
    rate = f.qa_pass_rate
    if rate is None or rate.current is None or rate.current >= QA_PASS_TARGET_PCT:  # type: ignore[operator]
        return None
    return f"QA pass rate was {format_pct(rate.current)}{_pp_change(rate)}."  # type: ignore[arg-type]


def _escalation_rule(f: DigestFigures) -> str | None:
    if f.escalations is None or f.escalations.still_open <= 0:
        return None
    n = f.escalations.still_open
    return f"{n} escalation{'' if n == 1 else 's'} still open."


def _one_touch_rule(f: DigestFigures) -> str | None:
    if not _drop(f.one_touch, ONE_TOUCH_DROP_PP):
        return None
    return (
        f"One-touch resolution fell {format_number(-f.one_touch.delta)} pp "  # type: ignore[operator]
        f"to {format_pct(f.one_touch.current)}."  # type: ignore[arg-type]
    )
