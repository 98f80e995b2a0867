"""Agent mode: Sense (the project), Plan (a model's structured plan), Act (every action
validated against the project before it reaches the client).

The action types (``actions``), the request context (``context``), the validator
(``validation``), the provider schema derived from the actions (``schema``), the streamed
plan's reader (``incremental``)."""

from dawai.core.agent.actions import ACTION_TYPES, Action, Note, Plan, to_wire
from dawai.core.agent.context import AgentContext, ContextNote, ContextProject, ContextTrack
from dawai.core.agent.incremental import OVERSIZED, ActionScanner, ScanEnd
from dawai.core.agent.schema import PLAN_TOOL, plan_schema
from dawai.core.agent.validation import Dropped, PlanValidator, describe_dropped

__all__ = [
    "ACTION_TYPES",
    "OVERSIZED",
    "PLAN_TOOL",
    "Action",
    "ActionScanner",
    "AgentContext",
    "ContextNote",
    "ContextProject",
    "ContextTrack",
    "Dropped",
    "Note",
    "Plan",
    "PlanValidator",
    "ScanEnd",
    "describe_dropped",
    "plan_schema",
    "to_wire",
]
