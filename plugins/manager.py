"""Building the plugin manager (one per app, never global) and the catalog it fills."""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import pluggy
import structlog

from dawai.core.catalog import Catalog, CompleterEntry, ProviderEntry, StrategyEntry, VoiceEntry
from dawai.core.models import Route
from dawai.core.settings import Settings
from dawai.plugins import hookspecs

__all__ = ["ENTRY_POINT_GROUP", "PluginHost", "PluginInfo", "build_plugin_manager", "distribution_version"]

ENTRY_POINT_GROUP = "dawai.plugins"
log = structlog.get_logger("dawai.plugins")


class PluginInfo(msgspec.Struct):
    name: str
    distribution: str
    version: str
    status: str  # loaded | failed | disabled
    builtin: bool = False
    error: str | None = None
    registered: dict[str, list[str]] = {}
    warnings: list[str] = []


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


class PluginHost:
    """A plugin manager with its load report and the catalog its hooks filled."""

    def __init__(self, pm: pluggy.PluginManager, settings: Settings) -> None:
        self.pm = pm
        self.settings = settings
        self.infos: dict[str, PluginInfo] = {}
        self.catalog = Catalog()

    # -- loading -----------------------------------------------------------------------

    def add(self, name: str, plugin: Any, *, distribution: str, version: str, builtin: bool) -> None:
        info = PluginInfo(name, distribution, version, "loaded", builtin=builtin)
        self.infos[name] = info
        if self.pm.is_blocked(name):
            info.status = "disabled"
            return
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as exc:  # a broken plugin is reported, never fatal
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            self._fail(info, exc)

    def _fail(self, info: PluginInfo, exc: BaseException) -> None:
        info.status = "failed"
        info.error = _error_text(exc)
        log.error("plugin_failed", plugin=info.name, distribution=info.distribution, error=info.error)

    # -- registering ------------------------------------------------------------------

    def collect(self) -> Catalog:
        """Call every ``register_*`` hook, one plugin at a time, into a fresh catalog."""
        catalog = self.catalog = Catalog()
        makers: dict[str, tuple[Callable[[Any], None], Callable[..., Any]]] = {
            "register_llm_providers": (catalog.add_provider, ProviderEntry),
            "register_prompt_strategies": (catalog.add_strategy, StrategyEntry),
            "register_voices": (catalog.add_voice, VoiceEntry),
            "register_text_completers": (catalog.add_completer, CompleterEntry),
        }
        for hook_name, (add, entry_type) in makers.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                register = _registrar(add, entry_type, impl.plugin_name)
                self._call(impl, impl.plugin_name, register=register)
        for plugin, problem in catalog.problems:
            log.warning("plugin_registration_refused", plugin=plugin, problem=problem)
            if plugin in self.infos:
                self.infos[plugin].warnings.append(problem)
        for name, info in self.infos.items():
            if info.status == "failed":
                catalog.drop(name)  # nothing half-registered by a broken plugin stays usable
            info.registered = catalog.registered_by(name)
        return catalog

    def _call(self, impl: Any, plugin: str, *, fatal: bool = True, **extra: Any) -> Any:
        """Call one plugin's hook; its exception marks it failed (``fatal``) or is logged."""
        kwargs = {"settings": self.settings, **extra}
        try:
            return impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception as exc:
            info = self.infos.get(plugin)
            if fatal and info is not None:
                self._fail(info, exc)
            else:
                log.error("plugin_hook_failed", plugin=plugin, error=_error_text(exc))
            return None

    def resolve_model(self, model: str) -> Route | None:
        """Ask plugins (newest first) to route a model id; the first answer wins."""
        for impl in self.pm.hook.resolve_model.get_hookimpls()[::-1]:
            info = self.infos.get(impl.plugin_name)
            if info is not None and info.status != "loaded":
                continue
            # A failure at request time is logged, not held against the plugin for good.
            answer = self._call(impl, impl.plugin_name, fatal=False, model=model)
            if answer is None:
                continue
            if isinstance(answer, Route):
                return answer
            try:
                provider, upstream = answer
                return Route(str(provider), str(upstream))
            except (TypeError, ValueError):
                log.warning("plugin_bad_route", plugin=impl.plugin_name, answer=repr(answer)[:100])
        return None


def _registrar(add: Callable[[Any], None], entry_type: Any, plugin: str) -> Callable[..., None]:
    """The ``register`` callback one plugin receives; entries remember who made them."""

    def register(name: str, factory: Any, **options: Any) -> None:
        add(entry_type(name=name, factory=factory, plugin=plugin, **options))

    return register


def _builtin_plugins() -> Iterable[tuple[str, Any]]:
    from dawai.plugins import builtin

    return builtin.PLUGINS


def build_plugin_manager(
    settings: Settings,
    *,
    entry_points: Iterable[md.EntryPoint] | None = None,
    extra: Iterable[tuple[str, Any]] = (),
) -> PluginHost:
    """A fresh plugin manager: built-ins, then entry points of ``dawai.plugins``, then
    ``extra`` (tests). ``plugins.enabled`` limits third-party plugins to the names given
    (empty: none); ``plugins.disabled`` blocks any plugin, built-ins included."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in settings.plugins.disabled:
        pm.set_blocked(name)
    host = PluginHost(pm, settings)
    version = distribution_version("dawai-backend")
    for name, plugin in _builtin_plugins():
        host.add(name, plugin, distribution="dawai-backend", version=version, builtin=True)
    eps = md.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
    enabled = settings.plugins.enabled
    for ep in sorted(eps, key=lambda e: e.name):
        if enabled is not None and ep.name not in enabled:
            continue
        dist = ep.dist.name if ep.dist is not None else "?"
        dist_version = ep.dist.version if ep.dist is not None else "?"
        if pm.is_blocked(ep.name):
            host.infos[ep.name] = PluginInfo(ep.name, dist, dist_version, "disabled")
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            info = host.infos[ep.name] = PluginInfo(ep.name, dist, dist_version, "loaded")
            host._fail(info, exc)
            continue
        host.add(ep.name, plugin, distribution=dist, version=dist_version, builtin=False)
    for name, plugin in extra:
        host.add(name, plugin, distribution="(test)", version="0", builtin=False)
    host.collect()
    return host


def distribution_version(dist: str) -> str:
    """An installed distribution's version, or ``0+unknown`` when it is not installed."""
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "0+unknown"
