"""Writing parts: the embedded generator (``model: "local"``) and generation through a model.

``write_part`` writes a part by rule from a ``PartRequest`` (``local``, over ``progression``
and ``parts``, in a ``styles`` genre); ``repair`` checks and mends the notes a model wrote;
``GenerateService`` chooses between them and answers a ``GenerateInput``.
"""

from dawai.core.generation.local import LocalPart, swung, write_part
from dawai.core.generation.models import (
    BEATS_PER_BAR,
    DEFAULT_BARS,
    DEFAULT_TEMPO,
    MAX_BARS,
    MAX_TEMPO,
    MIN_TEMPO,
    GeneratedNote,
    Generation,
    PartRequest,
    PartType,
)
from dawai.core.generation.progression import Harmony, key_tones, leading_tone
from dawai.core.generation.styles import STYLES, PromptReading, Style, read_prompt

__all__ = [
    "BEATS_PER_BAR",
    "DEFAULT_BARS",
    "DEFAULT_TEMPO",
    "MAX_BARS",
    "MAX_TEMPO",
    "MIN_TEMPO",
    "STYLES",
    "GeneratedNote",
    "Generation",
    "Harmony",
    "LocalPart",
    "PartRequest",
    "PartType",
    "PromptReading",
    "Style",
    "key_tones",
    "leading_tone",
    "read_prompt",
    "swung",
    "write_part",
]
