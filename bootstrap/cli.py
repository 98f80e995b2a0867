"""The ``dawai`` command: ``serve``, ``plugins``, ``sing``, ``config``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping, Sequence
from typing import Any

import msgspec

from dawai.bootstrap.config import ConfigError, load_settings, redacted
from dawai.bootstrap.logging import configure_logging, stdlib_logging_config
from dawai.core.settings import Settings

__all__ = ["main"]


def _check_startup(settings: Settings) -> None:
    """What would otherwise fail inside a worker, with a traceback: checked here, in one line."""
    from dawai.core.errors import NotConfigured
    from dawai.core.prompting import build_strategy
    from dawai.plugins.manager import build_plugin_manager

    try:
        build_strategy(build_plugin_manager(settings).catalog, settings.llm.prompt_strategy)
    except NotConfigured as exc:
        raise ConfigError(f"invalid setting llm.prompt_strategy: {exc.detail}") from None


def _serve_settings(args: argparse.Namespace, environ: MutableMapping[str, str]) -> Settings:
    """Settings with ``--host`` and ``--port`` in them, as if given by ``API_HOST`` and
    ``API_PORT``: set in the environment, so that every worker process (which loads its own
    settings) binds and checks ``Host`` (the default ``http.allowed_hosts`` includes the bind
    address) as the command line said."""
    if args.host:
        environ["API_HOST"] = args.host
    if args.port:
        environ["API_PORT"] = str(args.port)
    return load_settings(environ)


def _tls_options(settings: Settings) -> dict[str, Any]:
    """HTTPS by ``http.tls_certfile``/``tls_keyfile`` (checked when the settings loaded)."""
    http = settings.http
    if http.tls_certfile is None:
        return {}
    return {
        "ssl_certfile": http.tls_certfile,
        "ssl_keyfile": http.tls_keyfile,
        "ssl_keyfile_password": http.tls_keyfile_password,
    }


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from dawai.bootstrap.http_protocol import head_bounded_http_options
    from dawai.bootstrap.metrics_dir import multiprocess_metrics

    settings = _serve_settings(args, os.environ)
    _check_startup(settings)
    host, port = settings.http.host, settings.http.port
    workers = args.workers or settings.http.workers
    options: dict[str, Any] = {
        "log_level": settings.log.level,
        "log_config": stdlib_logging_config(settings.log),  # uvicorn's own lines as ours (JSON)
        "access_log": False,  # our own access log carries the request id
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        **head_bounded_http_options(),  # a request head's size bounded at the socket
        **_tls_options(settings),
    }
    # With several workers, each writes its metrics where /metrics in any worker adds them up.
    with multiprocess_metrics(os.environ, workers):
        if workers == 1 and not args.reload:
            # Our own server object: on SIGTERM it ends open streams in-band first (ADR 14).
            from dawai.bootstrap.server import serve_in_process

            return serve_in_process(settings, host, port, **options)
        # Several workers or --reload: uvicorn's own supervisor, each worker importing the factory.
        uvicorn.run(
            "dawai.bootstrap.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=None if args.reload else workers,
            reload=args.reload,
            **options,
        )
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from dawai.adapters.internals import plugin_states, verdicts
    from dawai.plugins.manager import build_plugin_manager

    host = build_plugin_manager(load_settings())
    loaded = {name for name, info in host.infos.items() if info.status == "loaded"}
    # Every SDK the loaded plugins use is imported here, so each private part is checked.
    checks = verdicts(load=True, plugins=loaded.__contains__)
    infos = [
        msgspec.structs.replace(info, status=status, warnings=warnings)
        for info, status, warnings in plugin_states(host.infos.values(), checks)
    ]
    if args.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(infos)).decode() + "\n")
        return 0
    for info in infos:
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        print(f"{info.name:<22} {info.status:<9} {origin}")
        if info.error:
            print(f"    error: {info.error}")
        if info.status == "degraded":
            for warning in info.warnings:
                print(f"    degraded: {warning}")
        for kind, names in info.registered.items():
            print(f"    {kind}: {', '.join(names)}")
    for plugin, problem in host.catalog.problems:
        print(f"warning: {plugin}: {problem}")
    print("private parts of dependencies (docs/adr/0021):")
    for check in checks:
        print(f"  {check.name:<28} {check.status:<9} {check.relies_on}")
        if check.reason:
            print(f"    reason: {check.reason}; using {check.fallback} instead")
    return 0


def _score_body(raw: bytes, args: argparse.Namespace) -> Any:
    """The synthesis body of a score: JSON as the endpoint takes it, or a Standard MIDI File
    whose lyric events name each note's syllable (``dawai.adapters.midi_score``)."""
    from dawai.adapters.http.schemas import SynthesizeBody

    if raw.startswith(b"MThd"):
        from dawai.adapters.midi_score import read_midi_score

        notes = read_midi_score(raw, args.track)
        fields: dict[str, Any] = {"notes": notes}
        if args.language:
            fields["language"] = args.language
        return msgspec.convert(fields, SynthesizeBody)
    body = msgspec.json.decode(raw, type=SynthesizeBody)
    if args.language:
        body = msgspec.structs.replace(body, language=args.language)
    return body


def _sing(args: argparse.Namespace) -> int:
    """Render a score file (the synthesis request body as JSON, or a MIDI file with lyric
    events) to a WAV file."""
    import asyncio
    import time

    from dawai.adapters.http.routes.singing import to_request
    from dawai.adapters.midi_score import MidiScoreError
    from dawai.bootstrap.container import build_container
    from dawai.core.errors import DawaiError
    from dawai.core.models import SynthesisProgress

    try:
        raw = sys.stdin.buffer.read() if args.score == "-" else open(args.score, "rb").read()  # noqa: SIM115
        body = _score_body(raw, args)
    except OSError as exc:
        print(f"dawai sing: cannot read {args.score}: {exc.strerror}", file=sys.stderr)
        return 2
    except (msgspec.DecodeError, msgspec.ValidationError, MidiScoreError) as exc:  # the field is named
        print(f"dawai sing: {args.score}: {exc}", file=sys.stderr)
        return 2
    if args.voice:
        body = msgspec.structs.replace(body, voice=args.voice)
    container = build_container(load_settings())
    service = container.singing_service()
    bar = _ProgressBar(sys.stderr, enabled=not args.quiet)

    def progress(step: SynthesisProgress) -> None:
        bar.show(step.fraction, step.stage)

    async def render() -> Any:
        try:
            return await service.synthesize(to_request(body), progress)
        finally:
            await service.aclose()

    began = time.perf_counter()
    try:
        rendered = asyncio.run(render())
    except DawaiError as exc:
        bar.done("")
        print(f"dawai sing: {exc.title}: {exc.detail}", file=sys.stderr)
        return 1
    bar.done(f"{args.output}: {len(rendered.wav)} bytes in {time.perf_counter() - began:.2f} s")
    with open(args.output, "wb") as fh:
        fh.write(rendered.wav)
    return 0


class _ProgressBar:
    """``[#####.....]  50% pitch`` on one line of a terminal (nothing when not enabled)."""

    def __init__(self, stream: Any, *, enabled: bool, width: int = 30) -> None:
        self.stream, self.enabled, self.width = stream, enabled, width

    def show(self, fraction: float, stage: str) -> None:
        if self.enabled:
            filled = round(max(0.0, min(1.0, fraction)) * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {fraction * 100:3.0f}% {stage:<10}")
            self.stream.flush()

    def done(self, message: str) -> None:
        if self.enabled:
            self.stream.write("\n")
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()


def _config(args: argparse.Namespace) -> int:
    data = redacted(load_settings())
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(data)).decode() + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dawai", description="DAWAI backend")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", help="bind address (default API_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default API_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.set_defaults(run=_serve)
    plugins = sub.add_parser("plugins", help="list plugins, their origin and what each registered")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(run=_plugins)
    sing = sub.add_parser(
        "sing", help="render a score (a synthesis request as JSON, or a MIDI file with lyrics) to a WAV file"
    )
    sing.add_argument("score", help="the score: a JSON or MIDI file, or - for standard input")
    sing.add_argument("-o", "--output", required=True, help="the WAV file to write")
    sing.add_argument("--voice", help="the voice (default: the score's, else default)")
    sing.add_argument("--language", choices=("ja", "en"), help="the lyrics' language (default: guessed)")
    sing.add_argument(
        "--track", type=int, help="a MIDI file's melody track, from 0 (default: the one with the most lyrics)"
    )
    sing.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sing.set_defaults(run=_sing)
    config = sub.add_parser("config", help="print the effective settings (secrets as ***)")
    config.set_defaults(run=_config)
    args = parser.parse_args(argv)
    try:
        if args.command != "serve":  # serve configures logging in each worker
            configure_logging(load_settings().log)
        return int(args.run(args))
    except ConfigError as exc:
        print(f"dawai: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
