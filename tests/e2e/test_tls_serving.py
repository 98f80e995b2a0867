"""HTTPS by configuration (``http.tls_certfile``/``tls_keyfile``/``tls_keyfile_password``),
against a real ``dawai serve`` with a certificate from a test CA (trustme): health and an
SSE chat stream over TLS, plain HTTP refused on that port; start-up refused, in one line,
when only one file is set, a file cannot be read, or the key does not load."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from dawai.bootstrap.config import ConfigError, load_settings
from tests.conftest import upstream_env
from tests.e2e.test_server_process import free_port

PASSWORD = "pem-pass-S3CRET-6620"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """(ca, certfile, keyfile, encrypted keyfile) for 127.0.0.1 and localhost."""
    where = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile, locked = where / "cert.pem", where / "key.pem", where / "key-locked.pem"
    certfile.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    keyfile.write_bytes(cert.private_key_pem.bytes())
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), password=None)
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    return ca, certfile, keyfile, locked


def _serve(env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DAWAI_") and not k.endswith("_API_KEY")}
    full.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)],
        env=full,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.server
def test_https_serves_health_and_an_event_stream_and_refuses_plain_http(tmp_path, upstream, tls_files):
    ca, certfile, _, locked = tls_files
    upstream.reset()
    port = free_port()
    env = upstream_env(
        upstream,
        DAWAI_TLS_CERTFILE=str(certfile),
        DAWAI_TLS_KEYFILE=str(locked),
        DAWAI_TLS_KEYFILE_PASSWORD=PASSWORD,
    )
    log = tmp_path / "server.log"
    proc = _serve(env, log, port)
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    base = f"https://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, verify=trusted, timeout=20) as client:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    health = client.get("/health")
                    break
                except httpx.ConnectError as exc:
                    assert "CERTIFICATE" not in str(exc)
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)
            assert health.status_code == 200 and health.json()["status"] in ("ok", "degraded")
            events = []
            with client.stream(
                "POST", "/api/stream/chat", json={"message": "hi", "model": "openai/fake+chunks=5"}
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
            assert events[-1] == "[DONE]"
            assert [json.loads(e)["type"] for e in events[:-1]].count("text") == 5
        with pytest.raises(httpx.TransportError):  # no certificate we trust: the handshake fails
            httpx.get(base + "/health", verify=ssl.create_default_context(), timeout=10)
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
        except httpx.TransportError:
            plain = None
        assert plain is None or plain.status_code != 200
    finally:
        proc.terminate()
        proc.wait(20)
    text = log.read_text()
    assert "https://127.0.0.1" in text  # uvicorn says where it serves
    assert PASSWORD not in text and "Traceback" not in text


def test_start_up_is_refused_with_one_line_for_half_a_setting(tmp_path, tls_files):
    _, certfile, _, _ = tls_files
    log = tmp_path / "refused.log"
    proc = _serve({"DAWAI_TLS_CERTFILE": str(certfile)}, log, free_port())
    assert proc.wait(60) == 2
    out = log.read_text().strip()
    assert len(out.splitlines()) == 1
    assert "http.tls_certfile (from DAWAI_TLS_CERTFILE)" in out and "http.tls_keyfile is not set" in out


def test_bad_tls_settings_name_the_setting(tmp_path, tls_files):
    _, certfile, keyfile, locked = tls_files
    missing = tmp_path / "nope.pem"
    cases = [
        (
            {"DAWAI_TLS_KEYFILE": str(keyfile)},
            "http.tls_keyfile (from DAWAI_TLS_KEYFILE): http.tls_certfile is not set",
        ),
        ({"DAWAI_TLS_CERTFILE": str(missing), "DAWAI_TLS_KEYFILE": str(keyfile)}, "cannot read"),
        ({"DAWAI_TLS_CERTFILE": str(certfile), "DAWAI_TLS_KEYFILE": str(tmp_path)}, "http.tls_keyfile"),
        ({"DAWAI_TLS_CERTFILE": str(certfile), "DAWAI_TLS_KEYFILE": str(locked)}, "password"),
        (
            {
                "DAWAI_TLS_CERTFILE": str(certfile),
                "DAWAI_TLS_KEYFILE": str(locked),
                "DAWAI_TLS_KEYFILE_PASSWORD": "wrong-password",
            },
            "do not load together",
        ),
        ({"DAWAI_TLS_CERTFILE": str(keyfile), "DAWAI_TLS_KEYFILE": str(keyfile)}, "do not load together"),
        ({"DAWAI_TLS_KEYFILE_PASSWORD": PASSWORD}, "set without http.tls_keyfile"),
    ]
    for env, needle in cases:
        with pytest.raises(ConfigError, match=re.escape(needle)) as caught:
            load_settings(env)
        assert PASSWORD not in str(caught.value)
    good = load_settings(
        {
            "DAWAI_TLS_CERTFILE": str(certfile),
            "DAWAI_TLS_KEYFILE": str(locked),
            "DAWAI_TLS_KEYFILE_PASSWORD": PASSWORD,
        }
    )
    assert good.http.tls_keyfile == str(locked)
    config = tmp_path / "dawai.toml"
    config.write_text(f'[http]\ntls_certfile = "{certfile}"\ntls_keyfile = "{keyfile}"\n')
    assert load_settings({"DAWAI_CONFIG": str(config)}).http.tls_certfile == str(certfile)
