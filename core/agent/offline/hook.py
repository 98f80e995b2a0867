"""The offline agent as the agent service's ``Planner`` for ``model: "local"``."""

from __future__ import annotations

from dawai.core.agent.offline.planner import OfflinePlanner
from dawai.core.agent.service import LocalPlan, Sense
from dawai.core.settings import Settings

__all__ = ["LocalAgentPlanner"]


class LocalAgentPlanner:
    """Answers ``AgentService``'s local requests with ``OfflinePlanner``'s plan."""

    def __init__(self, settings: Settings) -> None:
        self._planner = OfflinePlanner(settings.agent)

    def plan(self, sense: Sense) -> LocalPlan:
        context = sense.context
        planned = self._planner.plan(sense.prompt, context, context.current_track_id)
        return LocalPlan(
            actions=planned.actions,
            summary=planned.summary,
            next_steps=planned.next_steps,
            understood=planned.understood,
            error=planned.error,
        )
