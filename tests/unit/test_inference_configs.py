"""Voices and ghost-text engines get narrow configs of their own, never the settings."""

from __future__ import annotations

import msgspec
import pytest

from dawai.bootstrap.config import ConfigError, load_settings
from dawai.core.errors import NotConfigured
from dawai.core.inference import build_completer, build_voice
from dawai.plugins import hookimpl
from dawai.ports import EngineConfig, VoiceConfig
from tests.conftest import make_host

SECRET = "sk-ant-test-0000-secret"
CONFIG = f"""
[http]
api_tokens = ["token-{SECRET}"]

[inference]
execution_provider = "cuda"
threads = 3
voices_dir = "/srv/voices"

[providers.anthropic]
api_key = "{SECRET}"

[voices.alto]
options = {{ speaker = 2 }}

[voices.bass]
folder = "/opt/bass"

[engines.ngram]
options = {{ order = 4 }}
"""


class Made:
    """A plugin registering voices and an engine whose factories keep what they got."""

    def __init__(self) -> None:
        self.configs: list[object] = []

    def _make(self, config: object) -> object:
        self.configs.append(config)
        return config

    @hookimpl
    def register_voices(self, register):
        register("alto", self._make)
        register("bass", self._make, folder="/plugin/bass")
        register("tenor", self._make, folder="/plugin/tenor")

    @hookimpl
    def register_text_completers(self, register):
        register("ngram", self._make, folder="/plugin/ngram")


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "dawai.toml"
    path.write_text(CONFIG)
    return load_settings({"DAWAI_CONFIG": str(path), "DAWAI_GHOST_TEXT_ENGINE": "ngram"})


def test_a_voice_factory_gets_its_folder_runtime_and_options_and_no_secret(settings):
    made = Made()
    catalog = make_host(settings, ("made", made)).catalog
    alto = build_voice(catalog, settings, "alto")
    assert alto == VoiceConfig(
        name="alto", folder="/srv/voices/alto", execution_provider="cuda", threads=3, options={"speaker": 2}
    )
    assert build_voice(catalog, settings, "tenor").folder == "/plugin/tenor"  # the plugin's folder
    assert build_voice(catalog, settings, "bass").folder == "/opt/bass"  # the operator's wins
    for config in made.configs:
        assert SECRET not in msgspec.json.encode(config).decode()


def test_a_text_completer_factory_gets_an_engine_config_and_no_secret(settings):
    made = Made()
    catalog = make_host(settings, ("made", made)).catalog
    engine = build_completer(catalog, settings)  # inference.ghost_text_engine
    assert engine == EngineConfig(
        name="ngram", folder="/plugin/ngram", execution_provider="cuda", threads=3, options={"order": 4}
    )
    assert SECRET not in msgspec.json.encode(engine).decode()


def test_an_unregistered_voice_or_engine_is_not_configured(settings):
    catalog = make_host(settings).catalog
    with pytest.raises(NotConfigured, match="Voice 'alto' is not registered"):
        build_voice(catalog, settings, "alto")
    with pytest.raises(NotConfigured, match="engine 'ngram'"):
        build_completer(catalog, settings)


def test_voice_and_engine_tables_refuse_unknown_keys(tmp_path):
    path = tmp_path / "dawai.toml"
    path.write_text('[voices.alto]\napi_key = "x"\n')
    with pytest.raises(ConfigError, match="voices"):
        load_settings({"DAWAI_CONFIG": str(path)})


def test_threads_come_from_the_environment_too():
    assert load_settings({"DAWAI_INFERENCE_THREADS": "4"}).inference.threads == 4
