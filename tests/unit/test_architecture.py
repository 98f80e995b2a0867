"""The layout rules: packages listed, the ``dawai`` namespace used, the core kept pure."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = {
    "core": "dawai.core",
    "ports": "dawai.ports",
    "adapters": "dawai.adapters",
    "plugins": "dawai.plugins",
    "bootstrap": "dawai.bootstrap",
}
FORBIDDEN_IN_CORE = (
    "dawai.adapters",
    "dawai.plugins",
    "dawai.bootstrap",
    "litestar",
    "anthropic",
    "openai",
    "google",
    "onnxruntime",
    "uvicorn",
    "dependency_injector",
    "structlog",
    "redis",
)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_dirs() -> set[str]:
    found = set()
    for folder, package in TOP.items():
        for source in (ROOT / folder).rglob("*.py"):  # any folder with code is a package
            rel = source.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *rel)))
    return found


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _sources(*folders: str) -> list[Path]:
    return [p for f in folders for p in (ROOT / f).rglob("*.py")]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    assert _package_dirs() == listed


def test_package_dir_maps_each_top_folder():
    mapping = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert mapping == {package: folder for folder, package in TOP.items()}


def test_no_code_imports_bare_top_level_names():
    offenders = []
    for path in _sources(*TOP, "tests", "bench", "examples"):
        for name in _imports(path):
            if name.split(".")[0] in TOP:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_core_and_ports_import_no_adapter_framework_or_sdk():
    offenders = []
    for path in _sources("core", "ports"):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_CORE):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_ports_are_protocols_one_role_per_file():
    import typing

    import dawai.ports as ports

    for name in (
        "LLMProvider",
        "PromptStrategy",
        "SingingSynthesizer",
        "TextCompleter",
        "SummaryStore",
        "FeedbackStore",
        "AudioCache",
        "RenderJobs",
    ):
        assert getattr(ports, name).__mro__[1:] and typing.Protocol in getattr(ports, name).__mro__


def test_importing_the_app_factory_loads_no_sdk_or_onnxruntime():
    import subprocess
    import sys

    code = (
        "import sys; from dawai.bootstrap.asgi import create; "
        "heavy = [m for m in ('anthropic', 'openai', 'google.genai', 'onnxruntime') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_problem_documents_are_built_by_problems_py_alone():
    """Middlewares, hooks and the socket-level 431 answer through problems.py's helpers
    (send_problem, problem_message, problem_response); only openapi.py names the media
    type besides, to describe them."""
    offenders = []
    for path in _sources("adapters", "bootstrap", "plugins"):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "adapters/http/problems.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=rel)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in ("Problem", "problem_bytes"):
                    offenders.append(f"{rel}:{node.lineno}: {name}(...)")
            elif (
                isinstance(node, ast.Name)
                and node.id == "PROBLEM_MEDIA_TYPE"
                and not rel.endswith("openapi.py")
            ):
                offenders.append(f"{rel}:{node.lineno}: PROBLEM_MEDIA_TYPE")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "application/problem+json" in node.value
            ):
                offenders.append(f"{rel}:{node.lineno}: a problem media type of its own")
    assert offenders == []
