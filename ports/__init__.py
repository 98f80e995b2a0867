"""Ports: one ``typing.Protocol`` per role the core needs from the outside world.

Adapters (ours or a plugin's) implement them; the core depends only on these.
"""

from dawai.ports.completion import CompleterFactory, EngineConfig, TextCompleter
from dawai.ports.draining import Drainable
from dawai.ports.llm import (
    JsonStreamingProvider,
    KeyedProvider,
    LLMProvider,
    ProviderConfig,
    ProviderFactory,
)
from dawai.ports.prompt import PromptStrategy
from dawai.ports.render_jobs import RenderJob, RenderJobs
from dawai.ports.singing import ProgressCallback, SingingSynthesizer, VoiceConfig, VoiceFactory
from dawai.ports.stores import AudioCache, FeedbackStore, SummaryStore

__all__ = [
    "AudioCache",
    "CompleterFactory",
    "Drainable",
    "EngineConfig",
    "FeedbackStore",
    "JsonStreamingProvider",
    "KeyedProvider",
    "LLMProvider",
    "ProgressCallback",
    "PromptStrategy",
    "ProviderConfig",
    "ProviderFactory",
    "RenderJob",
    "RenderJobs",
    "SingingSynthesizer",
    "SummaryStore",
    "TextCompleter",
    "VoiceConfig",
    "VoiceFactory",
]
