"""The prompt strategy port."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from dawai.core.models import Prompt, PromptInput

__all__ = ["PromptStrategy"]


@runtime_checkable
class PromptStrategy(Protocol):
    """Turns a user's message and its DAW context into a system prompt and messages.

    Pure and fast: no I/O. The project summary (from ``/api/update-summary``) reaches the
    strategy as ``PromptInput.summary``.
    """

    name: str

    def render(self, prompt_input: PromptInput) -> Prompt: ...
