"""The multi-process metrics folder ``dawai serve`` sets up (bootstrap/metrics_dir.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dawai.bootstrap.metrics_dir import ENV, multiprocess_metrics


def test_several_workers_get_a_folder_of_their_own_removed_afterwards(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    environ: dict[str, str] = {}
    with multiprocess_metrics(environ, 2) as folder:
        assert folder is not None and environ[ENV] == folder
        assert Path(folder).is_dir() and Path(folder).parent == tmp_path
        (Path(folder) / "counter_123.db").write_bytes(b"x")
    assert ENV not in environ and not Path(folder).exists()


def test_one_worker_needs_no_folder():
    environ: dict[str, str] = {}
    with multiprocess_metrics(environ, 1) as folder:
        assert folder is None and environ == {}


def test_a_folder_the_operator_names_is_emptied_of_samples_and_kept(tmp_path):
    named = tmp_path / "metrics"
    named.mkdir()
    (named / "counter_41.db").write_bytes(b"last run")
    (named / "README").write_text("mine")
    environ = {ENV: str(named)}
    for workers in (1, 4):
        with multiprocess_metrics(environ, workers) as folder:
            assert folder == str(named) and not list(named.glob("*.db"))
            (named / "histogram_7.db").write_bytes(b"this run")
        assert environ == {ENV: str(named)} and (named / "README").read_text() == "mine"
