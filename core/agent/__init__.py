"""Agent mode: Sense (the project), Plan (a model's structured plan), Act (every action
validated against the project before it reaches the client).

The action types (``actions``), the request context (``context``), the validator
(``validation``)."""

from dawai.core.agent.actions import ACTION_TYPES, Action, Note, Plan, to_wire
from dawai.core.agent.context import AgentContext, ContextNote, ContextProject, ContextTrack
from dawai.core.agent.validation import Dropped, PlanValidator, describe_dropped

__all__ = [
    "ACTION_TYPES",
    "Action",
    "AgentContext",
    "ContextNote",
    "ContextProject",
    "ContextTrack",
    "Dropped",
    "Note",
    "Plan",
    "PlanValidator",
    "describe_dropped",
    "to_wire",
]
