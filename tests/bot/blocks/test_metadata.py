from __future__ import annotations

import pytest

from bot.blocks.ids import Commands, SlaActions, SlaBlocks
from bot.blocks.metadata import (
    ALERT_METADATA_EVENT,
    AlertButtonValue,
    InvalidAlertMetadata,
    InvalidButtonValue,
    alert_id_from_metadata,
    alert_message_metadata,
)


def test_ids_have_expected_values() -> None:
    assert SlaActions.ACKNOWLEDGE == "sla_alert_acknowledge"
    assert SlaActions.OPEN_TICKET == "sla_alert_open_ticket"
    assert f"{SlaBlocks.ACTIONS}" == "sla_alert_actions"
    assert [str(c) for c in Commands] == ["/sla", "/escalate", "/qa", "/digest"]


def test_ids_unique_and_within_slack_limit() -> None:
    values = [str(m) for enum in (SlaActions, SlaBlocks) for m in enum]
    assert len(values) == len(set(values))
    assert all(0 < len(v) <= 255 for v in values)


def test_button_value_round_trips() -> None:
    encoded = AlertButtonValue(alert_id=42).encode()
    assert encoded == '{"v":1,"alert_id":42}'
    assert AlertButtonValue.decode(encoded) == AlertButtonValue(alert_id=42)


def test_button_value_encoding_is_compact_and_small() -> None:
    encoded = AlertButtonValue(alert_id=2**63 - 1).encode()
    assert " " not in encoded
    assert len(encoded) <= 2000


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "42",
        "[]",
        '{"v":1}',
        '{"v":2,"alert_id":1}',
        '{"v":1,"alert_id":"42"}',
        '{"v":1,"alert_id":true}',
        '{"v":1,"alert_id":0}',
        '{"v":1,"alert_id":1,"subject":"secret"}',
        '{"incident_id":1,"type":"case"}',
    ],
)
def test_button_value_decode_junk_raises(value: str) -> None:
    with pytest.raises(InvalidButtonValue, match="invalid SLA alert button value|non-empty JSON"):
        AlertButtonValue.decode(value)


def test_button_value_decode_non_string_raises() -> None:
    with pytest.raises(InvalidButtonValue):
        AlertButtonValue.decode(None)  # type: ignore[arg-type]


def test_button_value_error_is_value_error_with_reason() -> None:
    with pytest.raises(ValueError, match="alert_id"):
        AlertButtonValue.decode('{"v":1}')


def test_message_metadata_round_trips() -> None:
    metadata = alert_message_metadata(17)
    assert metadata == {"event_type": ALERT_METADATA_EVENT, "event_payload": {"alert_id": 17}}
    assert alert_id_from_metadata(metadata) == 17


@pytest.mark.parametrize(
    "metadata", [None, {}, {"event_type": "other_app", "event_payload": {"alert_id": 3}}]
)
def test_alert_id_from_metadata_foreign_message_is_none(metadata: dict | None) -> None:
    assert alert_id_from_metadata(metadata) is None


@pytest.mark.parametrize(
    "payload", [None, {}, {"alert_id": "3"}, {"alert_id": True}, {"alert_id": 0}, {"alert_id": 1.5}]
)
def test_alert_id_from_metadata_malformed_payload_raises(payload: object) -> None:
    with pytest.raises(InvalidAlertMetadata, match="alert_id"):
        alert_id_from_metadata({"event_type": ALERT_METADATA_EVENT, "event_payload": payload})
