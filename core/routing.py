"""Model routing and key resolution, exactly as the wire contract orders them.

A frontend model id goes, in order, to: a configured alias; a provider prefix (``claude``
-> anthropic, ``gpt``/``o1``/``o3``/``o4`` -> openai, ``gemini`` -> google, plus any prefix
a plugin registers); an explicit ``provider/model``; then the plugins' ``resolve_model``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from dawai.core.catalog import Catalog
from dawai.core.errors import FieldError, InvalidInput, MissingCredentials, NotConfigured
from dawai.core.models import ModelInfo, Route
from dawai.core.settings import Settings
from dawai.core.upstream_values import check_model

__all__ = ["ModelRouter"]

PluginResolver = Callable[[str], Route | None]


def _split(target: str) -> Route | None:
    provider, sep, model = target.partition("/")
    return Route(provider, model) if sep and provider and model else None


class ModelRouter:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        plugin_resolver: PluginResolver,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = settings
        # Where a plugin provider's ``key_setting`` variable is looked up (the composition
        # root passes the process environment; the core never reads it itself).
        self._environ = environ or {}
        self._catalog = catalog
        self._plugin_resolver = plugin_resolver
        prefixes = [(p, e.name) for e in catalog.providers.values() for p in e.prefixes]
        # Longest prefix first, so a plugin's "gpt-oss" can win over the built-in "gpt".
        self._prefixes = sorted(prefixes, key=lambda item: -len(item[0]))

    def resolve(self, model: str) -> Route:
        """The route for a frontend model id; the id and the upstream model name it routes
        to are both checked (``check_model``), whatever resolved them."""
        check_model("model", model)
        route = self._route(model)
        if route is None:
            raise InvalidInput(
                f"Unknown model '{model[:100]}'. GET /api/models lists the models this server can use.",
                [FieldError("model", "no alias, provider prefix, provider/model or plugin matches it")],
            )
        if route.provider not in self._catalog.providers:
            raise NotConfigured(
                f"Model '{model[:100]}' routes to provider '{route.provider}', which is not loaded."
            )
        check_model("model", route.model)
        return route

    def _route(self, model: str) -> Route | None:
        alias = self._settings.llm.aliases.get(model)
        if alias is not None:
            return _split(alias)
        # An explicit ``provider/model`` naming a loaded provider is taken at its word,
        # so a provider called ``gpt4all`` is not mistaken for OpenAI's ``gpt`` prefix.
        explicit = _split(model)
        if explicit is not None and explicit.provider in self._catalog.providers:
            return explicit
        for prefix, provider in self._prefixes:
            if model.startswith(prefix):
                return Route(provider, model)
        return self._plugin_resolver(model)

    def problems(self) -> list[str]:
        """Aliases and fallbacks that route nowhere (reported at start-up)."""
        found = []
        for alias, target in self._settings.llm.aliases.items():
            route = _split(target)
            if route is None:
                found.append(f"llm.aliases.{alias}: '{target}' is not provider/model")
            elif not self._valid_model(alias) or not self._valid_model(route.model):
                found.append(f"llm.aliases.{alias}: '{target}' has characters a model name may not hold")
            elif route.provider not in self._catalog.providers:
                found.append(f"llm.aliases.{alias}: provider '{route.provider}' is not loaded")
        for model, chain in self._settings.llm.fallbacks.items():
            for fallback in chain:
                try:
                    self.resolve(fallback)
                except (InvalidInput, NotConfigured):
                    found.append(f"llm.fallbacks.{model}: '{fallback}' routes nowhere and will be skipped")
        return found

    @staticmethod
    def _valid_model(model: str) -> bool:
        try:
            check_model("model", model)
        except InvalidInput:
            return False
        return True

    def key_for(self, provider: str, api_keys: Mapping[str, str], api_key: str | None) -> str | None:
        """The request's key for this provider, else the server's, else ``None`` when the
        provider needs none; raises ``MissingCredentials`` naming the setting otherwise."""
        key = api_keys.get(provider) or api_key
        if key:
            return key
        server_key = self._server_key(provider)
        if server_key:
            return server_key
        self._require_keyless(provider)
        return None

    def _server_key(self, provider: str) -> str | None:
        endpoint = self._settings.providers.get(provider)
        if endpoint is not None and endpoint.api_key:
            return endpoint.api_key
        setting = self._catalog.providers[provider].key_setting
        return self._environ.get(setting) if setting else None

    def _require_keyless(self, provider: str) -> None:
        setting = self._catalog.providers[provider].key_setting
        if setting is not None:
            raise MissingCredentials(provider, setting)

    def configured(self, provider: str) -> bool:
        entry = self._catalog.providers.get(provider)
        if entry is None:
            return False
        return entry.key_setting is None or self._server_key(provider) is not None

    def models(self) -> list[ModelInfo]:
        """What can be asked for now: aliases, configured endpoints' models, plugin models."""
        found: list[ModelInfo] = []
        for alias, target in sorted(self._settings.llm.aliases.items()):
            route = _split(target)
            if route is not None and route.provider in self._catalog.providers:
                found.append(
                    ModelInfo(alias, route.provider, route.model, "alias", self.configured(route.provider))
                )
        for name, entry in sorted(self._catalog.providers.items()):
            endpoint = self._settings.providers.get(name)
            models = list(entry.models) + list(endpoint.models if endpoint else ())
            kind: Literal["model", "plugin"] = "model" if entry.plugin.startswith("dawai.") else "plugin"
            for model in dict.fromkeys(models):
                found.append(ModelInfo(f"{name}/{model}", name, model, kind, self.configured(name)))
        return found
