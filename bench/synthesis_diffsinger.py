"""DiffSinger voicebanks on onnxruntime: real-time factor per stage, the pipeline's overhead
over the raw ``session.run`` time of the same graphs, and memory per loaded voice.

    .venv/bin/python bench/synthesis_diffsinger.py [--seconds 4] [--steps 4] [--runs 3] [--provider cpu]

(``bench/synthesis.py --section diffsinger`` runs the same.) A bank is written to a temporary
folder with random-weight graphs sized like a real one: an acoustic model of ~60 M
parameters (an encoder run once and a denoiser run ``steps`` times in an ONNX ``Loop``, as
the exported models do), an NSF-HiFiGAN-like vocoder of ~14 M (a sine excitation at f0 and a
stack of matrix products over the mel frames), and linguistic, duration, pitch (a ``Loop``
too) and variance predictors of a few million each, every input and output named as the
format has them. The bank is loaded through the real loader and rendered through
``DiffSingerVoice.render``; each model's ``session.run`` is timed inside that render (the
raw time), then replayed alone with the inputs it was given (the floor). Rows:

- each stage's real-time factor (seconds of audio per second of its raw ``session.run``);
- the whole render's real-time factor, and its overhead over the sum of the raw runs
  (goal ≤ 5 %);
- RSS growth from loading the bank's sessions (memory per loaded voice).

Prints a table, then one line ``JSON {...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import psutil
import yaml
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dawai.adapters.inference.diffsinger.bank import read_bank  # noqa: E402
from dawai.adapters.inference.diffsinger.sessions import SessionPool  # noqa: E402
from dawai.adapters.inference.diffsinger.voice import DiffSingerVoice  # noqa: E402
from dawai.core.models import SynthesisNote, SynthesisRequest  # noqa: E402
from dawai.core.singing import SingingLimits, prepare  # noqa: E402

F32 = np.float32
PHONEMES = [
    "<PAD>",
    "SP",
    "AP",
    "a",
    "i",
    "u",
    "e",
    "o",
    "N",
    "k",
    "s",
    "t",
    "n",
    "h",
    "m",
    "y",
    "r",
    "w",
    "g",
]
LYRICS = ["さ", "く", "ら", "か", "な", "た", "ま", "の"]


class _G:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.params = 0
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}{self._n}"

    def weight(self, rows: int, cols: int) -> str:
        self.params += rows * cols
        w = (self.rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(F32)
        name = self.name("w")
        self.inits.append(numpy_helper.from_array(w, name))
        return name

    def const(self, value: Any) -> str:
        name = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, nodes: list[Any] | None = None, **attrs: Any) -> str:
        out = self.name(kind.lower())
        (self.nodes if nodes is None else nodes).append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def inp(self, name: str, dtype: int, shape: list[Any]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def out(self, source: str, name: str, dtype: int, shape: list[Any]) -> None:
        self.nodes.append(helper.make_node("Identity", [source], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, dtype, shape))

    def dense(self, x: str, rows: int, cols: int, nodes: list[Any] | None = None) -> str:
        return self.op("Tanh", self.op("MatMul", x, self.weight(rows, cols), nodes=nodes), nodes=nodes)

    def zero(self, *names: str) -> str:
        total = self.const(F32(0))
        for n in names:
            total = self.op(
                "Add", total, self.op("ReduceSum", self.op("Cast", n, to=TensorProto.FLOAT), keepdims=0)
            )
        return self.op("Mul", total, self.const(F32(0)))

    def loop(self, steps: str, x: str, width: int, layers: int, cond: str) -> str:
        """``x`` through ``layers`` dense layers, ``steps`` times (the diffusion sampler)."""
        body: list[Any] = []
        body_x = self.name("bx")
        h = body_x
        for _ in range(layers):
            h = self.op("Add", self.dense(h, width, width, nodes=body), cond, nodes=body)
        body.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
        body.append(helper.make_node("Identity", [h], ["x_out"]))
        graph = helper.make_graph(
            body,
            self.name("body"),
            [
                helper.make_tensor_value_info("iter", TensorProto.INT64, []),
                helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                helper.make_tensor_value_info(body_x, TensorProto.FLOAT, None),
            ],
            [
                helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
                helper.make_tensor_value_info("x_out", TensorProto.FLOAT, None),
            ],
        )
        trips = self.op("Squeeze", steps, self.const(np.array([0], dtype=np.int64)))
        out = self.name("loop")
        self.nodes.append(helper.make_node("Loop", [trips, self.const(np.bool_(True)), x], [out], body=graph))
        return out

    def save(self, path: Path) -> int:
        graph = helper.make_graph(self.nodes, path.stem, self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(path))
        return self.params


def _frames_feature(g: _G, f0: str, width: int) -> str:
    logf = g.op("Log", g.op("Add", f0, g.const(F32(1))))
    return g.dense(g.op("Unsqueeze", logf, g.const(np.array([2], dtype=np.int64))), 1, width)


def acoustic(path: Path, *, width: int, encoder_layers: int, denoiser_layers: int) -> int:
    g = _G(1)
    tokens = g.inp("tokens", TensorProto.INT64, [1, "n_tokens"])
    durations = g.inp("durations", TensorProto.INT64, [1, "n_tokens"])
    f0 = g.inp("f0", TensorProto.FLOAT, [1, "n_frames"])
    depth = g.inp("depth", TensorProto.FLOAT, [1])
    steps = g.inp("steps", TensorProto.INT64, [1])
    curves = [g.inp(n, TensorProto.FLOAT, [1, "n_frames"]) for n in ("energy", "breathiness")]
    x = _frames_feature(g, f0, width)
    for _ in range(encoder_layers):
        x = g.dense(x, width, width)
    cond = g.op("Add", x, g.zero(tokens, durations, depth, *curves))
    noise = g.op("Mul", cond, g.const(F32(0.5)))
    x = g.loop(steps, noise, width, denoiser_layers, cond)
    mel = g.op("MatMul", x, g.weight(width, 128))
    g.out(mel, "mel", TensorProto.FLOAT, [1, "n_frames", 128])
    return g.save(path)


def vocoder(path: Path, *, width: int, layers: int) -> int:
    g = _G(2)
    mel = g.inp("mel", TensorProto.FLOAT, [1, "n_frames", 128])
    f0 = g.inp("f0", TensorProto.FLOAT, [1, "n_frames"])
    h = g.dense(mel, 128, width)
    for _ in range(layers):
        h = g.dense(h, width, width)
    residual = g.op(
        "Reshape", g.op("MatMul", h, g.weight(width, 512)), g.const(np.array([1, -1], dtype=np.int64))
    )
    up = g.op(
        "Reshape",
        g.op(
            "Expand",
            g.op("Unsqueeze", f0, g.const(np.array([2], dtype=np.int64))),
            g.const(np.array([1, 1, 512], dtype=np.int64)),
        ),
        g.const(np.array([1, -1], dtype=np.int64)),
    )
    cycles = g.op("CumSum", g.op("Div", up, g.const(F32(44100))), g.const(np.int64(1)))
    sine = g.op("Sin", g.op("Mul", g.op("Sub", cycles, g.op("Floor", cycles)), g.const(F32(2 * np.pi))))
    wave = g.op("Add", g.op("Mul", sine, g.const(F32(0.3))), g.op("Mul", residual, g.const(F32(0.001))))
    g.out(wave, "waveform", TensorProto.FLOAT, [1, "n_samples"])
    return g.save(path)


def linguistic(path: Path, *, width: int, word_mode: bool) -> int:
    g = _G(3)
    tokens = g.inp("tokens", TensorProto.INT64, [1, "n_tokens"])
    extra = (
        [g.inp("word_div", TensorProto.INT64, [1, "w"]), g.inp("word_dur", TensorProto.INT64, [1, "w"])]
        if word_mode
        else [g.inp("ph_dur", TensorProto.INT64, [1, "n_tokens"])]
    )
    table = g.weight(len(PHONEMES), width)
    x = g.op("Gather", table, tokens)
    for _ in range(4):
        x = g.dense(x, width, width)
    g.out(g.op("Add", x, g.zero(*extra)), "encoder_out", TensorProto.FLOAT, [1, "n_tokens", width])
    g.out(g.op("Greater", tokens, g.const(np.int64(-1))), "x_masks", TensorProto.BOOL, [1, "n_tokens"])
    return g.save(path)


def duration(path: Path, *, width: int) -> int:
    g = _G(4)
    enc = g.inp("encoder_out", TensorProto.FLOAT, [1, "n_tokens", width])
    used = [
        g.inp("x_masks", TensorProto.BOOL, [1, "n_tokens"]),
        g.inp("ph_midi", TensorProto.INT64, [1, "n_tokens"]),
    ]
    h = g.dense(g.dense(enc, width, width), width, 1)
    pred = g.op(
        "Add", g.op("Squeeze", g.op("Abs", h), g.const(np.array([2], dtype=np.int64))), g.const(F32(2))
    )
    g.out(g.op("Add", pred, g.zero(*used)), "ph_dur_pred", TensorProto.FLOAT, [1, "n_tokens"])
    return g.save(path)


def pitch(path: Path, *, width: int, layers: int) -> int:
    g = _G(5)
    enc = g.inp("encoder_out", TensorProto.FLOAT, [1, "n_tokens", width])
    used = [
        g.inp(n, t, s)
        for n, t, s in [
            ("note_midi", TensorProto.FLOAT, [1, "n"]),
            ("note_dur", TensorProto.INT64, [1, "n"]),
            ("ph_dur", TensorProto.INT64, [1, "n_tokens"]),
            ("retake", TensorProto.BOOL, [1, "n_frames"]),
        ]
    ]
    base = g.inp("pitch", TensorProto.FLOAT, [1, "n_frames"])
    steps = g.inp("speedup", TensorProto.INT64, [1])
    x = _frames_feature(g, base, width)
    x = g.loop(g.const(np.array([4], dtype=np.int64)), x, width, layers, g.op("Mul", x, g.const(F32(0.1))))
    delta = g.op("Squeeze", g.op("MatMul", x, g.weight(width, 1)), g.const(np.array([2], dtype=np.int64)))
    out = g.op("Add", base, g.op("Mul", delta, g.const(F32(0.0))))
    g.out(g.op("Add", out, g.zero(enc, steps, *used)), "pitch_pred", TensorProto.FLOAT, [1, "n_frames"])
    return g.save(path)


def variance(path: Path, *, width: int, layers: int) -> int:
    g = _G(6)
    enc = g.inp("encoder_out", TensorProto.FLOAT, [1, "n_tokens", width])
    used = [
        g.inp("ph_dur", TensorProto.INT64, [1, "n_tokens"]),
        g.inp("retake", TensorProto.BOOL, [1, "n_frames", 2]),
        g.inp("speedup", TensorProto.INT64, [1]),
        g.inp("energy", TensorProto.FLOAT, [1, "n_frames"]),
        g.inp("breathiness", TensorProto.FLOAT, [1, "n_frames"]),
    ]
    base = g.inp("pitch", TensorProto.FLOAT, [1, "n_frames"])
    x = _frames_feature(g, base, width)
    x = g.loop(g.const(np.array([4], dtype=np.int64)), x, width, layers, g.op("Mul", x, g.const(F32(0.1))))
    zero = g.zero(enc, *used)
    for i, name in enumerate(("energy", "breathiness")):
        curve = g.op("Squeeze", g.op("MatMul", x, g.weight(width, 1)), g.const(np.array([2], dtype=np.int64)))
        curve = g.op("Add", g.op("Mul", curve, g.const(F32(0.01))), g.const(F32(-30.0 + i)))
        g.out(g.op("Add", curve, zero), f"{name}_pred", TensorProto.FLOAT, [1, "n_frames"])
    return g.save(path)


def write_bank(folder: Path) -> dict[str, int]:
    """A bank sized like a real one; the parameter count of each model."""
    folder.mkdir(parents=True)
    (folder / "phonemes.txt").write_text("\n".join(PHONEMES) + "\n")
    config = {
        "acoustic": "acoustic.onnx",
        "phonemes": "phonemes.txt",
        "vocoder": "nsf",
        "useContinuousAcceleration": True,
        "use_variable_depth": True,
        "max_depth": 0.6,
        "useEnergyEmbed": True,
        "useBreathinessEmbed": True,
    }
    (folder / "dsconfig.yaml").write_text(yaml.safe_dump(config))
    (folder / "character.yaml").write_text(yaml.safe_dump({"name": "Bench Singer"}))
    params = {
        "acoustic": acoustic(folder / "acoustic.onnx", width=1024, encoder_layers=12, denoiser_layers=44)
    }
    (folder / "dsvocoder").mkdir()
    (folder / "dsvocoder" / "vocoder.yaml").write_text(yaml.safe_dump({"model": "vocoder.onnx"}))
    params["vocoder"] = vocoder(folder / "dsvocoder" / "vocoder.onnx", width=1024, layers=13)
    for sub, kind in (("dsdur", "dur"), ("dspitch", "pitch"), ("dsvariance", "variance")):
        (folder / sub).mkdir()
        (folder / sub / "phonemes.txt").write_text("\n".join(PHONEMES) + "\n")
        sub_config = {
            "phonemes": "phonemes.txt",
            "linguistic": "linguistic.onnx",
            kind: f"{kind}.onnx",
            "hiddenSize": 512,
            "predict_dur": kind == "dur",
            "predict_voicing": False,
            "predict_tension": False,
        }
        (folder / sub / "dsconfig.yaml").write_text(yaml.safe_dump(sub_config))
        params[f"{kind} linguistic"] = linguistic(
            folder / sub / "linguistic.onnx", width=512, word_mode=kind == "dur"
        )
        build = {
            "dur": lambda p: duration(p, width=512),
            "pitch": lambda p: pitch(p, width=512, layers=8),
            "variance": lambda p: variance(p, width=512, layers=8),
        }[kind]
        params[kind] = build(folder / sub / f"{kind}.onnx")
    return params


class _Timed:
    """A session that times each ``run`` and keeps what it was fed (to replay it alone)."""

    def __init__(self, session: Any, stage: str, log: list[tuple[str, float, dict[str, Any]]]) -> None:
        self.session, self.stage, self.log = session, stage, log

    def run(self, names: Any, feeds: dict[str, Any]) -> Any:
        began = time.perf_counter()
        out = self.session.run(names, feeds)
        self.log.append((self.stage, time.perf_counter() - began, feeds))
        return out


STAGE = {
    "acoustic": "acoustic",
    "vocoder": "vocoder",
    "dur": "duration",
    "dur.linguistic": "duration",
    "pitch": "pitch",
    "pitch.linguistic": "pitch",
    "variance": "variance",
    "variance.linguistic": "variance",
}


def score(seconds: float) -> SynthesisRequest:
    notes, t, i = [], 0.0, 0
    while t < seconds - 1e-9:
        length = min([0.25, 0.5, 0.75][i % 3], seconds - t)
        notes.append(SynthesisNote(57 + (i * 5) % 12, round(t, 6), round(length, 6), LYRICS[i % len(LYRICS)]))
        t += length
        i += 1
    return prepare(SynthesisRequest("bench", tuple(notes), language="ja"), SingingLimits())


def run(seconds: float, steps: int, runs: int, provider: str, threads: int) -> dict[str, Any]:
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        params = write_bank(Path(tmp) / "bench")
        built = time.perf_counter() - began
        bank = read_bank(Path(tmp) / "bench")
        pool = SessionPool(execution_provider=provider, threads=threads, max_loaded=1)
        voice = DiffSingerVoice(bank, pool, ThreadPoolExecutor(1), steps=steps)
        request = score(seconds)
        rss_before = process.memory_info().rss
        voice.render(request)  # loads the sessions, warms them
        rss_after = process.memory_info().rss
        models = pool.models(bank.id, lambda: {})
        log: list[tuple[str, float, dict[str, Any]]] = []
        for key, model in models.items():
            model.session = _Timed(model.session, STAGE[key], log)
        totals: list[float] = []
        raw: list[float] = []
        stage_times: dict[str, list[float]] = {}
        for _ in range(runs):  # a render, then the same graphs alone with the same inputs (the floor)
            log.clear()
            began = time.perf_counter()
            voice.render(request)
            totals.append(time.perf_counter() - began)
            raw.append(sum(t for _, t, _ in log))
            per: dict[str, float] = {}
            for stage, _, feeds in list(log):
                session = next(
                    m.session.session
                    for k, m in models.items()
                    if STAGE[k] == stage and set(feeds) == {i.name for i in m.session.session.get_inputs()}
                )
                began = time.perf_counter()
                session.run(None, feeds)
                per[stage] = per.get(stage, 0.0) + time.perf_counter() - began
            for stage, value in per.items():
                stage_times.setdefault(stage, []).append(value)
        where = next(iter(models.values())).provider
    total = statistics.median(totals)
    raw_inside = statistics.median(raw)
    alone = sum(statistics.median(v) for v in stage_times.values())
    return {
        "provider": where,
        "phrase_seconds": seconds,
        "steps": steps,
        "params_m": {k: round(v / 1e6, 1) for k, v in params.items()},
        "bank_written_s": round(built, 1),
        "stage_x_realtime": {k: round(seconds / statistics.median(v), 2) for k, v in stage_times.items()},
        "render_x_realtime": round(seconds / total, 2),
        "render_s": round(total, 3),
        "raw_runs_inside_s": round(raw_inside, 3),
        "raw_runs_alone_s": round(alone, 3),
        "overhead_pct": round((total - alone) / alone * 100, 2),
        "overhead_inside_pct": round((total - raw_inside) / raw_inside * 100, 2),
        "rss_per_voice_mb": round((rss_after - rss_before) / 2**20, 1),
    }


def print_report(result: dict[str, Any]) -> None:
    print(
        f"DiffSinger pipeline ({os.cpu_count()} cores, {result['provider']}, "
        f"{result['phrase_seconds']:g}-s phrase, "
        f"{result['steps']} steps; random-weight graphs, bank written in {result['bank_written_s']} s)"
    )
    print(f"{'measure':<58} {'value':>12}  floor")
    print("-" * 100)
    params = result["params_m"]
    for stage, x in result["stage_x_realtime"].items():
        size = {
            "acoustic": params["acoustic"],
            "vocoder": params["vocoder"],
            "duration": params["dur"] + params["dur linguistic"],
            "pitch": params["pitch"] + params["pitch linguistic"],
            "variance": params["variance"] + params["variance linguistic"],
        }[stage]
        print(f"{stage + f' ({size:g} M params), session.run alone (x realtime)':<58} {x:>12.2f}")
    print(
        f"{'whole render through DiffSingerVoice (x realtime)':<58} {result['render_x_realtime']:>12.2f}  "
        f"{result['phrase_seconds'] / result['raw_runs_alone_s']:.2f} (sum of the runs alone)"
    )
    print(
        f"{'pipeline overhead over the raw session.run time (%)':<58} {result['overhead_pct']:>12.2f}  "
        f"{result['overhead_inside_pct']:.2f} (over the runs timed inside the render)"
    )
    print(f"{'RSS per loaded voice (MiB)':<58} {result['rss_per_voice_mb']:>12.1f}")
    met = result["overhead_pct"] <= 5
    print(f"goal overhead_pct<=5: {'met' if met else 'NOT met'}")
    print("JSON " + json.dumps({**result, "goals": {"overhead_pct<=5": met}}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--provider", choices=["auto", "cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    print_report(run(args.seconds, args.steps, args.runs, args.provider, args.threads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
