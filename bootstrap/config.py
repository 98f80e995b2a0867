"""Settings loading: defaults < TOML file at ``DAWAI_CONFIG`` < environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from dawai.core.errors import InvalidInput
from dawai.core.settings import BUILTIN_PROVIDERS, Settings, default_aliases
from dawai.core.upstream_values import check_api_key

__all__ = ["ENV_VARS", "ConfigError", "load_settings", "redacted"]


class ConfigError(Exception):
    """A setting is invalid; the message is one line naming it."""


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# env var -> (path in the settings tree, parser). Parsers keep strings; msgspec converts.
ENV_VARS: dict[str, tuple[tuple[str, ...], Any]] = {
    "API_HOST": (("http", "host"), str),
    "API_PORT": (("http", "port"), str),
    "ALLOWED_ORIGINS": (("http", "allowed_origins"), _csv),
    "DAWAI_MAX_BODY_BYTES": (("http", "max_body_bytes"), str),
    "DAWAI_API_TOKENS": (("http", "api_tokens"), _csv),
    "DAWAI_ALLOWED_HOSTS": (("http", "allowed_hosts"), _csv),
    "DAWAI_IP_ALLOW": (("http", "ip_allow"), _csv),
    "DAWAI_IP_DENY": (("http", "ip_deny"), _csv),
    "DAWAI_TRUSTED_PROXIES": (("http", "trusted_proxies"), _csv),
    "DAWAI_MAX_FORWARDED_HOPS": (("http", "max_forwarded_hops"), str),
    "DAWAI_WORKERS": (("http", "workers"), str),
    "DAWAI_DRAIN_TIMEOUT": (("http", "drain_timeout"), str),
    "DAWAI_TLS_CERTFILE": (("http", "tls_certfile"), str),
    "DAWAI_TLS_KEYFILE": (("http", "tls_keyfile"), str),
    "DAWAI_TLS_KEYFILE_PASSWORD": (("http", "tls_keyfile_password"), str),
    "DAWAI_RATE_LIMIT_CHAT": (("rate_limits", "chat"), str),
    "DAWAI_RATE_LIMIT_SYNTHESIS": (("rate_limits", "synthesis"), str),
    "DAWAI_RATE_LIMIT_GHOST_TEXT": (("rate_limits", "ghost_text"), str),
    "DAWAI_RATE_LIMIT_OTHER": (("rate_limits", "other"), str),
    "DAWAI_RATE_LIMIT_PREFIX": (("rate_limits", "key_prefix"), str),
    "DAWAI_MAX_STREAMS": (("limits", "streams"), str),
    "DAWAI_MAX_STREAMS_PER_CLIENT": (("limits", "streams_per_client"), str),
    "DAWAI_MAX_RENDERS": (("limits", "renders"), str),
    "DAWAI_MAX_RENDERS_PER_CLIENT": (("limits", "renders_per_client"), str),
    "DAWAI_BUSY_RETRY_AFTER": (("limits", "busy_retry_after"), str),
    "DAWAI_LOG_LEVEL": (("log", "level"), str.lower),
    "DAWAI_LOG_FORMAT": (("log", "format"), str.lower),
    "DAWAI_ACCESS_LOG": (("log", "access"), str),
    "DAWAI_AUDIT": (("audit", "enabled"), str),
    "DAWAI_AUDIT_PATH": (("audit", "path"), str),
    "DAWAI_AUDIT_TEXT": (("audit", "include_text"), str),
    "DAWAI_AUDIT_CLIENT_KEY": (("audit", "client_key"), str),
    "DAWAI_PLUGINS": (("plugins", "enabled"), _csv),
    "DAWAI_DISABLE_PLUGINS": (("plugins", "disabled"), _csv),
    # Each built-in provider's key and base URL; of two key variables the first wins (set last).
    **{
        var: (("providers", name, "api_key"), str)
        for name, variables in BUILTIN_PROVIDERS.items()
        for var in reversed(variables.keys)
    },
    **{
        variables.base_url: (("providers", name, "base_url"), str)
        for name, variables in BUILTIN_PROVIDERS.items()
    },
    "DAWAI_PROMPT_STRATEGY": (("llm", "prompt_strategy"), str),
    "DAWAI_MAX_TOKENS": (("llm", "max_tokens"), str),
    "DAWAI_CLIENT_SHARDS": (("llm", "client_shards"), str),
    "DAWAI_LLM_TRANSPORT": (("llm", "transport"), str.lower),
    "DAWAI_PROVIDER_MAX_CONCURRENCY": (("llm", "max_concurrency"), str),
    "DAWAI_CONNECT_TIMEOUT": (("reliability", "connect_timeout"), str),
    "DAWAI_POOL_TIMEOUT": (("reliability", "pool_timeout"), str),
    "DAWAI_STALL_TIMEOUT": (("reliability", "stall_timeout"), str),
    "DAWAI_FIRST_TOKEN_TIMEOUT": (("reliability", "first_token_timeout"), str),
    "DAWAI_TOTAL_TIMEOUT": (("reliability", "total_timeout"), str),
    "DAWAI_MAX_RETRIES": (("reliability", "max_retries"), str),
    "DAWAI_HEARTBEAT_INTERVAL": (("reliability", "heartbeat_interval"), str),
    "DAWAI_UPSTREAM_MAX_HEAD_BYTES": (("upstream", "max_head_bytes"), str),
    "DAWAI_UPSTREAM_MAX_HEADERS": (("upstream", "max_headers"), str),
    "DAWAI_UPSTREAM_MAX_BODY_BYTES": (("upstream", "max_body_bytes"), str),
    "DAWAI_UPSTREAM_MAX_EVENT_BYTES": (("upstream", "max_event_bytes"), str),
    "DAWAI_UPSTREAM_MAX_CONNECTIONS": (("upstream", "max_connections_per_origin"), str),
    "DAWAI_UPSTREAM_DNS_TTL": (("upstream", "dns_ttl"), str),
    "DAWAI_EXECUTION_PROVIDER": (("inference", "execution_provider"), str.lower),
    "DAWAI_INFERENCE_THREADS": (("inference", "threads"), str),
    "DAWAI_GHOST_TEXT_ENGINE": (("inference", "ghost_text_engine"), str),
    "DAWAI_GHOST_FEEDBACK_PATH": (("ghost_text", "feedback_path"), str),
    "DAWAI_GHOST_STORE_TEXT": (("ghost_text", "store_text"), str),
    "DAWAI_GHOST_FEATURE_SALT": (("ghost_text", "feature_salt"), str),
    "DAWAI_GHOST_ENGINE": (("ghost_text", "engine"), str.lower),
    "DAWAI_GHOST_LM_ENGINE": (("ghost_text", "lm_engine"), str),
    "DAWAI_GHOST_LM_DEADLINE_MS": (("ghost_text", "lm_deadline_ms"), str),
    "DAWAI_GHOST_LM_FOLDER": (("engines", "lm", "folder"), str),
    "DAWAI_VOICES_DIR": (("inference", "voices_dir"), str),
    "DAWAI_VOCODERS_DIR": (("inference", "vocoders_dir"), str),
    "DAWAI_MAX_LOADED_VOICES": (("inference", "max_loaded_voices"), str),
    "DAWAI_SUMMARY_MAX_PROJECTS": (("summaries", "max_projects"), str),
    "DAWAI_SUMMARY_TTL": (("summaries", "ttl"), str),
    "DAWAI_KEY_PROFILE": (("summaries", "key_profile"), str.lower),
    "DAWAI_SING_MAX_SECONDS": (("singing", "max_render_seconds"), str),
    "DAWAI_SING_RENDERS": (("singing", "concurrent_renders"), str),
    "DAWAI_SING_QUEUE": (("singing", "queued_renders"), str),
    "DAWAI_AUDIO_CACHE_BYTES": (("singing", "cache_max_bytes"), str),
    "DAWAI_SING_JOBS": (("singing", "jobs_max"), str),
    "DAWAI_SING_JOBS_PER_CLIENT": (("singing", "jobs_per_client"), str),
    "DAWAI_SING_JOB_TTL": (("singing", "jobs_ttl"), str),
    "DAWAI_REDIS_URL": (("redis_url",), str),
}

_SECRET_KEYS = frozenset(
    {"api_key", "api_tokens", "redis_url", "sha256", "client_key", "tls_keyfile_password"}
)


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        node = tree.get(part)
        if not isinstance(node, dict):
            node = tree[part] = {}
        tree = node
    tree[path[-1]] = value


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"DAWAI_CONFIG: no such file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"DAWAI_CONFIG: {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"DAWAI_CONFIG: cannot read {path}: {exc.strerror}") from None


_AT = re.compile(r"- at `\$((?:\.[^`\[]+|\[[^\]]*\])*)`")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build validated settings, or raise ``ConfigError`` with one clear line."""
    env = os.environ if environ is None else environ
    tree: dict[str, Any] = {}
    config_path = env.get("DAWAI_CONFIG")
    if config_path:
        tree = _read_toml(config_path)
    from_env: dict[tuple[str, ...], str] = {}
    for var, (path, parse) in ENV_VARS.items():
        raw = env.get(var)
        if raw is None or (raw == "" and path[-1] not in {"enabled"}):
            continue
        _set(tree, path, parse(raw))
        from_env[path] = var
    llm = tree.get("llm")
    if isinstance(llm, dict) and isinstance(llm.get("aliases"), dict):
        # Configured aliases add to (or override) the built-in ones, never erase them.
        llm["aliases"] = {**default_aliases(), **llm["aliases"]}
    providers = tree.setdefault("providers", {})
    if not isinstance(providers, dict):
        raise ConfigError("invalid setting providers: expected a table of provider endpoints")
    for name in BUILTIN_PROVIDERS:
        entry = providers.setdefault(name, {})
        if isinstance(entry, dict):
            entry.setdefault("kind", name)
    try:
        settings = msgspec.convert(tree, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_describe(str(exc), from_env)) from None
    _check_keys(settings, from_env)
    _check_tls(settings)
    _check_serving_tls(settings, from_env)
    _check_networks(settings, from_env)
    _check_tokens(settings, from_env)
    _check_rate_limits(settings, from_env)
    return settings


def _check_rate_limits(settings: Settings, from_env: dict[tuple[str, ...], str]) -> None:
    """Each class's limit in ``limits`` notation, one limit, or ``unlimited``."""
    from limits import parse_many

    for name in ("chat", "synthesis", "ghost_text", "other"):
        value = getattr(settings.rate_limits, name).strip()
        if value.lower() == "unlimited":
            continue
        path = ("rate_limits", name)
        where = ".".join(path) + _source(path, from_env)
        try:
            items = parse_many(value)
        except ValueError:
            raise ConfigError(
                f"invalid setting {where}: {value!r} is not a limit like '30/minute' (or 'unlimited')"
            ) from None
        if len(items) != 1:
            raise ConfigError(f"invalid setting {where}: one limit per route class, not {len(items)}")


def _check_networks(settings: Settings, from_env: dict[tuple[str, ...], str]) -> None:
    """Each address list holds addresses or CIDR networks (``10.0.0.0/8``, ``::1``)."""
    for name in ("ip_allow", "ip_deny", "trusted_proxies"):
        for entry in getattr(settings.http, name):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                path = ("http", name)
                where = ".".join(path) + _source(path, from_env)
                raise ConfigError(
                    f"invalid setting {where}: {entry!r} is not an IP address or network"
                ) from None


def _check_tokens(settings: Settings, from_env: dict[tuple[str, ...], str]) -> None:
    """Token names are what rate limits and logs know a client by: one each. A plain
    ``DAWAI_API_TOKENS`` entry may carry a role (``admin:<token>``); a digest must be hex."""
    names = [t.name for t in settings.http.tokens]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(
            f"invalid setting http.tokens (from DAWAI_CONFIG): the name {repeated[0]!r} is used twice"
        )
    path = ("http", "api_tokens")
    for entry in settings.http.api_tokens:
        _, _, rest = entry.partition(":") if entry.startswith(("admin:", "user:")) else ("", "", entry)
        if not rest:
            raise ConfigError(f"invalid setting http.api_tokens{_source(path, from_env)}: an empty token")
        if rest.startswith("sha256:"):
            digest = rest.removeprefix("sha256:")
            if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
                where = f"http.api_tokens{_source(path, from_env)}"
                raise ConfigError(f"invalid setting {where}: a sha256: entry needs 64 hex digits")


def _check_tls(settings: Settings) -> None:
    """A provider's ``ca_bundle`` must be a PEM file that loads, and means nothing with
    ``verify = false``: both stop start-up rather than the first request."""
    for name, endpoint in settings.providers.items():
        if endpoint.ca_bundle is None:
            continue
        where = f"providers.{name}.ca_bundle (from DAWAI_CONFIG)"
        if not endpoint.verify:
            raise ConfigError(f"invalid setting {where}: a CA bundle with verify = false; keep one of them")
        try:
            ssl.create_default_context(cafile=endpoint.ca_bundle)
        except FileNotFoundError:
            raise ConfigError(f"invalid setting {where}: no such file: {endpoint.ca_bundle}") from None
        except ssl.SSLError:
            raise ConfigError(f"invalid setting {where}: not a PEM file of CA certificates") from None
        except OSError as exc:
            raise ConfigError(f"invalid setting {where}: {exc.strerror or exc}") from None


def _no_password() -> str:
    return ""


def _check_serving_tls(settings: Settings, from_env: dict[tuple[str, ...], str]) -> None:
    """``http.tls_certfile`` and ``http.tls_keyfile``: both or neither, each a file this
    process can read, and together a certificate and its key (decrypted by the password
    when there is one), checked by loading them as the server will."""
    http = settings.http

    def where(name: str) -> str:
        return f"http.{name}{_source(('http', name), from_env)}"

    cert, key, password = http.tls_certfile, http.tls_keyfile, http.tls_keyfile_password
    if cert is None and key is None:
        if password is not None:
            raise ConfigError(
                f"invalid setting {where('tls_keyfile_password')}: set without http.tls_keyfile"
            )
        return
    if cert is None or key is None:
        given, missing = ("tls_certfile", "tls_keyfile") if key is None else ("tls_keyfile", "tls_certfile")
        raise ConfigError(f"invalid setting {where(given)}: http.{missing} is not set; TLS needs both")
    for name, path in (("tls_certfile", cert), ("tls_keyfile", key)):
        try:
            with Path(path).open("rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise ConfigError(
                f"invalid setting {where(name)}: cannot read {path}: {exc.strerror or exc}"
            ) from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # Without a password, a callable: OpenSSL would otherwise ask on the terminal.
        context.load_cert_chain(cert, key, password if password is not None else _no_password)
    except (ssl.SSLError, OSError, ValueError):
        raise ConfigError(
            f"invalid setting {where('tls_keyfile')}: the certificate and key do not load together"
            " (not PEM, not a matching pair, or the key's password is wrong or missing)"
        ) from None


def _check_keys(settings: Settings, from_env: dict[tuple[str, ...], str]) -> None:
    """A server key becomes a header value on every request: one with a line break (a
    key file read with its newline) or a non-ASCII character stops start-up instead."""
    for name, endpoint in settings.providers.items():
        if not endpoint.api_key:
            continue
        path = ("providers", name, "api_key")
        try:
            check_api_key(".".join(path), endpoint.api_key)
        except InvalidInput as exc:
            where = ".".join(path) + _source(path, from_env)
            raise ConfigError(f"invalid setting {where}: {exc.errors[0].message}") from None


def _describe(message: str, from_env: dict[tuple[str, ...], str]) -> str:
    match = _AT.search(message)
    what = message.split(" - at ")[0]
    if not match:
        return f"invalid settings: {what}"
    dotted = match.group(1).lstrip(".").replace("[", ".").replace("]", "").replace('"', "")
    path = tuple(p for p in dotted.split(".") if p)
    return f"invalid setting {'.'.join(path)}{_source(path, from_env)}: {what}"


def _source(path: tuple[str, ...], from_env: dict[tuple[str, ...], str]) -> str:
    """Where a setting came from: the environment variable that set it (or a table above
    it), else the config file."""
    origin = next((var for p, var in from_env.items() if path[: len(p)] == p), None)
    return f" (from {origin})" if origin else " (from DAWAI_CONFIG)" if path else ""


def redacted(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, with every secret shown as ``***``."""

    def scrub(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: scrub(v, k) for k, v in node.items()}
        if key in _SECRET_KEYS and node:
            return ["***" for _ in node] if isinstance(node, list | tuple) else "***"
        if isinstance(node, list | tuple):
            return [scrub(v) for v in node]
        return node

    return scrub(msgspec.to_builtins(settings))
