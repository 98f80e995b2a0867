"""Pluggy's wrappers (``wrapper=True``, ``hookwrapper=True``) around DAWAI's hooks."""

from __future__ import annotations

import msgspec

from dawai.core.models import Route
from dawai.plugins import hookimpl
from tests.conftest import ProviderPlugin, make_host, make_settings
from tests.fakes.providers import ScriptedProvider, factory_for, ok_script


def _provider_plugin(name: str) -> ProviderPlugin:
    return ProviderPlugin(name, factory_for(ScriptedProvider([ok_script("x")])))


class Tagger:
    """Wraps every plugin's provider registrations and marks their descriptions."""

    def __init__(self) -> None:
        self.wrapped: list[str] = []

    @hookimpl(wrapper=True)
    def register_llm_providers(self, register):
        result = yield
        self.wrapped.append(register.plugin)
        register.entries[:] = [
            msgspec.structs.replace(e, description=f"[traced] {e.description}") for e in register.entries
        ]
        return result


def test_a_wrapper_runs_around_each_plugins_registration_and_can_change_it():
    tagger = Tagger()
    host = make_host(make_settings(), ("tagger", tagger), ("extra", _provider_plugin("extra")))
    assert host.infos["tagger"].status == "loaded"
    assert tagger.wrapped == ["dawai.anthropic", "dawai.openai", "dawai.google", "extra"]
    providers = host.catalog.providers
    assert providers["anthropic"].description.startswith("[traced] Claude")
    assert providers["extra"].description == "[traced] " and providers["extra"].plugin == "extra"
    # What a wrapped plugin registered is still attributed to it, not to the wrapper.
    assert host.infos["extra"].registered == {"providers": ["extra"]}
    assert host.infos["tagger"].registered == {}


def test_an_old_style_hookwrapper_sees_what_each_plugin_registered():
    seen: dict[str, list[str]] = {}

    class Watcher:
        @hookimpl(hookwrapper=True)
        def register_llm_providers(self, register):
            outcome = yield
            outcome.get_result()
            seen[register.plugin] = [e.name for e in register.entries]

    make_host(make_settings(), ("watcher", Watcher()))
    assert seen["dawai.google"] == ["google"] and seen["dawai.anthropic"] == ["anthropic"]


def test_a_wrapper_can_drop_what_a_plugin_registered():
    class NoGoogle:
        @hookimpl(wrapper=True)
        def register_llm_providers(self, register):
            yield
            register.entries[:] = [e for e in register.entries if e.name != "google"]

    host = make_host(make_settings(), ("nogoogle", NoGoogle()))
    assert "google" not in host.catalog.providers and "anthropic" in host.catalog.providers


def test_a_failing_wrapper_is_blamed_by_name_and_the_plugins_it_wrapped_keep_their_registrations():
    class Broken:
        @hookimpl(wrapper=True)
        def register_llm_providers(self, register):
            yield
            raise RuntimeError("wrapper broke")

    host = make_host(make_settings(), ("broken", Broken()), ("extra", _provider_plugin("extra")))
    assert host.infos["broken"].status == "failed" and "wrapper broke" in host.infos["broken"].error
    assert {"anthropic", "openai", "google", "extra"} <= set(host.catalog.providers)
    assert all(host.infos[n].status == "loaded" for n in ("dawai.anthropic", "extra"))


def test_a_plugin_failing_inside_a_wrapper_is_blamed_itself_and_the_wrapper_stays_loaded():
    class Raises:
        @hookimpl
        def register_llm_providers(self, register):
            register("half", factory_for(ScriptedProvider([ok_script("x")])))
            raise RuntimeError("kaboom")

    tagger = Tagger()
    host = make_host(make_settings(), ("tagger", tagger), ("raises", Raises()))
    assert host.infos["raises"].status == "failed" and "kaboom" in host.infos["raises"].error
    assert host.infos["tagger"].status == "loaded"
    assert "half" not in host.catalog.providers
    assert host.catalog.providers["anthropic"].description.startswith("[traced]")


def test_a_wrapper_around_resolve_model_can_change_the_answer():
    class Claims:
        @hookimpl
        def resolve_model(self, model):
            return Route("anthropic", "claude-x") if model == "mine" else None

    class Redirect:
        @hookimpl(wrapper=True)
        def resolve_model(self, model):
            answer = yield
            return Route("openai", "gpt-x") if answer is not None else None

    host = make_host(make_settings(), ("claims", Claims()), ("redirect", Redirect()))
    assert host.resolve_model("mine") == Route("openai", "gpt-x")
    assert host.resolve_model("other") is None
