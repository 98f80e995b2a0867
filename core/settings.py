"""Service settings: one frozen tree of msgspec structs with safe defaults.

``dawai.bootstrap.config`` fills it from defaults < the TOML file at ``DAWAI_CONFIG`` <
environment variables, and stops start-up with one line naming a bad setting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

import msgspec

__all__ = [
    "BUILTIN_PROVIDERS",
    "DEFAULT_MODEL",
    "AgentSettings",
    "AliasTarget",
    "ApiToken",
    "AuditSettings",
    "EngineSettings",
    "HttpSettings",
    "InferenceSettings",
    "LLMSettings",
    "LimitSettings",
    "LogSettings",
    "PluginSettings",
    "ProviderEndpoint",
    "ProviderVariables",
    "RateLimitSettings",
    "ReliabilitySettings",
    "Settings",
    "SingingSettings",
    "UpstreamLimits",
    "VoiceSettings",
    "default_aliases",
]

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]

AliasTarget = str  # "provider/upstream-model"
# A Host name this server answers to: a name, an IPv4 or [IPv6] address, *.domain, or *.
HostPattern = Annotated[
    str, msgspec.Meta(pattern=r"^(?:\*|(?:\*\.)?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])$")
]


class ApiToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One ``[[http.tokens]]`` entry: the token itself is never stored, only its SHA-256
    (``printf %s "$TOKEN" | sha256sum``)."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{64}$")]
    role: Literal["user", "admin"] = "user"


class HttpSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Port = 8000
    allowed_origins: tuple[str, ...] = ("http://localhost:5173",)
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1024 * 1024
    api_tokens: tuple[str, ...] = ()
    tokens: tuple[ApiToken, ...] = ()
    # Client addresses (CIDR; a bare address is one host), checked before anything else:
    # ip_allow empty allows every address not in ip_deny.
    ip_allow: tuple[str, ...] = ()
    ip_deny: tuple[str, ...] = ()
    # Peers whose X-Forwarded-For is believed (the reverse proxies in front of this server):
    # only proxies, never a network clients send from.
    trusted_proxies: tuple[str, ...] = ()
    # X-Forwarded-For hops read from the right, at most (one per trusted proxy in the chain).
    max_forwarded_hops: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # None: localhost, 127.0.0.1, [::1] and ``host`` (adapters/http/hosts.py).
    allowed_hosts: tuple[HostPattern, ...] | None = None
    # Seconds open streams (and render jobs) may go on after SIGTERM, new ones refused with
    # a 503, before each still open is ended with its in-band error (docs/adr/0029).
    drain_timeout: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 15.0
    # HTTPS without a proxy in front: a PEM certificate (chain) and its key, both or neither;
    # the key may be encrypted with a password (checked at start-up: bootstrap/config.py).
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    tls_keyfile_password: str | None = None


class RateLimitSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Requests per client (token name, else address) and route class, in ``limits``
    notation (``10/minute``, ``100 per hour``) or ``unlimited``; checked at start-up."""

    chat: str = "30/minute"  # chat, agent, generate
    synthesis: str = "30/minute"
    ghost_text: str = "600/minute"
    other: str = "600/minute"  # every other route but health and the docs
    # Redis keys begin with it (DAWAI_REDIS_URL); servers that share a Redis share limits.
    key_prefix: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "dawai:rl"
    # Seconds before Redis is tried again after it failed (limits are per process meanwhile).
    redis_retry: Positive = 5.0
    # Seconds one hit may wait for Redis before it counts in memory instead.
    redis_timeout: Positive = 1.0


class LimitSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[limits]``: how many long-running requests may be open at once in one worker
    process: event streams (chat, agent, any SSE route) and renders (singing), per client
    (token name, else address, as the rate limits count) and in all; 0: no cap. Past a cap
    the request is a 503 problem with ``Retry-After: busy_retry_after`` before any work
    starts (adapters/http/concurrency.py)."""

    streams: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1024
    streams_per_client: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 16
    renders: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 32
    renders_per_client: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 4
    # Seconds a refused client is told to wait (Retry-After) before it tries again.
    busy_retry_after: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 2


class AuditSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The audit log: one JSON event per AI request (adapters/http/audit.py)."""

    enabled: bool = True
    # None: the app log's stream (stderr); else a file, appended to (workers may share it).
    path: str | None = None
    # Also write the request's prompt, message, ghost text and lyrics (redacted, cut).
    include_text: bool = False
    # The HMAC key of client values; None: a random key per process (values then agree
    # only within one process: set it to follow a client across workers and restarts).
    client_key: Annotated[str, msgspec.Meta(min_length=16)] | None = None


class LogSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"
    access: bool = True


class PluginSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # None: every installed plugin; (): none; otherwise only the named ones.
    enabled: tuple[str, ...] | None = None
    disabled: tuple[str, ...] = ()


class ProviderEndpoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Settings for one provider, by name: a key, a base URL, models and options for a
    built-in or plugin provider; or, with ``kind = "openai-compatible"``, a new named
    OpenAI-compatible server (vLLM, llama.cpp, Ollama, LM Studio) addressed as ``NAME/model``."""

    kind: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    models: tuple[str, ...] = ()
    # Free-form settings handed to the provider factory (ProviderConfig.options).
    options: dict[str, Any] = {}
    # TLS for a server with its own CA: a PEM file trusted instead of the system's store,
    # or (never by default; logged at start-up) no verification at all.
    ca_bundle: str | None = None
    verify: bool = True
    # Requests in flight to this provider at once, per worker; None: llm.max_concurrency.
    max_concurrency: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None


class ProviderVariables(NamedTuple):
    """The environment variables of a built-in provider's endpoint: the official SDK's own
    names. ``keys``: the server key's, the first set one winning; the first also names the
    setting a missing key's 401 asks for."""

    keys: tuple[str, ...]
    base_url: str


BUILTIN_PROVIDERS: dict[str, ProviderVariables] = {
    "anthropic": ProviderVariables(("ANTHROPIC_API_KEY",), "ANTHROPIC_BASE_URL"),
    "openai": ProviderVariables(("OPENAI_API_KEY",), "OPENAI_BASE_URL"),
    "google": ProviderVariables(("GEMINI_API_KEY", "GOOGLE_API_KEY"), "GOOGLE_GEMINI_BASE_URL"),
}


class ReliabilitySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    connect_timeout: Positive = 5.0
    # Seconds a request waits for a connection when upstream.max_connections_per_origin are
    # open, and for a slot when its provider's max_concurrency requests are in flight.
    pool_timeout: Positive = 10.0
    # Seconds an upstream may go silent in the middle of a response before it is an error.
    stall_timeout: Positive = 30.0
    first_token_timeout: Positive = 30.0
    total_timeout: Positive = 300.0
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2
    backoff_base: NonNegative = 0.25
    backoff_max: NonNegative = 8.0
    # A Retry-After longer than this is not waited for: the 429 goes to the client.
    max_retry_wait: NonNegative = 10.0
    # SSE: a comment is sent after this many seconds without an event.
    heartbeat_interval: Positive = 10.0


class UpstreamLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What one upstream response may hold (past a limit it fails as a protocol error
    before much more than the limit is buffered), and how many connections one origin
    may have open (docs/adr/0008)."""

    max_head_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 64 * 1024  # status line and headers
    max_headers: Annotated[int, msgspec.Meta(ge=8)] = 100
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 16 * 1024 * 1024  # a body read whole
    max_event_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1024 * 1024  # one SSE line or event
    # Per origin and worker process, idle ones included; 0: no cap. A bound on a runaway
    # rather than a queue: a stream holds its connection for its whole length.
    max_connections_per_origin: Annotated[int, msgspec.Meta(ge=0)] = 1024
    # Seconds a name's resolved addresses are reused for new connections; 0: resolved each time.
    dns_ttl: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 10.0


# The model a chat (or agent) request gets when it names none: one of the built-in aliases.
DEFAULT_MODEL = "claude-3-sonnet"


def default_aliases() -> dict[str, str]:
    return {
        DEFAULT_MODEL: "anthropic/claude-sonnet-4-5",
        "gpt-4": "openai/gpt-4.1",
        "gemini-2.5-pro": "google/gemini-2.5-pro",
    }


class LLMSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    aliases: dict[str, AliasTarget] = msgspec.field(default_factory=default_aliases)
    fallbacks: dict[str, tuple[str, ...]] = {}
    prompt_strategy: str = "music-expert"
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=200_000)] = 4096
    # SDK clients kept (one per provider, key hash and base URL); least recently used go.
    client_cache_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 64
    # How many independent SDK clients (connection pools) one credential set spreads over.
    client_shards: Annotated[int, msgspec.Meta(ge=1, le=256)] = 8
    # What carries every provider's HTTP: our HTTP/1.1 transport or httpx2's own (docs/adr/0020).
    transport: Literal["dawai", "httpx"] = "dawai"
    # Requests in flight to one provider at once, per worker, unless providers.<name>.max_concurrency
    # says otherwise; past it requests wait up to reliability.pool_timeout, then 503. 0: no cap.
    max_concurrency: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1024


class AgentSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[agent]``: what one plan may do (README, Limits). What a request may hold is fixed
    in its schema (``agent.context``), so the OpenAPI document states it."""

    max_actions: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 64  # kept per plan; the rest dropped
    max_notes_per_action: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1024
    max_plan_notes: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 4096  # notes in all actions
    # Rounds that send a non-streamed plan's validation errors back to the model.
    repair_rounds: Annotated[int, msgspec.Meta(ge=0, le=3)] = 1


class InferenceSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # auto: CUDA when onnxruntime-gpu sees a device, else CPU; a CUDA session that fails
    # falls back to CPU with a warning and a health flag.
    execution_provider: Literal["auto", "cpu", "cuda"] = "auto"
    # Threads one voice or engine may use for inference; 0: the runtime chooses.
    threads: Annotated[int, msgspec.Meta(ge=0, le=256)] = 0
    ghost_text_engine: str = "local"
    # DiffSinger voicebanks (OpenUtau's format), one per folder: the folder's name is the voice.
    voices_dir: str | None = None
    # Vocoder packages (a folder each, with vocoder.yaml) that banks name in dsconfig.yaml.
    vocoders_dir: str | None = None
    # Voicebanks whose ONNX sessions stay loaded at once; the least recently used goes first.
    max_loaded_voices: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2


class SingingSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[singing]``: what one render may ask, how many run at once, the phrase cache."""

    # The longest render, in seconds of audio (the last note's end); longer gets 413.
    max_render_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 300.0
    # Renders at once per worker, and renders waiting for a slot (more: 503).
    concurrent_renders: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2
    queued_renders: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 16
    # The phrase cache's bound, in bytes of WAV (in Redis too, when redis_url is set).
    cache_max_bytes: Annotated[int, msgspec.Meta(ge=1)] = 256 * 1024 * 1024
    # Render jobs (/diffsinger/jobs), per worker: jobs held at once (finished ones make
    # room first), unfinished jobs one client may have, finished jobs' audio kept (bytes of
    # WAV, then the oldest go) and for how long. A stopping server lets unfinished jobs run
    # for http.drain_timeout.
    jobs_max: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 256
    jobs_per_client: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 4
    jobs_audio_bytes: Annotated[int, msgspec.Meta(ge=1)] = 256 * 1024 * 1024
    jobs_ttl: Annotated[float, msgspec.Meta(gt=0, le=7 * 24 * 3600)] = 600.0


class VoiceSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[voices.<name>]``: one voice's folder (overriding the plugin's and ``voices_dir``)
    and its free-form options (``VoiceConfig.options``)."""

    folder: str | None = None
    options: dict[str, Any] = {}


class EngineSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[engines.<name>]``: one ghost-text engine's folder (overriding the plugin's) and
    its free-form options (``EngineConfig.options``)."""

    folder: str | None = None
    options: dict[str, Any] = {}


class SummarySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Project summaries (``/api/update-summary``): how long and how many are kept, and the
    key profile set their key estimates use (docs/adr/0025)."""

    # The in-process store (no redis_url): projects kept, the least recently used go first.
    max_projects: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1000
    # The Redis store: seconds a project's summary is kept after its last update.
    ttl: Annotated[int, msgspec.Meta(ge=1, le=366 * 24 * 3600)] = 30 * 24 * 3600
    key_profile: Literal["krumhansl_kessler", "temperley", "albrecht_shanahan"] = "albrecht_shanahan"


class GhostTextSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[ghost_text]``: where and how ghost-text feedback is kept (docs/adr/0025)."""

    # The SQLite file feedback is kept in without redis_url; "" means
    # $XDG_STATE_HOME/dawai/ghost-feedback.sqlite3 (~/.local/state/...), ":memory:" none.
    feedback_path: str = ""
    # Keep accepted phrases as text (the per-user overlay); off, only hashed features are kept.
    store_text: bool = False
    # Keys the hashes of candidate texts that feedback counts for; set one per deployment.
    feature_salt: Annotated[str, msgspec.Meta(max_length=64)] = ""
    # Feedback counts halve every this many days.
    half_life_days: Annotated[float, msgspec.Meta(gt=0, le=3650)] = 14.0
    max_features: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 500  # per user
    max_phrases: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 200  # per user
    max_users: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 100_000  # SQLite only
    # "embedded": the engine inference.ghost_text_engine names alone; "hybrid": it and the
    # language model lm_engine names, the model merged when it answers within
    # lm_deadline_ms; "lm": the model alone (the embedded engine when it fails). A model
    # that does not load leaves the embedded engine, with /health degraded (docs/adr/0033).
    engine: Literal["embedded", "lm", "hybrid"] = "embedded"
    lm_engine: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "lm"
    lm_deadline_ms: Annotated[float, msgspec.Meta(gt=0, le=10_000)] = 50.0
    # Late model answers kept for the same question asked again.
    lm_late_entries: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 256


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    http: HttpSettings = HttpSettings()
    log: LogSettings = LogSettings()
    audit: AuditSettings = AuditSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    limits: LimitSettings = LimitSettings()
    plugins: PluginSettings = PluginSettings()
    llm: LLMSettings = msgspec.field(default_factory=LLMSettings)
    reliability: ReliabilitySettings = ReliabilitySettings()
    upstream: UpstreamLimits = UpstreamLimits()
    inference: InferenceSettings = InferenceSettings()
    agent: AgentSettings = AgentSettings()
    singing: SingingSettings = SingingSettings()
    providers: dict[str, ProviderEndpoint] = {}
    voices: dict[str, VoiceSettings] = {}
    engines: dict[str, EngineSettings] = {}
    summaries: SummarySettings = SummarySettings()
    ghost_text: GhostTextSettings = GhostTextSettings()
    redis_url: str | None = None

    def endpoint(self, name: str) -> ProviderEndpoint | None:
        return self.providers.get(name)
