from __future__ import annotations

import pytest

from dawai.bootstrap.config import ConfigError, load_settings, redacted


def test_defaults_bind_loopback_and_the_contract_origin():
    s = load_settings({})
    assert (s.http.host, s.http.port) == ("127.0.0.1", 8000)
    assert s.http.allowed_origins == ("http://localhost:5173",)
    assert s.http.max_body_bytes == 1024 * 1024
    assert set(s.providers) == {"anthropic", "openai", "google"}


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "dawai.toml"
    path.write_text('[http]\nport = 9001\nhost = "127.0.0.2"\n[llm.aliases]\nmine = "openai/gpt-5"\n')
    s = load_settings({"DAWAI_CONFIG": str(path), "API_PORT": "9002"})
    assert s.http.port == 9002 and s.http.host == "127.0.0.2"
    assert s.llm.aliases["mine"] == "openai/gpt-5" and "claude-3-sonnet" in s.llm.aliases


def test_provider_keys_and_base_urls_from_the_sdk_variables():
    s = load_settings({"GOOGLE_API_KEY": "g1", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"})
    assert s.providers["google"].api_key == "g1"
    assert s.providers["openai"].base_url == "http://127.0.0.1:1/v1"
    s = load_settings({"GOOGLE_API_KEY": "g1", "GEMINI_API_KEY": "g2"})
    assert s.providers["google"].api_key == "g2"


def test_plugin_lists():
    assert load_settings({"DAWAI_PLUGINS": ""}).plugins.enabled == ()
    assert load_settings({"DAWAI_PLUGINS": "a, b"}).plugins.enabled == ("a", "b")
    assert load_settings({}).plugins.enabled is None
    assert load_settings({"DAWAI_DISABLE_PLUGINS": "x"}).plugins.disabled == ("x",)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"API_PORT": "eighty"}, "http.port (from API_PORT)"),
        ({"API_PORT": "70000"}, "http.port (from API_PORT)"),
        ({"DAWAI_LOG_LEVEL": "loud"}, "log.level (from DAWAI_LOG_LEVEL)"),
        ({"DAWAI_MAX_BODY_BYTES": "-1"}, "http.max_body_bytes"),
        ({"DAWAI_FIRST_TOKEN_TIMEOUT": "0"}, "reliability.first_token_timeout"),
        ({"DAWAI_EXECUTION_PROVIDER": "tpu"}, "inference.execution_provider"),
        ({"DAWAI_CONFIG": "/no/such/file.toml"}, "no such file"),
    ],
)
def test_bad_settings_stop_with_one_line_naming_them(env, needle):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_malformed_or_unknown_file_settings(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[http\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"DAWAI_CONFIG": str(bad)})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[http]\nprot = 1\n")
    with pytest.raises(ConfigError, match=r"http.*prot"):
        load_settings({"DAWAI_CONFIG": str(unknown)})


def test_redacted_hides_every_secret():
    s = load_settings(
        {
            "ANTHROPIC_API_KEY": "sk-ant-secret",
            "DAWAI_API_TOKENS": "t1,t2",
            "DAWAI_REDIS_URL": "redis://:pw@127.0.0.1/0",
        }
    )
    shown = redacted(s)
    text = repr(shown)
    assert "sk-ant-secret" not in text and "t1" not in text and "pw@" not in text
    assert shown["providers"]["anthropic"]["api_key"] == "***"
    assert shown["http"]["api_tokens"] == ["***", "***"]


def test_allowed_hosts_from_the_environment_and_refused_patterns():
    assert load_settings({}).http.allowed_hosts is None
    hosts = load_settings(
        {"DAWAI_ALLOWED_HOSTS": "daw.example.org, *.studio.example,[::1],*"}
    ).http.allowed_hosts
    assert hosts == ("daw.example.org", "*.studio.example", "[::1]", "*")
    for bad in ("evil.example/x", "a b", "*.", "example.org:8000", "**.example"):
        with pytest.raises(ConfigError, match=r"http\.allowed_hosts"):
            load_settings({"DAWAI_ALLOWED_HOSTS": bad})


def test_stall_timeout_and_upstream_limits_reach_every_provider_config():
    from dawai.core.catalog import Catalog, ProviderEntry
    from dawai.core.provider_pool import ProviderPool
    from dawai.core.settings import UpstreamLimits

    env = {
        "DAWAI_STALL_TIMEOUT": "12.5",
        "DAWAI_UPSTREAM_MAX_HEAD_BYTES": "32768",
        "DAWAI_UPSTREAM_MAX_HEADERS": "50",
        "DAWAI_UPSTREAM_MAX_BODY_BYTES": "2097152",
        "DAWAI_UPSTREAM_MAX_EVENT_BYTES": "65536",
    }
    settings = load_settings(env)
    limits = UpstreamLimits(
        max_head_bytes=32768, max_headers=50, max_body_bytes=2097152, max_event_bytes=65536
    )
    assert (settings.reliability.stall_timeout, settings.upstream) == (12.5, limits)
    assert load_settings({}).reliability.stall_timeout == 30.0
    built = []

    class Made:
        name = "made"

    catalog = Catalog()
    catalog.providers["made"] = ProviderEntry(
        name="made", factory=lambda config: built.append(config) or Made()
    )
    ProviderPool(catalog, settings).get("made", "k")
    assert (built[0].stall_timeout, built[0].limits, built[0].read_timeout) == (12.5, limits, 300.0)
    with pytest.raises(ConfigError, match=r"upstream\.max_headers"):
        load_settings({"DAWAI_UPSTREAM_MAX_HEADERS": "1"})


def test_serve_host_and_port_flags_reach_every_worker_and_the_allowed_hosts():
    """``dawai serve --host`` binds there and accepts that Host: the flags go into the
    environment each worker loads its settings from."""
    import argparse

    from dawai.adapters.http.hosts import default_allowed_hosts
    from dawai.bootstrap.cli import _serve_settings

    environ: dict[str, str] = {}
    settings = _serve_settings(argparse.Namespace(host="192.168.1.5", port=9001), environ)
    assert (settings.http.host, settings.http.port) == ("192.168.1.5", 9001)
    assert environ == {"API_HOST": "192.168.1.5", "API_PORT": "9001"}
    assert "192.168.1.5" in default_allowed_hosts(settings.http.host)
    untouched: dict[str, str] = {"API_HOST": "10.0.0.1"}
    assert _serve_settings(argparse.Namespace(host=None, port=None), untouched).http.host == "10.0.0.1"
