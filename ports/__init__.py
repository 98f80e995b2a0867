"""Ports: one ``typing.Protocol`` per role the core needs from the outside world.

Adapters (ours or a plugin's) implement them; the core depends only on these.
"""

from dawai.ports.completion import TextCompleter
from dawai.ports.llm import KeyedProvider, LLMProvider, ProviderConfig, ProviderFactory
from dawai.ports.prompt import PromptStrategy
from dawai.ports.singing import ProgressCallback, SingingSynthesizer
from dawai.ports.stores import AudioCache, FeedbackStore, SummaryStore

__all__ = [
    "AudioCache",
    "FeedbackStore",
    "KeyedProvider",
    "LLMProvider",
    "ProgressCallback",
    "PromptStrategy",
    "ProviderConfig",
    "ProviderFactory",
    "SingingSynthesizer",
    "SummaryStore",
    "TextCompleter",
]
