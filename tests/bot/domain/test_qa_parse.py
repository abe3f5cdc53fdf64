"""Parsing the text after /qa: the inline scorecard (quotes, unicode, mentions, refs, order), subcommands,
and errors that say what is valid with nothing half-parsed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.model import Source, TicketRef
from bot.domain.qa_parse import (
    OWN,
    TEAM,
    Calibrate,
    CalibrationReport,
    Help,
    InlineScore,
    OpenModal,
    Queue,
    Report,
    example_command,
    parse_qa,
)
from bot.domain.qa_types import Category, QaInputError, Rubric, Scorecard

RUBRIC = Rubric(
    scale=5,
    pass_mark=80,
    categories=(
        Category("accuracy", "Correct resolution", 3),
        Category("empathy", "Empathy and tone", 2),
        Category("process", "Followed process", 2),
        Category("compliance", "Compliance (KYC/PCI)", 3, critical=True),
    ),
)
HELP = "categories: accuracy, empathy, process, compliance; scores 1-5 or n/a"
SCORES = "accuracy=4 empathy=5 process=3 compliance=5"
EXPECTED = {"accuracy": 4, "empathy": 5, "process": 3, "compliance": 5}
ZD123 = TicketRef(Source.ZENDESK, "123")


def inline(text: str) -> Scorecard:
    command = parse_qa(text, RUBRIC)
    assert isinstance(command, InlineScore)
    return command.scorecard


def error(text: str) -> str:
    with pytest.raises(QaInputError) as info:
        parse_qa(text, RUBRIC)
    return str(info.value)


# --- opening the modal ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", OpenModal()),
        ("   ", OpenModal()),
        ("zd:123", OpenModal(ref=ZD123)),
        ("ZD#123", OpenModal(ref=ZD123)),
        ("https://acme.zendesk.com/agent/tickets/123", OpenModal(ref=ZD123)),
        ("<https://acme.zendesk.com/agent/tickets/123|Refund not received>", OpenModal(ref=ZD123)),
        ("ic:456", OpenModal(ref=TicketRef(Source.INTERCOM, "456"))),
        ("<@U0AGENT|jane.doe>", OpenModal(agent="U0AGENT")),
        ("<@U0AGENT>", OpenModal(agent="U0AGENT")),
        ("<@U0AGENT|Jane Doe> zd:123", OpenModal(ref=ZD123, agent="U0AGENT")),
        ("score zd:123", OpenModal(ref=ZD123)),
    ],
)
def test_open_modal(text: str, expected: OpenModal) -> None:
    assert parse_qa(text, RUBRIC) == expected


# --- inline scorecards ---------------------------------------------------------------------------------


def test_issue_example() -> None:
    card = inline(f'<@U0AGENT|jane> zd:123 {SCORES} "Solid refund handling"')

    assert card == Scorecard(agent="U0AGENT", ref=ZD123, scores=EXPECTED, comment="Solid refund handling")


@pytest.mark.parametrize(
    "text",
    [
        f"<@U0AGENT> zd:123 {SCORES}",
        f"zd:123 <@U0AGENT> {SCORES}",
        f"{SCORES} zd:123 <@U0AGENT>",
        "compliance=5 zd:123 accuracy=4 <@U0AGENT|x> process=3 empathy=5",
        f"score <@U0AGENT> zd:123 {SCORES}",
        f"<@U0AGENT>   zd:123\t{SCORES.upper()}",
    ],
)
def test_order_is_free(text: str) -> None:
    card = inline(text)

    assert (card.agent, card.ref, dict(card.scores), card.comment) == ("U0AGENT", ZD123, EXPECTED, "")


def test_na_in_every_spelling() -> None:
    card = inline("<@U0AGENT> zd:123 accuracy=4 empathy=n/a process=NA compliance=N/A")

    assert dict(card.scores) == {"accuracy": 4, "empathy": None, "process": None, "compliance": None}


@pytest.mark.parametrize(
    ("quoted", "comment"),
    [
        ('"Great tone, didn\'t rush"', "Great tone, didn't rush"),
        ("“Smart quotes from a Mac”", "Smart quotes from a Mac"),
        ("„German quotes“", "German quotes"),
        ("«Guillemets»", "Guillemets"),
        ('"  padded  "', "padded"),
        ('"Très bien 👍 — 谢谢"', "Très bien 👍 — 谢谢"),
        ('"a &lt;b&gt; &amp; c"', "a <b> & c"),
        ('""', ""),
    ],
)
def test_quoted_comment(quoted: str, comment: str) -> None:
    assert inline(f"<@U0AGENT> zd:123 {quoted} {SCORES}").comment == comment


def test_rest_of_text_is_the_comment_as_typed() -> None:
    card = inline(f'<@U0AGENT> zd:123 {SCORES} didn\'t check "KYC" docs;  see <@U0LEAD>  ')

    assert card.comment == 'didn\'t check "KYC" docs;  see <@U0LEAD>'


def test_rest_of_text_keeps_a_lone_quote() -> None:
    assert inline(f'<@U0AGENT> zd:123 {SCORES} 5" screen, still fine').comment == '5" screen, still fine'


def test_intercom_link_as_ref() -> None:
    link = "<https://app.intercom.com/a/inbox/abc123/inbox/conversation/456|Conversation>"

    assert inline(f"<@U0AGENT> {link} {SCORES}").ref == TicketRef(Source.INTERCOM, "456")


# --- inline errors -------------------------------------------------------------------------------------


def test_typo_in_category_suggests_the_key() -> None:
    message = error("<@U0AGENT> zd:123 acuracy=4 empathy=5 process=3 compliance=5")

    assert message.startswith('unknown category "acuracy" (did you mean "accuracy"?) — ' + HELP)


def test_out_of_range_score() -> None:
    assert error("<@U0AGENT> zd:123 accuracy=6 empathy=5 process=3 compliance=5").startswith(
        f"accuracy=6 is out of range — {HELP}"
    )


def test_non_integer_score() -> None:
    assert error("<@U0AGENT> zd:123 accuracy=4.5 empathy=5 process=3 compliance=5").startswith(
        f'accuracy="4.5" is not a score (a whole number or n/a) — {HELP}'
    )


def test_missing_category() -> None:
    assert error('<@U0AGENT> zd:123 accuracy=4 empathy=5 "ok"').startswith(
        f"missing a score for process, compliance — {HELP}"
    )


def test_missing_agent_and_ticket_in_one_message() -> None:
    message = error(SCORES)

    assert message == (
        f"mention the agent (@name); give the ticket (zd:123, ic:456 or its link) — {HELP}. "
        f"Example: {example_command(RUBRIC)}"
    )


def test_bad_ref_lists_categories() -> None:
    message = error(f"<@U0AGENT> zd:12a {SCORES}")

    assert message.startswith("'zd:12a' is not a ticket reference")
    assert message.endswith(HELP)


def test_unknown_helpdesk_prefix() -> None:
    assert "unknown helpdesk prefix 'fd'" in error(f"<@U0AGENT> fd:123 {SCORES}")


def test_non_ticket_link() -> None:
    assert "is not a Zendesk or Intercom link" in error(f"<@U0AGENT> <https://example.com/x|x> {SCORES}")


@pytest.mark.parametrize(
    ("text", "start"),
    [
        (f"<@U0AGENT> <@U0OTHER> zd:123 {SCORES}", "mention one agent (found <@U0AGENT> and <@U0OTHER>)"),
        (f"<@U0AGENT> zd:123 zd:124 {SCORES}", "give one ticket (found zd:123 and zd:124)"),
        (f'<@U0AGENT> zd:123 "one" {SCORES} "two"', "give one comment in quotes (found two)"),
        (f'<@U0AGENT> zd:123 "quoted" {SCORES} and more', "give one comment: in quotes, or after the scores"),
        (f"<@U0AGENT> zd:123 accuracy=4 accuracy=5 {SCORES}", "accuracy is scored twice"),
        (f"@jane zd:123 {SCORES}", '"@jane" is not a Slack mention'),
        (
            f"<#C0GENERAL|general> zd:123 {SCORES}",
            '"<#C0GENERAL|general>" is not an agent mention or a ticket link',
        ),
        ("<@U0AGENT> zd:123 accuracy 4", '"accuracy": write each score as key=value without spaces'),
        ("<@U0AGENT> zd:123 accuracy:4", '"accuracy:4": write each score as key=value without spaces'),
    ],
)
def test_ambiguous_or_malformed_input(text: str, start: str) -> None:
    message = error(text)

    assert message.startswith(start)
    assert HELP in message


def test_unbalanced_quote() -> None:
    assert error(f"<@U0AGENT> zd:123 {SCORES} “never closed") == (
        "unbalanced quote: the comment starting “never closed has no closing quote"
    )


def test_comment_without_scores() -> None:
    assert error("<@U0AGENT> zd:123 great job").startswith(
        f"missing a score for accuracy, empathy, process, compliance — {HELP}"
    )


def test_unknown_command_lists_the_commands() -> None:
    message = error("rescore zd:123")

    assert message.startswith('"rescore zd:123" is not a /qa command: use /qa to open the form')
    assert "/qa report [@agent | team] [30d]" in message and "/qa calibration report" in message


def test_overlong_comment() -> None:
    assert "the comment is 2001 characters; keep it to 2000" in error(
        f"<@U0AGENT> zd:123 {SCORES} {'x' * 2001}"
    )


# --- other subcommands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report", Report(target=OWN, days=30)),
        ("report me", Report(target=OWN, days=30)),
        ("report <@U0AGENT|jane>", Report(target="U0AGENT", days=30)),
        ("report <@U0AGENT> 7d", Report(target="U0AGENT", days=7)),
        ("REPORT team 14d", Report(target=TEAM, days=14)),
        ("report 14D team", Report(target=TEAM, days=14)),
        ("report 4w", Report(target=OWN, days=28)),
        ("calibrate zd:123", Calibrate(ZD123)),
        ("calibrate <https://acme.zendesk.com/agent/tickets/123|#123>", Calibrate(ZD123)),
        ("calibration report", CalibrationReport()),
        ("Calibration Report", CalibrationReport()),
        ("queue", Queue()),
        ("help", Help()),
        ("help me please", Help()),
    ],
)
def test_subcommands(text: str, expected: object) -> None:
    assert parse_qa(text, RUBRIC) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("report 0d", '"0d" is out of range: report on 1d to 366d'),
        ("report 400d", '"400d" is out of range: report on 1d to 366d'),
        (
            "report team team",
            '"team" is not understood: use /qa report [@agent | team] [30d], e.g. /qa report team 14d',
        ),
        (
            "report last month",
            '"last" is not understood: use /qa report [@agent | team] [30d], e.g. /qa report team 14d',
        ),
        ("calibrate", "use /qa calibrate <ticket>, with one ticket: zd:123, ic:456 or the ticket's link"),
        (
            "calibrate zd:1 zd:2",
            "use /qa calibrate <ticket>, with one ticket: zd:123, ic:456 or the ticket's link",
        ),
        ("calibration", "use /qa calibration report, or /qa calibrate <ticket> to start a session"),
        ("queue all", '/qa queue takes nothing after it (got "all")'),
    ],
)
def test_subcommand_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_calibrate_bad_ref() -> None:
    assert error("calibrate zd:abc").startswith("'zd:abc' is not a ticket reference")


def test_report_agent_for_caller() -> None:
    assert Report(target=OWN).agent("U0ME") == "U0ME"
    assert Report(target="U0AGENT").agent("U0ME") == "U0AGENT"
    assert Report(target=TEAM).agent("U0ME") is None


def test_example_command_uses_the_rubric() -> None:
    assert (
        example_command(RUBRIC) == '/qa @agent zd:123 accuracy=4 empathy=5 process=3 compliance=5 "comment"'
    )


# --- round trips ---------------------------------------------------------------------------------------

QUOTE_STYLES = (('"', '"'), ("“", "”"), ("„", "“"), ("«", "»"))
QUOTE_CHARS = '"“”„«»'


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ref_text(ref: TicketRef, style: int) -> str:
    number = ref.external_id
    if ref.source is Source.ZENDESK:
        forms = (f"zd:{number}", f"ZD#{number}", f"https://acme.zendesk.com/agent/tickets/{number}")
        link = f"https://acme.zendesk.com/agent/tickets/{number}"
    else:
        forms = (
            f"ic:{number}",
            f"IC#{number}",
            f"https://app.intercom.com/a/inbox/w1/inbox/conversation/{number}",
        )
        link = f"https://app.intercom.com/a/inbox/w1/inbox/conversation/{number}"
    return (*forms, f"<{link}|ticket {number}>")[style]


@st.composite
def scorecard_commands(draw: st.DrawFn) -> tuple[str, Scorecard]:
    agent = draw(st.from_regex(r"[UW][A-Z0-9]{2,10}", fullmatch=True))
    ref = TicketRef(draw(st.sampled_from(Source)), str(draw(st.integers(1, 10**12))))
    scores = {key: draw(st.none() | st.integers(1, RUBRIC.scale)) for key in RUBRIC.keys}
    label = draw(st.none() | st.from_regex(r"[a-z][a-z. ]{0,12}", fullmatch=True))
    mention = f"<@{agent}|{label}>" if label else f"<@{agent}>"
    parts = [mention, ref_text(ref, draw(st.integers(0, 3)))]
    parts += [f"{key}={'n/a' if value is None else value}" for key, value in scores.items()]
    parts = draw(st.permutations(parts))
    if draw(st.booleans()):
        comment = draw(st.text(st.characters(blacklist_characters=QUOTE_CHARS), max_size=40)).strip()
        opening, closing = draw(st.sampled_from(QUOTE_STYLES))
        parts.insert(draw(st.integers(0, len(parts))), f"{opening}{slack_escape(comment)}{closing}")
    else:
        first = draw(st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True))
        comment = f"{first} {draw(st.text(max_size=40))}".strip()
        parts.append(slack_escape(comment))
    separators = draw(
        st.lists(st.sampled_from([" ", "  ", "\t", "\n", "\u00a0"]), min_size=len(parts), max_size=len(parts))
    )
    text = "".join(part + separator for part, separator in zip(parts, separators, strict=True))
    return text, Scorecard(agent=agent, ref=ref, scores=scores, comment=comment)


@given(scorecard_commands())
def test_inline_round_trip(case: tuple[str, Scorecard]) -> None:
    text, expected = case

    assert parse_qa(text, RUBRIC) == InlineScore(expected)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_a_qa_error(text: str) -> None:
    try:
        parse_qa(text, RUBRIC)
    except QaInputError as exc:
        assert str(exc)


@given(st.sampled_from(["zd", "ic"]), st.integers(1, 10**9), st.integers(1, 366))
def test_calibrate_and_report_round_trip(prefix: str, number: int, days: int) -> None:
    assert parse_qa(f"calibrate {prefix}:{number}", RUBRIC) == Calibrate(
        TicketRef.parse(f"{prefix}:{number}")
    )
    assert parse_qa(f"report team {days}d", RUBRIC) == Report(target=TEAM, days=days)
