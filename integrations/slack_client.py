"""The Slack boundary of redaction: every payload Deskwatch sends to Slack is masked here, last.

Renderers may collapse whitespace, truncate or forget to redact; masking the final request (Web API
calls, `respond()` to a response_url, and the bodies our HTTP server returns to Slack in `ack()`) means
no card number reaches Slack whatever path the text took. Identifier fields (ts, ids, button values)
are left alone, see `bot.domain.redact.IDENTIFIER_KEYS`.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.context import BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookResponse

from bot.domain.redact import RedactionPolicy, redact_payload

EVENTS_PATH = "/slack/events"


def plain(obj: Any) -> Any:
    """JSON-like copy of `obj` with slack_sdk model objects (blocks, views, metadata) turned into dicts."""
    if isinstance(obj, dict):
        return {key: plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(item) for item in obj]
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict())
    return obj


def redact_outgoing(obj: Any, policy: RedactionPolicy) -> Any:
    return redact_payload(plain(obj), policy)


class RedactingWebClient(WebClient):
    """A WebClient that redacts `json`, `data` and `params` of every call before it is sent.

    Every WebClient method goes through `api_call`, and retries resend the already-redacted request.
    File contents (`files=`) are not inspected. `redaction` may be replaced after construction.
    """

    def __init__(self, *args: Any, redaction: RedactionPolicy = RedactionPolicy(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redaction = redaction

    def api_call(  # type: ignore[override]
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict | None = None,
        data: dict | None = None,
        params: dict | None = None,
        json: dict | None = None,
        headers: dict | None = None,
        auth: dict | None = None,
    ) -> SlackResponse:
        policy = self.redaction
        if json is not None:
            json = redact_outgoing(json, policy)
        if isinstance(data, dict):
            data = redact_outgoing(data, policy)
        if isinstance(params, dict):
            params = redact_outgoing(params, policy)
        return super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=data,
            params=params,
            json=json,
            headers=headers,
            auth=auth,
        )


def redacting_copy(client: WebClient, policy: RedactionPolicy) -> RedactingWebClient:
    """A RedactingWebClient set up like `client` (token, URL, retries, team): Bolt's per-request one."""
    return RedactingWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=list(client.retry_handlers) if client.retry_handlers is not None else None,
        redaction=policy,
    )


class RedactingRespond(Respond):
    """Bolt's `respond()` with the message redacted before it is POSTed to the response_url."""

    def __init__(
        self,
        *,
        response_url: str | None,
        proxy: str | None = None,
        ssl: Any = None,
        redaction: RedactionPolicy = RedactionPolicy(),
    ) -> None:
        super().__init__(response_url=response_url, proxy=proxy, ssl=ssl)
        self.redaction = redaction

    def __call__(  # type: ignore[override]
        self, text: str | dict = "", blocks: Any = None, attachments: Any = None, **kwargs: Any
    ) -> WebhookResponse:
        if isinstance(text, dict):
            return super().__call__(redact_outgoing(text, self.redaction))
        return super().__call__(
            redact_outgoing(text, self.redaction),
            blocks=redact_outgoing(blocks, self.redaction) if blocks is not None else None,
            attachments=redact_outgoing(attachments, self.redaction) if attachments is not None else None,
            **kwargs,
        )


def redaction_middleware(policy: RedactionPolicy) -> Callable[..., None]:
    """Bolt global middleware: listeners get a redacting `client`, `say` and `respond`.

    Bolt builds a plain WebClient per request (not the App's client), so it is swapped here; lazy
    listeners get a deep copy of this context and keep the redacting ones.
    """

    def redact_bolt_context(context: BoltContext, next_: Callable[[], None]) -> None:
        client = redacting_copy(context.client, policy)
        context["client"] = client
        if "say" in context:
            context["say"].client = client
        context["respond"] = RedactingRespond(
            response_url=context.response_url, proxy=client.proxy, ssl=client.ssl, redaction=policy
        )
        next_()

    return redact_bolt_context


def redact_body(body: bytes, content_type: str, policy: RedactionPolicy) -> bytes:
    """A response body for Slack, redacted: JSON as a payload (ids kept), anything else as text."""
    text = body.decode("utf-8", errors="surrogateescape")
    if "json" in content_type.lower():
        try:
            payload = jsonlib.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict | list):
            cleaned = redact_payload(payload, policy)
            return body if cleaned == payload else jsonlib.dumps(cleaned).encode()
    return redact_payload(text, policy).encode("utf-8", errors="surrogateescape")


def redacting_wsgi(app: Callable[..., Iterable[bytes]], policy: RedactionPolicy, *, path: str = EVENTS_PATH):
    """WSGI wrapper redacting what the app answers on `path` (Bolt's `ack(...)` bodies shown in Slack)."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != path:
            return app(environ, start_response)
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return chunks.append

        result = app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        headers = captured["headers"]
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        body = redact_body(b"".join(chunks), content_type, policy)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers, captured["exc_info"])
        return [body]

    return wrapped
