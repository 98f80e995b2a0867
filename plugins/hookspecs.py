"""The hooks a DAWAI plugin can implement.

Every hook is synchronous, cheap and free of I/O: it only *registers factories* through
the ``register`` callback it receives. Heavy imports (SDKs, onnxruntime) belong inside the
factories, which run later and only when the thing is used. Hook arguments only ever
grow; an implementation may accept any subset of them (pluggy passes what it names).

Pluggy's own machinery applies: an implementation marked ``hookimpl(wrapper=True)`` (or
the older ``hookwrapper=True``) runs around every other plugin's implementation of the
hook, each plugin's call on its own (see ``dawai.plugins.manager``). Around a ``register_*``
hook it gets the same ``register`` callback, a ``Registrar`` whose ``plugin`` and
``entries`` it may read and change after its ``yield``.

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
    """Register singing voices: ``register(name, factory, *, description="", folder=None)``
    where ``factory(config)`` takes a ``dawai.ports.VoiceConfig`` (its folder, execution
    provider, threads and ``[voices.<name>] options``; never secrets) and returns a
    ``SingingSynthesizer``. ``folder`` is where the plugin keeps the voice's files;
    without it the voice lives in ``inference.voices_dir``/<name>."""


@hookspec
def register_text_completers(register: Callable[..., None], settings: Settings) -> None:
    """Register ghost-text engines: ``register(name, factory, *, description="", folder=None)``
    where ``factory(config)`` takes a ``dawai.ports.EngineConfig`` (its folder, execution
    provider, threads and ``[engines.<name>] options``; never secrets) and returns a
    ``TextCompleter``. ``inference.ghost_text_engine`` picks one by name."""


@hookspec(firstresult=True)
def resolve_model(model: str, settings: Settings) -> Route | tuple[str, str] | None:
    """Route a frontend model id that no alias, prefix or ``provider/model`` matched.

    Return ``Route(provider, upstream_model)`` (or a ``(provider, model)`` pair) to claim
    it, or ``None`` to pass. The first plugin that answers wins.
    """
