"""DAWAI's own adapters, registered through the same hooks a third-party plugin uses.

Each built-in is its own plugin (``dawai.anthropic``, ``dawai.openai``, ...), so an
operator can block one with ``DAWAI_DISABLE_PLUGINS``. SDK imports happen inside the
factories: a provider nobody calls costs no memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dawai.core.settings import BUILTIN_PROVIDERS, Settings
from dawai.plugins.hookspecs import hookimpl
from dawai.ports.completion import EngineConfig, TextCompleter
from dawai.ports.llm import LLMProvider, ProviderConfig
from dawai.ports.singing import SingingSynthesizer, VoiceConfig

__all__ = ["PLUGINS"]


def _anthropic(config: ProviderConfig) -> LLMProvider:
    from dawai.adapters.providers.anthropic import AnthropicProvider

    return AnthropicProvider(config)


def _openai(config: ProviderConfig) -> LLMProvider:
    from dawai.adapters.providers.openai import OpenAIProvider

    return OpenAIProvider(config)


def _openai_compatible(config: ProviderConfig) -> LLMProvider:
    from dawai.adapters.providers.openai import OpenAICompatibleProvider

    return OpenAICompatibleProvider(config)


def _gemini(config: ProviderConfig) -> LLMProvider:
    from dawai.adapters.providers.gemini import GeminiProvider

    return GeminiProvider(config)


class AnthropicPlugin:
    @hookimpl
    def register_llm_providers(self, register: Callable[..., None]) -> None:
        register(
            "anthropic",
            _anthropic,
            prefixes=("claude",),
            key_setting=BUILTIN_PROVIDERS["anthropic"].keys[0],
            description="Claude through the Anthropic Messages API",
            keys_per_request=True,
        )


class OpenAIPlugin:
    @hookimpl
    def register_llm_providers(self, register: Callable[..., None], settings: Settings) -> None:
        register(
            "openai",
            _openai,
            prefixes=("gpt", "o1", "o3", "o4"),
            key_setting=BUILTIN_PROVIDERS["openai"].keys[0],
            description="OpenAI Chat Completions",
            keys_per_request=True,
        )
        for name, endpoint in sorted(settings.providers.items()):
            if endpoint.kind == "openai-compatible":
                register(
                    name,
                    _openai_compatible,
                    models=endpoint.models,
                    key_setting=None,
                    default_base_url=endpoint.base_url,
                    description=f"OpenAI-compatible server at {endpoint.base_url or '(no base_url)'}",
                    keys_per_request=True,
                )


class GooglePlugin:
    @hookimpl
    def register_llm_providers(self, register: Callable[..., None]) -> None:
        register(
            "google",
            _gemini,
            prefixes=("gemini",),
            key_setting=BUILTIN_PROVIDERS["google"].keys[0],
            description="Gemini through the google-genai SDK",
            keys_per_request=True,
        )


class PromptsPlugin:
    @hookimpl
    def register_prompt_strategies(self, register: Callable[..., None]) -> None:
        from dawai.core.prompting import MusicExpertStrategy

        register(
            "music-expert",
            MusicExpertStrategy,
            description="Music-production expert; answers in the user's language",
        )


def _embedded_completer(config: EngineConfig) -> TextCompleter:
    from dawai.adapters.inference.pronunciation import DictionaryPronouncer
    from dawai.core.ghost.engine import EmbeddedCompleter

    options = config.options
    pronouncer = DictionaryPronouncer(
        english=bool(options.get("english_dictionary", True)),
        japanese=bool(options.get("japanese_readings", True)),
    )
    pronouncer.load()
    return EmbeddedCompleter(pronouncer)


def _lm_completer(config: EngineConfig) -> TextCompleter:
    from dawai.adapters.inference.lm import OnnxLMCompleter

    return OnnxLMCompleter(config)


class GhostTextPlugin:
    @hookimpl
    def register_text_completers(self, register: Callable[..., None]) -> None:
        register(
            "local",
            _embedded_completer,
            description="Embedded ghost text: word and character n-grams over a shipped corpus, "
            "the chord table, CMUdict and OpenJTalk rhymes; no model",
        )
        register(
            "lm",
            _lm_completer,
            description="A decoder exported by Hugging Face optimum (model.onnx with past_key_values, "
            "tokenizer.json, config.json) on onnxruntime with a KV cache; [engines.lm] folder",
        )


def _builtin_voice(config: VoiceConfig) -> SingingSynthesizer:
    from dawai.adapters.inference.builtin_voice import BuiltinVoice

    return BuiltinVoice(config)


class VoicesPlugin:
    """The built-in ``default`` voice: a formant synthesiser that needs no model files
    (and the worked example of ``register_voices`` in docs/plugins.md)."""

    @hookimpl
    def register_voices(self, register: Callable[..., None]) -> None:
        register("default", _builtin_voice, description="Built-in formant voice (Japanese, English)")


class DiffSingerPlugin:
    """Every OpenUtau-format DiffSinger voicebank in ``inference.voices_dir``, one voice per
    folder (``dawai.adapters.inference.diffsinger``, docs/adr/0030)."""

    @hookimpl
    def register_voices(self, register: Callable[..., None], settings: Settings) -> None:
        from dawai.adapters.inference.diffsinger import register_banks

        register_banks(register, settings)


PLUGINS: tuple[tuple[str, Any], ...] = (
    ("dawai.anthropic", AnthropicPlugin()),
    ("dawai.openai", OpenAIPlugin()),
    ("dawai.google", GooglePlugin()),
    ("dawai.prompts", PromptsPlugin()),
    ("dawai.ghost_text", GhostTextPlugin()),
    ("dawai.voices", VoicesPlugin()),
    ("dawai.diffsinger", DiffSingerPlugin()),
)
