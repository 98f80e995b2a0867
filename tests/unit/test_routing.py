from __future__ import annotations

import pytest

from dawai.core.errors import InvalidInput, MissingCredentials
from dawai.core.models import Route
from dawai.core.routing import ModelRouter
from dawai.plugins import hookimpl
from tests.conftest import ProviderPlugin, make_host, make_settings
from tests.fakes.providers import ScriptedProvider, factory_for


def router(env=None, *extra):
    settings = make_settings(env)
    host = make_host(settings, *extra)
    return ModelRouter(settings, host.catalog, host.resolve_model)


@pytest.mark.parametrize(
    ("model", "route"),
    [
        ("claude-3-sonnet", Route("anthropic", "claude-sonnet-4-5")),
        ("gpt-4", Route("openai", "gpt-4.1")),
        ("gemini-2.5-pro", Route("google", "gemini-2.5-pro")),
        ("claude-opus-4-1", Route("anthropic", "claude-opus-4-1")),
        ("gpt-4o-mini", Route("openai", "gpt-4o-mini")),
        ("o3-mini", Route("openai", "o3-mini")),
        ("o4-mini", Route("openai", "o4-mini")),
        ("o1", Route("openai", "o1")),
        ("gemini-2.0-flash", Route("google", "gemini-2.0-flash")),
        ("openai/llama3.1", Route("openai", "llama3.1")),
        ("anthropic/claude-x", Route("anthropic", "claude-x")),
    ],
)
def test_contract_routing(model, route):
    assert router().resolve(model) == route


def test_alias_beats_prefix_and_plugins_come_last(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[llm.aliases]\n"gpt-special" = "google/gemini-x"\n')

    class Plugin:
        @hookimpl
        def resolve_model(self, model):
            return ("fake", "picked") if model.startswith("any") else None

    fake = ProviderPlugin("fake", factory_for(ScriptedProvider([[]])))
    r = router({"DAWAI_CONFIG": str(path)}, ("fake", fake), ("resolver", Plugin()))
    assert r.resolve("gpt-special") == Route("google", "gemini-x")
    assert r.resolve("anything") == Route("fake", "picked")
    with pytest.raises(InvalidInput):
        r.resolve("nothing-matches")


def test_openai_compatible_endpoint_by_name(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[providers.local]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:1/v1"\n'
        'models = ["llama3.1"]\n'
    )
    r = router({"DAWAI_CONFIG": str(path)})
    assert r.resolve("local/llama3.1") == Route("local", "llama3.1")
    assert r.key_for("local", {}, None) is None  # no key needed
    assert "local/llama3.1" in [m.id for m in r.models()]


def test_key_resolution_order():
    r = router({"ANTHROPIC_API_KEY": "server"})
    assert r.key_for("anthropic", {"anthropic": "body"}, "single") == "body"
    assert r.key_for("anthropic", {}, "single") == "single"
    assert r.key_for("anthropic", {}, None) == "server"
    with pytest.raises(MissingCredentials, match="OPENAI_API_KEY"):
        r.key_for("openai", {"anthropic": "x"}, None)


def test_models_lists_aliases_with_configured_flags():
    models = {m.id: m for m in router({"OPENAI_API_KEY": "k"}).models()}
    assert models["gpt-4"].configured is True
    assert models["claude-3-sonnet"].configured is False
    assert models["gemini-2.5-pro"].kind == "alias"


def test_explicit_provider_name_wins_over_a_builtin_prefix():
    fake = ProviderPlugin("gpt4all", factory_for(ScriptedProvider([[]])))
    r = router(None, ("gpt4all", fake))
    assert r.resolve("gpt4all/mistral") == Route("gpt4all", "mistral")
    assert r.resolve("gpt-4o") == Route("openai", "gpt-4o")


def test_plugin_key_setting_is_read_from_the_environment_given():
    from dawai.core.routing import ModelRouter

    settings = make_settings()
    plugin = ProviderPlugin("keyed", factory_for(ScriptedProvider([[]])), key_setting="KEYED_API_KEY")
    host = make_host(settings, ("keyed", plugin))
    with_env = ModelRouter(settings, host.catalog, host.resolve_model, environ={"KEYED_API_KEY": "k1"})
    assert with_env.key_for("keyed", {}, None) == "k1" and with_env.configured("keyed")
    without = ModelRouter(settings, host.catalog, host.resolve_model, environ={})
    with pytest.raises(MissingCredentials, match="KEYED_API_KEY"):
        without.key_for("keyed", {}, None)


def test_configured_aliases_add_to_the_builtin_ones(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[llm.aliases]\n"my-model" = "openai/gpt-5"\n"gpt-4" = "openai/gpt-4.1-mini"\n')
    r = router({"DAWAI_CONFIG": str(path)})
    assert r.resolve("my-model") == Route("openai", "gpt-5")
    assert r.resolve("gpt-4") == Route("openai", "gpt-4.1-mini")
    assert r.resolve("claude-3-sonnet") == Route("anthropic", "claude-sonnet-4-5")


def test_unroutable_fallbacks_are_reported_not_fatal(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[llm.fallbacks]\n"gpt-4" = ["nowhere-model"]\n[llm.aliases]\nbad = "nope"\n')
    problems = router({"DAWAI_CONFIG": str(path)}).problems()
    assert any("nowhere-model" in p for p in problems) and any("llm.aliases.bad" in p for p in problems)
