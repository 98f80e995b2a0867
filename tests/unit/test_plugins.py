"""The plugin system with fresh plugin managers."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
from pathlib import Path

from dawai.core.models import Route
from dawai.plugins import build_plugin_manager, hookimpl
from tests.conftest import ProviderPlugin, make_host, make_settings
from tests.fakes.providers import ScriptedProvider, factory_for, ok_script

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = {"dawai.anthropic", "dawai.openai", "dawai.google", "dawai.prompts"}


def _hook_names() -> list[str]:
    tree = ast.parse((ROOT / "plugins" / "hookspecs.py").read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(
            getattr(d, "id", getattr(getattr(d, "func", None), "id", None)) == "hookspec"
            for d in node.decorator_list
        )
    ]


def test_every_hook_is_documented():
    hooks = _hook_names()
    assert len(hooks) >= 5
    doc = (ROOT / "docs" / "plugins.md").read_text()
    headings = set(re.findall(r"^#+\s+`([a-z_]+)`", doc, flags=re.M))
    assert [h for h in hooks if h not in headings] == []


def test_builtins_register_through_the_same_hooks():
    host = make_host(make_settings())
    assert set(host.infos) >= BUILTINS
    assert {"anthropic", "openai", "google"} <= set(host.catalog.providers)
    assert host.catalog.providers["anthropic"].plugin == "dawai.anthropic"
    assert host.catalog.strategies["music-expert"].plugin == "dawai.prompts"
    assert host.infos["dawai.openai"].registered == {"providers": ["openai"]}


def test_each_app_gets_its_own_manager():
    a, b = make_host(make_settings()), make_host(make_settings())
    assert a.pm is not b.pm and a.catalog is not b.catalog


def test_disable_blocks_a_builtin():
    host = make_host(make_settings({"DAWAI_DISABLE_PLUGINS": "dawai.google"}))
    assert host.infos["dawai.google"].status == "disabled"
    assert "google" not in host.catalog.providers


class _EP:
    """An entry point stand-in for plugins that are not installed distributions."""

    def __init__(self, name: str, obj: object, error: Exception | None = None) -> None:
        self.name, self._obj, self._error = name, obj, error
        self.dist = type("Dist", (), {"name": f"dist-{name}", "version": "1.2.3"})()

    def load(self) -> object:
        if self._error:
            raise self._error
        return self._obj


def _provider_plugin(name: str) -> ProviderPlugin:
    return ProviderPlugin(name, factory_for(ScriptedProvider([ok_script("x")])))


def test_enabled_list_limits_third_party_plugins_and_empty_means_none():
    eps = [_EP("one", _provider_plugin("one")), _EP("two", _provider_plugin("two"))]
    host = build_plugin_manager(make_settings({"DAWAI_PLUGINS": "two"}), entry_points=eps)
    assert "two" in host.catalog.providers and "one" not in host.catalog.providers
    assert host.infos["two"].distribution == "dist-two" and host.infos["two"].version == "1.2.3"
    host = build_plugin_manager(make_settings({"DAWAI_PLUGINS": ""}), entry_points=eps)
    assert not {"one", "two"} & set(host.catalog.providers)
    assert set(host.infos) >= BUILTINS


def test_broken_plugins_are_reported_by_name_and_do_not_stop_the_rest():
    class BadHookArgs:
        @hookimpl
        def register_llm_providers(self, nonsense):  # not an argument the spec has
            pass

    class UnknownHook:
        @hookimpl
        def register_everything(self):
            pass

    class Raises:
        @hookimpl
        def register_llm_providers(self, register):
            raise RuntimeError("kaboom")

    eps = [
        _EP("importfail", None, ImportError("No module named 'missing_dep'")),
        _EP("badargs", BadHookArgs()),
        _EP("unknownhook", UnknownHook()),
        _EP("raises", Raises()),
        _EP("good", _provider_plugin("good")),
    ]
    host = build_plugin_manager(make_settings(), entry_points=eps)
    failed = {n: i.error for n, i in host.infos.items() if i.status == "failed"}
    assert set(failed) == {"importfail", "badargs", "unknownhook", "raises"}
    assert "missing_dep" in failed["importfail"] and "kaboom" in failed["raises"]
    assert "good" in host.catalog.providers


def test_what_a_plugin_registered_before_failing_is_dropped():
    class HalfBroken:
        @hookimpl
        def register_llm_providers(self, register):
            register("half", factory_for(ScriptedProvider([ok_script("x")])))
            raise RuntimeError("then it broke")

    host = make_host(make_settings(), ("halfbroken", HalfBroken()))
    assert host.infos["halfbroken"].status == "failed"
    assert "half" not in host.catalog.providers


def test_resolve_model_errors_at_request_time_do_not_fail_the_plugin():
    class Flaky:
        @hookimpl
        def resolve_model(self, model):
            raise ValueError("flaky")

    host = make_host(make_settings(), ("flaky", Flaky()))
    assert host.resolve_model("anything") is None
    assert host.infos["flaky"].status == "loaded"


def test_duplicate_names_are_refused_not_replaced():
    host = make_host(make_settings(), ("thief", _provider_plugin("anthropic")))
    assert host.catalog.providers["anthropic"].plugin == "dawai.anthropic"
    assert any(plugin == "thief" and "already registered" in p for plugin, p in host.catalog.problems)
    assert host.infos["thief"].warnings and "already registered" in host.infos["thief"].warnings[0]


def test_resolve_model_first_answer_wins_and_bad_answers_are_ignored():
    class Claims:
        @hookimpl
        def resolve_model(self, model):
            return ("good", "m") if model == "mine" else None

    class Garbage:
        @hookimpl
        def resolve_model(self, model):
            return 42

    host = make_host(make_settings(), ("claims", Claims()), ("garbage", Garbage()))
    assert host.resolve_model("mine") == Route("good", "m")
    assert host.resolve_model("other") is None


def test_example_plugin_is_an_installed_distribution_discovered_by_entry_point():
    eps = {ep.name: ep for ep in md.entry_points(group="dawai.plugins")}
    assert "echo" in eps, "make test installs examples/dawai-echo-provider"
    assert eps["echo"].dist.name == "dawai-echo-provider"
    host = build_plugin_manager(make_settings())  # real discovery
    info = host.infos["echo"]
    assert (info.status, info.builtin, info.distribution) == ("loaded", False, "dawai-echo-provider")
    assert info.registered == {"providers": ["echo"]}
