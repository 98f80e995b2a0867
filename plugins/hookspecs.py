"""The hooks a DAWAI plugin can implement.

Every hook is synchronous, cheap and free of I/O: it only *registers factories* through
the ``register`` callback it receives. Heavy imports (SDKs, onnxruntime) belong inside the
factories, which run later and only when the thing is used. Hook arguments only ever
grow; an implementation may accept any subset of them (pluggy passes what it names).

Each hook is documented in ``docs/plugins.md``; a test fails when one is not.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from dawai.core.models import Route
from dawai.core.settings import Settings

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "dawai"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_llm_providers(register: Callable[..., None], settings: Settings) -> None:
    """Register LLM provider kinds.

    Call ``register(name, factory, *, prefixes=(), models=(), key_setting=None,
    default_base_url=None, description="", keys_per_request=False)`` once per provider.
    ``factory`` receives a ``dawai.ports.ProviderConfig`` and returns an ``LLMProvider``;
    with ``keys_per_request=True`` it returns a ``KeyedProvider``, built once per base URL
    and given each request's key through ``with_key`` (so memory does not grow with the
    number of keys clients send).
    """


@hookspec
def register_prompt_strategies(register: Callable[..., None], settings: Settings) -> None:
    """Register prompt strategies: ``register(name, factory, *, description="")`` where
    ``factory()`` returns a ``PromptStrategy``. ``llm.prompt_strategy`` picks one by name."""


@hookspec
def register_voices(register: Callable[..., None], settings: Settings) -> None:
    """Register singing voices: ``register(name, factory, *, description="")`` where
    ``factory(settings)`` returns a ``SingingSynthesizer``."""


@hookspec
def register_text_completers(register: Callable[..., None], settings: Settings) -> None:
    """Register ghost-text engines: ``register(name, factory, *, description="")`` where
    ``factory(settings)`` returns a ``TextCompleter``. ``inference.ghost_text_engine``
    picks one by name."""


@hookspec(firstresult=True)
def resolve_model(model: str, settings: Settings) -> Route | tuple[str, str] | None:
    """Route a frontend model id that no alias, prefix or ``provider/model`` matched.

    Return ``Route(provider, upstream_model)`` (or a ``(provider, model)`` pair) to claim
    it, or ``None`` to pass. The first plugin that answers wins.
    """
