"""Building the plugin manager (one per app, never global) and the catalog it fills."""

from __future__ import annotations

import importlib.metadata as md
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import pluggy
import structlog

from dawai.core.catalog import Catalog, CompleterEntry, ProviderEntry, StrategyEntry, VoiceEntry
from dawai.core.models import Route
from dawai.core.settings import Settings
from dawai.plugins import hookspecs

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginHost",
    "PluginInfo",
    "Registrar",
    "build_plugin_manager",
    "distribution_version",
]

ENTRY_POINT_GROUP = "dawai.plugins"
log = structlog.get_logger("dawai.plugins")
_FAILED = object()  # what ``PluginHost._call`` returns when the hook raised
# What a ``register`` callback builds, one type per ``register_*`` hook.
_Entry = ProviderEntry | StrategyEntry | VoiceEntry | CompleterEntry


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
        """Call every ``register_*`` hook, one plugin at a time, into a fresh catalog.

        Each plugin's implementation is called through pluggy, not by us: a
        ``pm.subset_hook_caller`` that keeps that plugin's implementation and every loaded
        plugin's wrappers (``wrapper=True`` or ``hookwrapper=True``). So wrappers run
        around each plugin's call, as pluggy runs them around a whole hook call, while an
        exception still stops only the call it came from and is attributed by name: to the
        wrapper whose code raised it (that wrapper's plugin fails, and the wrapped plugin
        is called again without it) or else to the wrapped plugin. Entries reach the
        catalog only when the whole call, wrappers included, returned: a wrapper sees and
        may change ``register.entries`` after its ``yield``. A plugin with both a wrapper
        and a plain implementation of one hook is called as a plain one: its wrapper then
        wraps only its own call.
        """
        catalog = self.catalog = Catalog()
        makers: dict[str, tuple[Callable[[Any], None], type[_Entry]]] = {
            "register_llm_providers": (catalog.add_provider, ProviderEntry),
            "register_prompt_strategies": (catalog.add_strategy, StrategyEntry),
            "register_voices": (catalog.add_voice, VoiceEntry),
            "register_text_completers": (catalog.add_completer, CompleterEntry),
        }
        for hook_name, (add, entry_type) in makers.items():
            for plugin in self._plain_implementers(hook_name):
                register = Registrar(plugin, entry_type)
                if self._call(hook_name, plugin, register=register) is _FAILED:
                    continue
                for entry in register.entries:
                    if isinstance(entry, entry_type) and entry.plugin:
                        add(entry)
                    else:
                        catalog.problems.append(
                            (plugin, f"{hook_name}: {entry!r:.80} is not a {entry_type.__name__}")
                        )
        for plugin, problem in catalog.problems:
            log.warning("plugin_registration_refused", plugin=plugin, problem=problem)
            if plugin in self.infos:
                self.infos[plugin].warnings.append(problem)
        for name, info in self.infos.items():
            if info.status == "failed":
                catalog.drop(name)  # nothing half-registered by a broken plugin stays usable
            info.registered = catalog.registered_by(name)
        return catalog

    def _plain_implementers(self, hook_name: str) -> list[str]:
        """Plugins with a plain (not wrapper) implementation of a hook, in load order."""
        names: list[str] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if not _wraps(impl) and impl.plugin_name not in names:
                names.append(impl.plugin_name)
        return names

    def _caller(self, hook_name: str, plugin: str) -> Any:
        """The hook as pluggy calls it for ``plugin`` alone: its implementation plus the
        wrappers of plugins that are loaded."""
        remove = {
            impl.plugin
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls()
            if impl.plugin_name != plugin and not (_wraps(impl) and self._loaded(impl.plugin_name))
        }
        return self.pm.subset_hook_caller(hook_name, remove_plugins=remove)

    def _loaded(self, plugin: str) -> bool:
        info = self.infos.get(plugin)
        return info is None or info.status == "loaded"

    def _call(self, hook_name: str, plugin: str, *, fatal: bool = True, **extra: Any) -> Any:
        """Call one plugin's implementation of a hook, inside the wrappers; ``_FAILED``
        when it raised. The plugin whose code raised is marked failed (``fatal``) or the
        error is logged; a failed wrapper is left out and the call made again."""
        kwargs = {"settings": self.settings, **extra}
        while True:
            caller = self._caller(hook_name, plugin)
            try:
                return caller(**kwargs)
            except Exception as exc:
                culprit = _culprit(exc, caller.get_hookimpls(), plugin)
                info = self.infos.get(culprit)
                if fatal and info is not None:
                    self._fail(info, exc)
                    if culprit != plugin:
                        continue  # now failed, the wrapper is left out of the next call
                else:
                    log.error("plugin_hook_failed", plugin=culprit, hook=hook_name, error=_error_text(exc))
                return _FAILED

    def resolve_model(self, model: str) -> Route | None:
        """Ask plugins (newest first) to route a model id; the first answer wins."""
        for plugin in self._plain_implementers("resolve_model")[::-1]:
            if not self._loaded(plugin):
                continue
            # A failure at request time is logged, not held against the plugin for good.
            answer = self._call("resolve_model", plugin, fatal=False, model=model)
            if answer is None or answer is _FAILED:
                continue
            if isinstance(answer, Route):
                return answer
            try:
                provider, upstream = answer
                return Route(str(provider), str(upstream))
            except (TypeError, ValueError):
                log.warning("plugin_bad_route", plugin=plugin, answer=repr(answer)[:100])
        return None


class Registrar:
    """The ``register`` callback one plugin's call of a ``register_*`` hook receives.

    ``plugin`` is the plugin being called; ``entries`` are what it registered in this
    call, in order. They reach the catalog after the call (and its wrappers) returned, so
    a wrapper may read, replace or remove them after its ``yield``.
    """

    def __init__(self, plugin: str, entry_type: type[_Entry]) -> None:
        self.plugin = plugin
        self.entries: list[Any] = []
        self._entry_type = entry_type

    def __call__(self, name: str, factory: Any, **options: Any) -> None:
        self.entries.append(self._entry_type(name=name, factory=factory, plugin=self.plugin, **options))


def _wraps(impl: pluggy.HookImpl) -> bool:
    return bool(impl.wrapper or impl.hookwrapper)


def _culprit(exc: BaseException, impls: Iterable[pluggy.HookImpl], called: str) -> str:
    """The plugin whose hook code raised ``exc``: the innermost implementation frame in
    its traceback (``called``, the plugin being called, when none is found)."""
    codes: dict[Any, str] = {}
    for impl in sorted(impls, key=lambda i: i.plugin_name == called):  # the called plugin's last: it wins
        code = getattr(inspect.unwrap(impl.function), "__code__", None)
        if code is not None:
            codes[code] = impl.plugin_name
    culprit = called
    tb = exc.__traceback__
    while tb is not None:
        culprit = codes.get(tb.tb_frame.f_code, culprit)
        tb = tb.tb_next
    return culprit


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
