"""A real server with known tokens and provider keys: every operation of its schema, called
without a token, with a user's, an admin's and a wrong one, answers without any of them,
and none reaches the log."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

pytestmark = pytest.mark.server

USER, ADMIN, WRONG = "tok-user-S3CRETuser", "tok-admin-S3CRETadmin", "tok-wrong-S3CRETwrong"


def test_no_token_or_key_in_any_answer_or_log_line(tmp_path, upstream):
    config = tmp_path / "dawai.toml"
    admin_digest = hashlib.sha256(ADMIN.encode()).hexdigest()
    config.write_text(f'[[http.tokens]]\nname = "ops"\nrole = "admin"\nsha256 = "{admin_digest}"\n')
    env = upstream_env(upstream, DAWAI_API_TOKENS=USER, DAWAI_CONFIG=str(config))
    secrets = [
        USER,
        ADMIN,
        WRONG,
        hashlib.sha256(ADMIN.encode()).hexdigest(),
        hashlib.sha256(USER.encode()).hexdigest(),
    ]
    secrets += [env[k] for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY")]
    server = Server(env, tmp_path)
    answers: list[str] = []
    try:
        spec = httpx.get(server.base + "/schema/openapi.json").text
        answers.append(spec)
        paths = httpx.get(server.base + "/schema/openapi.json").json()["paths"]
        for path, item in paths.items():
            if "{" in path:
                continue
            for method in item:
                for token in (None, USER, ADMIN, WRONG):
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    body = {"message": "hi", "model": "claude-3-sonnet"} if method == "post" else None
                    response = httpx.request(
                        method.upper(), server.base + path, headers=headers, json=body, timeout=20
                    )
                    answers.append(f"{response.status_code} {response.headers} {response.text}")
        answers.append(httpx.get(server.base + "/health").text)
    finally:
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    assert any(" 403 " in a or a.startswith("403") for a in answers) and any(
        a.startswith("401") for a in answers
    )
    for secret in secrets:
        assert secret not in log
        assert not [a for a in answers if secret in a], secret
