"""The offline agent (``model: "local"``): the requests musicians make most, in English
and Japanese, read by rule into validated contract actions, with no model and no key.

``OfflinePlanner`` (``planner``) is the entry point; ``commands`` holds one handler per
kind of command, ``parts`` adds tracks and generated parts, ``edits`` writes notes and
effect settings, ``targets`` finds the track a command means, ``reading`` reads values
and splits a prompt, ``lexicon`` holds the words, ``replies`` what the agent says.
"""

from dawai.core.agent.offline.planner import OfflinePlan, OfflinePlanner

__all__ = ["OfflinePlan", "OfflinePlanner"]
