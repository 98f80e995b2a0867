"""The dependency-injector container: the one place that builds long-lived things.

Litestar never sees the container; ``dawai.adapters.http.app`` receives small typed
functions that call its providers. Tests swap parts with ``container.x.override(fake)``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Literal

import structlog
from dependency_injector import containers, providers

from dawai.adapters.http.audit import AuditSink
from dawai.adapters.http.concurrency import slot_counters
from dawai.adapters.http.drain import StreamDrain
from dawai.adapters.http.metrics import HttpMetrics
from dawai.adapters.http.rate_limit import RateLimits, parse_limit
from dawai.adapters.http.route_set import RateClass
from dawai.adapters.internals import Verdict, verdicts
from dawai.adapters.render_jobs import InProcessRenderJobs
from dawai.adapters.stores import (
    MemoryAudioCache,
    MemorySummaryStore,
    RedisAudioCache,
    RedisFeedbackStore,
    RedisSummaryStore,
    SqliteFeedbackStore,
    redis_client,
)
from dawai.bootstrap.config import redacted
from dawai.bootstrap.lifecycle import Drains
from dawai.core.agent.offline.hook import LocalAgentPlanner
from dawai.core.agent.service import AgentService
from dawai.core.chat import ChatService
from dawai.core.errors import DawaiError
from dawai.core.gateway import LLMGateway
from dawai.core.generation.service import GenerateService
from dawai.core.ghost.hybrid import HybridCompleter
from dawai.core.ghost.service import EngineHealth, GhostTextHandle, GhostTextService, Learning
from dawai.core.inference import build_completer
from dawai.core.models import Audio
from dawai.core.prompting import build_strategy
from dawai.core.provider_pool import ProviderPool
from dawai.core.routing import ModelRouter
from dawai.core.settings import Settings
from dawai.core.singing.service import SingingService
from dawai.core.summaries import SummaryService
from dawai.core.telemetry import CountedAudioCache, CountedSummaryStore
from dawai.plugins.manager import PluginHost, build_plugin_manager, distribution_version

__all__ = ["Container", "build_container", "feedback_path"]

DAY_SECONDS = 24 * 60 * 60.0

log = structlog.get_logger("dawai.app")


def _store_backend(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


def _redis(settings: Settings) -> Any:
    """The shared Redis client when ``DAWAI_REDIS_URL`` is set, else ``None`` (it connects lazily)."""
    return redis_client(settings.redis_url) if settings.redis_url else None


async def _redis_lifetime(client: Any) -> AsyncIterator[Any]:
    """Closes the Redis client's connections at shutdown."""
    yield client
    if client is not None:
        await client.aclose()


def _by_backend(backend: Any, client: Any, memory: type, shared: type) -> providers.Selector:
    """One store, chosen by ``backend``: in-process, or on the shared Redis ``client``."""
    return providers.Selector(
        backend, memory=providers.Singleton(memory), redis=providers.Singleton(shared, client)
    )


def _rate_limits(settings: Settings) -> RateLimits:
    config = settings.rate_limits
    return RateLimits(
        {c: parse_limit(getattr(config, c.setting)) for c in RateClass if c is not RateClass.UNLIMITED},
        redis_url=settings.redis_url,
        key_prefix=config.key_prefix,
        redis_retry=config.redis_retry,
        redis_timeout=config.redis_timeout,
    )


async def _rate_limits_lifetime(limits: RateLimits) -> AsyncIterator[RateLimits]:
    """Closes the rate limits' Redis connections at shutdown."""
    yield limits
    await limits.aclose()


def _internal_checks(host: PluginHost) -> list[Verdict]:
    """The private parts of dependencies the loaded built-in providers rely on, as checked
    so far (docs/adr/0021)."""
    infos = host.infos
    return verdicts(plugins=lambda name: name in infos and infos[name].status == "loaded")


def _wav_bytes(audio: Audio) -> bytes:
    """The phrase as WAV (soundfile and numpy load with the first render)."""
    from dawai.adapters.inference.audio import wav_bytes

    return wav_bytes(audio)


def _voice_report(event: str, voice: str, error: str) -> None:
    structlog.get_logger("dawai.singing").error(event, voice=voice, error=error)


async def _singing_lifetime(service: SingingService) -> AsyncIterator[SingingService]:
    """Closes every voice that was built (their thread pools, sessions) at shutdown."""
    yield service
    await service.aclose()


async def _render_jobs_lifetime(jobs: InProcessRenderJobs) -> AsyncIterator[InProcessRenderJobs]:
    """Stops every unfinished render job at shutdown."""
    yield jobs
    await jobs.aclose()


async def _pool_lifetime(pool: ProviderPool) -> AsyncIterator[ProviderPool]:
    """Closes every SDK client (and its connection pool) at shutdown."""
    yield pool
    await pool.aclose()


def feedback_path(settings: Settings, environ: Mapping[str, str] = os.environ) -> str:
    """``ghost_text.feedback_path``, or the default under the XDG state folder."""
    if settings.ghost_text.feedback_path:
        return settings.ghost_text.feedback_path
    state = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "dawai", "ghost-feedback.sqlite3")


def _sqlite_feedback(settings: Settings) -> SqliteFeedbackStore:
    ghost = settings.ghost_text
    return SqliteFeedbackStore(
        feedback_path(settings),
        max_features=ghost.max_features,
        max_phrases=ghost.max_phrases,
        max_users=ghost.max_users,
        half_life=ghost.half_life_days * DAY_SECONDS,
    )


def _redis_feedback(client: Any, settings: Settings) -> RedisFeedbackStore:
    ghost = settings.ghost_text
    return RedisFeedbackStore(
        client,
        max_features=ghost.max_features,
        max_phrases=ghost.max_phrases,
        half_life=ghost.half_life_days * DAY_SECONDS,
    )


def _audit_sink(settings: Settings) -> AuditSink:
    if settings.audit.client_key is None and settings.audit.enabled:
        log.info("audit_client_key_random", setting="audit.client_key")
    return AuditSink(settings.audit.path)


async def _audit_lifetime(sink: AuditSink) -> AsyncIterator[AuditSink]:
    yield sink
    sink.close()


async def _closed_at_shutdown(store: Any) -> AsyncIterator[Any]:
    """Closes a store that holds something (the SQLite file) at shutdown."""
    yield store
    await store.aclose()


def _ghost_text(catalog: Any, settings: Settings, feedback: Any, telemetry: Any) -> GhostTextHandle:
    """Ghost text over ``inference.ghost_text_engine``, with the language model
    ``ghost_text.lm_engine`` when ``ghost_text.engine`` is lm or hybrid, built on first use.
    A model that does not build leaves the embedded engine alone, logged, and
    ``/health`` degraded with the reason."""
    ghost = settings.ghost_text
    learning = Learning(ghost.store_text, ghost.feature_salt, ghost.half_life_days * DAY_SECONDS)
    health = EngineHealth(ghost.engine, "off" if ghost.engine == "embedded" else "loading")

    def build() -> GhostTextService:
        embedded = build_completer(catalog, settings)
        engines: list[Any] = [embedded]
        if ghost.engine != "embedded":
            try:
                lm = build_completer(catalog, settings, ghost.lm_engine)
            except Exception as exc:  # any failure to load leaves the embedded engine serving
                health.lm = "degraded"
                health.reason = str(exc.detail) if isinstance(exc, DawaiError) else type(exc).__name__
                structlog.get_logger("dawai.ghost_text").warning(
                    "ghost_lm_unavailable", engine=ghost.lm_engine, reason=health.reason
                )
            else:
                mode: Literal["lm", "hybrid"] = "lm" if ghost.engine == "lm" else "hybrid"
                hybrid = HybridCompleter(
                    embedded,
                    lm,
                    deadline=ghost.lm_deadline_ms / 1000,
                    mode=mode,
                    late_entries=ghost.lm_late_entries,
                )
                engines = [hybrid]
                health.lm, health.counts = "ready", hybrid.stats.counts
        return GhostTextService(engines, feedback, learning=learning, telemetry=telemetry)

    return GhostTextHandle(build, health)


def _drains(settings: Settings, streams: StreamDrain, render_jobs: InProcessRenderJobs) -> Drains:
    drains = Drains(settings.http.drain_timeout)
    drains.add("streams", streams)
    drains.add("render_jobs", render_jobs)
    return drains


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    # What GET /api/admin/config shows: the settings, every secret as ***.
    effective_settings = providers.Callable(redacted, settings)
    version = providers.Callable(distribution_version, "dawai-backend")

    plugin_host = providers.Singleton(build_plugin_manager, settings)
    catalog = providers.Callable(lambda host: host.catalog, plugin_host)
    # Checked again on every call: an SDK's own checks run when it loads.
    internal_checks = providers.Callable(_internal_checks, plugin_host)

    environ = providers.Object(os.environ)
    model_router = providers.Singleton(
        ModelRouter, settings, catalog, plugin_resolver=plugin_host.provided.resolve_model, environ=environ
    )
    # Called after start-up and after a provider's SDK loads; ``dawai serve`` sets it to
    # ``settle_heap`` (docs/adr/0009). None in tests, which build many apps in one process.
    heap_settler: providers.Object[Callable[[], None] | None] = providers.Object(None)
    provider_pool = providers.Singleton(ProviderPool, catalog, settings, heap_settler)
    provider_pool_lifetime = providers.Resource(_pool_lifetime, provider_pool)

    # What GET /metrics shows (prometheus-client; multi-process with PROMETHEUS_MULTIPROC_DIR),
    # and the core's Telemetry: the services below report to it.
    http_metrics = providers.Singleton(HttpMetrics)

    prompt_strategy = providers.Singleton(build_strategy, catalog, settings.provided.llm.prompt_strategy)

    # Stores: in-process by default, Redis (shared by workers) when a URL is configured.
    store_backend = providers.Callable(_store_backend, settings)
    redis = providers.Singleton(_redis, settings)
    redis_lifetime = providers.Resource(_redis_lifetime, redis)
    summary_store = providers.Selector(
        store_backend,
        memory=providers.Singleton(MemorySummaryStore, max_entries=settings.provided.summaries.max_projects),
        redis=providers.Singleton(RedisSummaryStore, redis, ttl_seconds=settings.provided.summaries.ttl),
    )
    # Ghost-text feedback: SQLite on this machine, or Redis shared by every worker.
    feedback_store = providers.Selector(
        store_backend,
        memory=providers.Singleton(_sqlite_feedback, settings),
        redis=providers.Singleton(_redis_feedback, redis, settings),
    )
    feedback_lifetime = providers.Resource(_closed_at_shutdown, feedback_store)
    # The phrase cache, bounded by singing.cache_max_bytes in either backend.
    audio_cache = providers.Selector(
        store_backend,
        memory=providers.Singleton(MemoryAudioCache, max_bytes=settings.provided.singing.cache_max_bytes),
        redis=providers.Singleton(
            RedisAudioCache, redis, max_bytes=settings.provided.singing.cache_max_bytes
        ),
    )
    # The same two, their reads counted as hits and misses (dawai_cache_lookups_total).
    counted_summary_store = providers.Singleton(CountedSummaryStore, summary_store, http_metrics)
    counted_audio_cache = providers.Singleton(CountedAudioCache, audio_cache, http_metrics)
    # Project summaries (/api/update-summary) and their text in chat and agent prompts.
    summary_service = providers.Singleton(
        SummaryService, counted_summary_store, profile=settings.provided.summaries.key_profile
    )

    ghost_text = providers.Singleton(_ghost_text, catalog, settings, feedback_store, http_metrics)

    # Requests per client and route class (adapters/http/rate_limit.py), in Redis when set.
    rate_limits = providers.Singleton(_rate_limits, settings)
    rate_limits_lifetime = providers.Resource(_rate_limits_lifetime, rate_limits)

    # Open streams and renders per client and in all, against [limits] (adapters/http/concurrency.py).
    slot_counters = providers.Singleton(slot_counters, settings.provided.limits)

    # One JSON event per AI request, to the app log's stream or audit.path (adapters/http/audit.py).
    audit_sink = providers.Singleton(_audit_sink, settings)
    audit_lifetime = providers.Resource(_audit_lifetime, audit_sink)
    # Open SSE streams, let finish when the server begins to stop, then ended in-band.
    stream_drain = providers.Singleton(StreamDrain)

    # The one way a feature reaches a model: routing, keys, retries, fallbacks, timeouts.
    llm_gateway = providers.Singleton(
        LLMGateway, router=model_router, pool=provider_pool, settings=settings, telemetry=http_metrics
    )

    chat_service = providers.Singleton(
        ChatService,
        gateway=llm_gateway,
        strategy=prompt_strategy,
        settings=settings,
        summaries=summary_service,
    )
    generate_service = providers.Singleton(
        GenerateService, gateway=llm_gateway, max_tokens=settings.provided.llm.max_tokens
    )

    # The planner behind ``model: "local"`` (an ``agent.service.Planner``); None until the
    # offline agent is installed here, and the agent answers such requests with a 503.
    local_planner = providers.Singleton(LocalAgentPlanner, settings=settings)
    agent_service = providers.Singleton(
        AgentService,
        gateway=llm_gateway,
        summaries=counted_summary_store,
        settings=settings,
        local_planner=local_planner,
    )

    # Singing: voices built on first use, the phrase cache, renders bounded per worker.
    singing_service = providers.Singleton(
        SingingService,
        catalog,
        settings,
        counted_audio_cache,
        encode=providers.Object(_wav_bytes),
        report=providers.Object(_voice_report),
        telemetry=http_metrics,
    )
    singing_lifetime = providers.Resource(_singing_lifetime, singing_service)
    # Render jobs (/diffsinger/jobs) in this worker, over the same service and its slots.
    render_jobs = providers.Singleton(InProcessRenderJobs, singing_service, settings.provided.singing)
    render_jobs_lifetime = providers.Resource(_render_jobs_lifetime, render_jobs)

    # Everything the server drains on SIGTERM (bootstrap/lifecycle.py): add long-running work here.
    drains = providers.Singleton(_drains, settings, stream_drain, render_jobs)


def build_container(settings: Settings, plugin_host: PluginHost | None = None) -> Container:
    """The composition root: settings -> plugin manager -> container."""
    container = Container(settings=settings)
    if plugin_host is not None:
        container.plugin_host.override(plugin_host)
    return container
