"""LLM provider adapters, each implementing ``dawai.ports.LLMProvider`` with an official SDK.

Modules here import their SDK at module import; the built-in plugin imports them only
inside factories, so an unused provider costs no memory.
"""

__all__: list[str] = []
