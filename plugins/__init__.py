"""DAWAI's plugin system (pluggy).

A third-party plugin writes ``from dawai.plugins import hookimpl``, implements hooks from
``dawai.plugins.hookspecs`` and declares an entry point in the ``dawai.plugins`` group.
See ``docs/plugins.md``.
"""

from dawai.plugins.hookspecs import hookimpl, hookspec
from dawai.plugins.manager import ENTRY_POINT_GROUP, PluginHost, PluginInfo, build_plugin_manager

__all__ = ["ENTRY_POINT_GROUP", "PluginHost", "PluginInfo", "build_plugin_manager", "hookimpl", "hookspec"]
