"""The text after `/qa`, parsed into one command or refused with a message that says what is valid.

`/qa @agent zd:123 accuracy=4 empathy=5 process=3 compliance=5 "comment"` records a scorecard; the
mention, ref and scores may come in any order, and the comment is the quoted text ("straight", “smart”
or „low“ quotes) or else everything after the last of them. Slack sends a mention as `<@U123|name>` or
`<@U123>`, a pasted link as `<url|label>`, and escapes &, < and > in typed text; comments are unescaped.
Quotes are matched by hand rather than with shlex: shlex treats apostrophes as quotes and raises on a
lone quote, and comments are full of "didn't".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.domain.model import InvalidTicketRef, TicketRef
from bot.domain.qa import check_scores, rubric_help
from bot.domain.qa_types import QaInputError, Rubric, Scorecard

TEAM = "team"  # Report.target for the whole team
OWN = "me"  # Report.target for the caller's own report
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_COMMENT = 2000  # what the modal accepts and the scorecard shows verbatim (bot.blocks.qa_text.WORDS_MAX)

_CLOSING = {"«": "»", **{quote: '"“”„' for quote in '"“”„'}}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$", re.ASCII)
_REF_LIKE = re.compile(r"^(?:(?:zd|ic)[:#]|[A-Za-z]{2}[:#]\d|https?://|<https?://)", re.IGNORECASE)
_SCORE = re.compile(r"^([^\s=<>\"“”„«»]+)=(.*)$")
_DAYS = re.compile(r"^(\d{1,4})([dw])$", re.IGNORECASE)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


@dataclass(frozen=True)
class OpenModal:
    """`/qa`, `/qa zd:123` or `/qa @agent`: open the scoring modal, prefilled with what was given."""

    ref: TicketRef | None = None
    agent: str | None = None


@dataclass(frozen=True)
class InlineScore:
    scorecard: Scorecard


@dataclass(frozen=True)
class Report:
    """`target` is TEAM, OWN (the caller) or a Slack user id."""

    target: str
    days: int = DEFAULT_DAYS

    def agent(self, caller: str) -> str | None:
        """The agent whose report this is, or None for the team report."""
        if self.target == TEAM:
            return None
        return caller if self.target == OWN else self.target


@dataclass(frozen=True)
class Calibrate:
    ref: TicketRef


@dataclass(frozen=True)
class CalibrationReport:
    pass


@dataclass(frozen=True)
class Queue:
    pass


@dataclass(frozen=True)
class Help:
    pass


QaCommand = OpenModal | InlineScore | Report | Calibrate | CalibrationReport | Queue | Help


def example_command(rubric: Rubric) -> str:
    """The inline form with this rubric's keys, for help and error text."""
    sample = (4, 5, 3, 5)
    values = " ".join(f"{key}={min(sample[i % 4], rubric.scale)}" for i, key in enumerate(rubric.keys))
    return f'/qa @agent zd:123 {values} "comment"'


def parse_qa(text: str, rubric: Rubric) -> QaCommand:
    """One command from the slash command's text; QaInputError (nothing half-parsed) when it is not valid."""
    tokens = _Tokens(text)
    first = tokens.peek_word()
    word = first.lower() if first is not None else None
    if word == "help":
        return Help()
    if word in ("queue", "calibrate", "calibration", "report"):
        tokens.next()
        rest = tokens.rest_words()
        if word == "queue":
            _nothing_after("queue", rest)
            return Queue()
        if word == "calibrate":
            return Calibrate(_calibrate_ref(rest))
        if word == "calibration":
            if [part.lower() for part in rest] != ["report"]:
                raise QaInputError("use /qa calibration report, or /qa calibrate <ticket> to start a session")
            return CalibrationReport()
        return _report(rest)
    if word == "score":  # the manifest's usage hint reads "score zd:101"
        tokens.next()
    return _scorecard(tokens, rubric)


def _nothing_after(command: str, rest: list[str]) -> None:
    if rest:
        raise QaInputError(f'/qa {command} takes nothing after it (got "{" ".join(rest)[:40]}")')


def _calibrate_ref(rest: list[str]) -> TicketRef:
    if len(rest) != 1:
        raise QaInputError("use /qa calibrate <ticket>, with one ticket: zd:123, ic:456 or the ticket's link")
    return _ref(rest[0])


def _report(rest: list[str]) -> Report:
    target, days = OWN, DEFAULT_DAYS
    seen_target = seen_days = False
    for part in rest:
        mention = _MENTION.match(part)
        period = _DAYS.match(part)
        if (mention or part.lower() in (TEAM, OWN)) and not seen_target:
            target, seen_target = (mention[1] if mention else part.lower()), True
        elif period and not seen_days:
            count = int(period[1]) * (7 if period[2].lower() == "w" else 1)
            if not 1 <= count <= MAX_DAYS:
                raise QaInputError(f'"{part}" is out of range: report on 1d to {MAX_DAYS}d')
            days, seen_days = count, True
        else:
            raise QaInputError(
                f'"{part[:40]}" is not understood: use /qa report [@agent | team] [30d], '
                "e.g. /qa report team 14d"
            )
    return Report(target=target, days=days)


def _ref(text: str, help_text: str = "") -> TicketRef:
    try:
        return TicketRef.parse(text)
    except InvalidTicketRef as exc:
        raise QaInputError(f"{exc} — {help_text}" if help_text else str(exc)) from None


def _scorecard(tokens: _Tokens, rubric: Rubric) -> OpenModal | InlineScore:
    agent: str | None = None
    ref: TicketRef | None = None
    scores: dict[str, str] = {}
    quoted: str | None = None
    comment = ""
    help_text = rubric_help(rubric)
    while (token := tokens.next()) is not None:
        kind, value = token
        mention = _MENTION.match(value) if kind == "word" else None
        if kind == "quoted":
            if quoted is not None:
                raise QaInputError(f"give one comment in quotes (found two) — {help_text}")
            quoted = value
        elif mention:
            if agent is not None and agent != mention[1]:
                raise QaInputError(f"mention one agent (found <@{agent}> and <@{mention[1]}>) — {help_text}")
            agent = mention[1]
        elif _REF_LIKE.match(value):
            found = _ref(value, help_text)
            if ref is not None and ref != found:
                raise QaInputError(
                    f'give one ticket (found {ref} and {found}); put a comment that names tickets in "quotes"'
                    f" — {help_text}"
                )
            ref = found
        elif score := _SCORE.match(value):
            key = score[1].lower()
            if key in scores:
                raise QaInputError(f"{key} is scored twice — {help_text}")
            scores[key] = score[2]
        elif value.startswith("@"):
            raise QaInputError(
                f'"{value[:40]}" is not a Slack mention: pick the agent from the @ list, so Slack sends '
                f"their id — {help_text}"
            )
        elif value.startswith("<"):
            raise QaInputError(f'"{value[:40]}" is not an agent mention or a ticket link — {help_text}')
        elif _looks_like_a_score(value, rubric, scores):
            raise QaInputError(
                f'"{value[:40]}": write each score as key=value without spaces, '
                f"e.g. {rubric.keys[0]}={min(4, rubric.scale)} — {help_text}"
            )
        else:
            comment = tokens.rest()
            break
    if quoted is not None and comment:
        raise QaInputError(f"give one comment: in quotes, or after the scores, not both — {help_text}")
    comment = _unescape(quoted if quoted is not None else comment).strip()
    if not scores and quoted is None and not comment:
        return OpenModal(ref=ref, agent=agent)
    if not scores and agent is None and ref is None:
        shown = (quoted if quoted is not None else comment)[:40]
        raise QaInputError(
            f'"{shown}" is not a /qa command: use /qa to open the form, {example_command(rubric)}, '
            "/qa report [@agent | team] [30d], /qa calibrate <ticket>, /qa calibration report, /qa queue "
            "or /qa help"
        )
    checked, problems = check_scores(rubric, scores)
    if agent is None:
        problems.insert(0, "mention the agent (@name)")
    if ref is None:
        problems.insert(1 if agent is None else 0, "give the ticket (zd:123, ic:456 or its link)")
    if len(comment) > MAX_COMMENT:
        problems.append(f"the comment is {len(comment)} characters; keep it to {MAX_COMMENT}")
    if problems or agent is None or ref is None:
        raise QaInputError(f"{'; '.join(problems)} — {help_text}. Example: {example_command(rubric)}")
    return InlineScore(Scorecard(agent=agent, ref=ref, scores=checked, comment=comment))


def _looks_like_a_score(word: str, rubric: Rubric, scores: dict[str, str]) -> bool:
    """`accuracy:4` or `accuracy 4` while categories are still unscored: a mistake, not a comment."""
    if set(rubric.keys) <= set(scores):
        return False
    stem = re.split(r"[:=]", word, maxsplit=1)[0].lower()
    return bool(difflib.get_close_matches(stem, rubric.keys, n=1, cutoff=0.8))


def _unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in one pass, so a typed "&lt;" survives as typed."""
    return _ENTITY.sub(lambda match: _ENTITIES[match[1]], text)


class _Tokens:
    """Lazy tokens over the text: words, Slack `<...>` tokens (a label may hold spaces) and quoted runs.

    Lazy because the unquoted comment is the raw rest of the text: an apostrophe or a lone quote inside it
    is kept as typed, while a quote that opens a token and never closes is reported.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.last_start = 0

    def next(self) -> tuple[str, str] | None:
        """("quoted", inner text) or ("word", text); None at the end."""
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        if self.pos >= len(text):
            return None
        start = self.last_start = self.pos
        char = text[start]
        if char in _CLOSING:
            end = next((i for i in range(start + 1, len(text)) if text[i] in _CLOSING[char]), -1)
            if end < 0:
                raise QaInputError(
                    f"unbalanced quote: the comment starting {text[start : start + 30]} has no closing quote"
                )
            self.pos = end + 1
            return "quoted", text[start + 1 : end]
        end = start
        if char == "<" and (close := text.find(">", start)) > 0:
            end = close + 1
        while end < len(text) and not text[end].isspace():
            end += 1
        self.pos = end
        return "word", text[start:end]

    def peek_word(self) -> str | None:
        saved = self.pos
        try:
            token = self.next()
        except QaInputError:
            token = None
        self.pos = saved
        return token[1] if token is not None and token[0] == "word" else None

    def rest_words(self) -> list[str]:
        words = []
        while (token := self.next()) is not None:
            words.append(token[1])
        return words

    def rest(self) -> str:
        """The raw text from the start of the token just read to the end."""
        self.pos = len(self.text)
        return self.text[self.last_start :]
