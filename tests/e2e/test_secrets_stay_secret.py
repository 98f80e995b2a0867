"""A real server with known tokens and provider keys (one of them shaped like no key, so
only knowing it could hide it): every operation of its own schema (new routes join by
being served), called without a token, with a user's, an admin's and a wrong one, and with
the error paths: bodies that are bad, not JSON, too large or too deep, a key in the body,
upstream 401, 429 and 500 whose error messages repeat the credentials they were sent,
streams that fail before and after their first byte, our own 429s, 403s, 404s and 405s.
No answer (status line, headers, body, event streams) and no log line (app, access and
audit, at debug level) holds any secret, or its base64, hex or URL encoding; the digests
of the tokens appear nowhere either (they live only in the config file)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

# Some hundreds of requests, upstream failures among them: more than the default 120 s on
# a loaded machine.
pytestmark = [pytest.mark.server, pytest.mark.timeout(600)]

USER, ADMIN, WRONG = "tok-user-S3CRETuser", "tok-admin-S3CRETadmin", "tok-wrong-S3CRETwrong"
KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-LEAKanthropic" + "A" * 24,
    "OPENAI_API_KEY": "LEAKopenai.plain.key.0042",  # no known key shape: redaction must know it
    "GEMINI_API_KEY": "AIzaLEAKgemini" + "C" * 22,
}
BODY_KEY = "LEAKbody.plain.key.0077"  # brought by a request in apiKeys
NOTE = {"pitch": 69, "start": 0, "duration": 0.2, "lyric": "la"}
TRACK = {"id": "t1", "name": "Keys", "type": "midi", "notes": [{"pitch": 60, "time": 0, "duration": 1}]}
# A body each operation accepts, by the end of its path.
GOOD = {
    "chat": {"message": "hi", "model": "openai/fake"},
    "agent": {"prompt": "add keys", "model": "openai/fake"},
    "generate": {"prompt": "a bass line", "model": "openai/fake"},
    "update-summary": {"projectId": "p1", "tracks": [TRACK]},
    "synthesize": {"notes": [NOTE]},
    "complete": {"text": "I walk alone through the ci"},
    "analyze": {"text": "la la"},
    "feedback": {"text": "I walk", "candidate": "alone", "accepted": True, "userId": "u1"},
}
MODELS = ("chat", "agent", "generate")
UPSTREAM_FAILURES = ("status=401", "status=429+retry_after=0", "status=500", "error_after=1")
PROVIDERS = ("openai", "anthropic", "google")


def encodings(secret: str) -> set[str]:
    raw = secret.encode()
    found = {secret, raw.hex(), urllib.parse.quote(secret, safe="")}
    for skip in range(3):  # base64 of the secret at each alignment, its stable middle
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(raw[skip:]).decode().rstrip("=")
            found.add(text[2:-3])
    return found


def good_body(path: str) -> dict | None:
    return GOOD.get(path.rstrip("/").rsplit("/", 1)[-1])


def test_no_token_or_key_in_any_answer_or_log_line(tmp_path, upstream):
    upstream.reset()
    config = tmp_path / "dawai.toml"
    admin_digest = hashlib.sha256(ADMIN.encode()).hexdigest()
    config.write_text(f'[[http.tokens]]\nname = "ops"\nrole = "admin"\nsha256 = "{admin_digest}"\n')
    env = upstream_env(
        upstream,
        DAWAI_API_TOKENS=USER,
        DAWAI_CONFIG=str(config),
        DAWAI_LOG_LEVEL="debug",
        DAWAI_AUDIT_TEXT="true",
        DAWAI_MAX_BODY_BYTES="4096",
        DAWAI_MAX_RETRIES="0",
        DAWAI_RATE_LIMIT_GHOST_TEXT="3/minute",
        DAWAI_RATE_LIMIT_CHAT="unlimited",
        DAWAI_RATE_LIMIT_SYNTHESIS="unlimited",
        DAWAI_RATE_LIMIT_OTHER="unlimited",
        **KEYS,
    )
    secrets = [USER, ADMIN, WRONG, BODY_KEY, *KEYS.values()]
    digests = [hashlib.sha256(t.encode()).hexdigest() for t in (USER, ADMIN, WRONG)]
    server = Server(env, tmp_path)
    answers: list[str] = []
    statuses: set[int] = set()

    def call(method: str, path: str, token: str | None, **kwargs) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        response = httpx.request(method, server.base + path, headers=headers, timeout=30, **kwargs)
        statuses.add(response.status_code)
        head = f"{response.status_code} {response.reason_phrase} {response.headers.multi_items()}"
        answers.append(f"{head} {response.text}")

    try:
        schema = httpx.get(server.base + "/schema/openapi.json").json()
        answers.append(json.dumps(schema))
        operations = [
            (method.upper(), re.sub(r"\{[^}]+\}", "default", path))
            for path, item in schema["paths"].items()
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        ]
        assert len(operations) > 20
        for method, path in operations:
            body = good_body(path) if method == "POST" else None
            for token in (None, USER, ADMIN, WRONG):
                call(method, path, token, json=body)
            if method != "POST":
                continue
            call(method, path, ADMIN, json={"message": 5, "apiKeys": {"openai": BODY_KEY}})
            call(
                method,
                path,
                ADMIN,
                content=f"not json {BODY_KEY}",
                headers={"content-type": "application/json"},
            )
            call(method, path, ADMIN, json={"pad": BODY_KEY * 400})  # past max_body_bytes: 413
            call(
                method,
                path,
                ADMIN,
                content="[" * 200 + "]" * 200,
                headers={"content-type": "application/json"},
            )
            # /ai/api serves the same handlers as /api: the upstream's failures once each.
            if path.rsplit("/", 1)[-1] in MODELS and path.startswith("/api/"):
                name = path.rsplit("/", 1)[-1]
                for n, failure in enumerate(UPSTREAM_FAILURES):
                    for provider in (PROVIDERS[n % 3], PROVIDERS[(n + 1) % 3]):
                        model = f"{provider}/fake+{failure}+echo_key=1"
                        call(method, path, ADMIN, json={**GOOD[name], "model": model})
                # The request's own key, to the upstream and back in its error.
                bad = {
                    **GOOD[name],
                    "model": "openai/fake+status=401+echo_key=1",
                    "apiKeys": {"openai": BODY_KEY},
                }
                call(method, path, ADMIN, json=bad)
                call(method, path, ADMIN, json={**GOOD[name], "apiKey": BODY_KEY + "\n"})
        for _ in range(4):  # our own 429 (ghost text: 3 a minute)
            call("POST", "/ghost_text/complete", ADMIN, json=GOOD["complete"])
        call("GET", "/api/no-such-route", ADMIN)
        call("DELETE", "/health", ADMIN)
        call("GET", "/api/admin/config", USER)
        answers.append(httpx.get(server.base + "/health").text)
        answers.append(httpx.get(server.base + "/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text)
    finally:
        server.stop()
    assert {401, 403, 404, 405, 413, 429, 502} <= statuses, statuses
    assert any(s >= 500 for s in statuses) and 200 in statuses
    assert any(" text/event-stream" in a or "text/event-stream" in a for a in answers)
    assert any('"type":"error"' in a for a in answers)  # an in-band stream error was read
    assert sum("you sent" in r.body.get("error", {}).get("message", "") for r in []) == 0
    log = server.log.read_text()
    assert '"event":"audit"' in log and '"event": "request"' in log  # audit and access lines
    assert "Traceback" not in log
    assert len(upstream.requests) > 30  # the upstream failures were really asked for
    for secret in secrets:
        for form in encodings(secret):
            assert form not in log, (secret, form)
            assert not [a for a in answers if form in a], (secret, form)
    for digest in digests:
        assert digest not in log
        assert not [a for a in answers if digest in a], digest
