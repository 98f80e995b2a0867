"""The ``dawai`` command: ``serve``, ``plugins``, ``config``."""

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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from dawai.bootstrap.http_protocol import head_bounded_http_options

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
    }
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
