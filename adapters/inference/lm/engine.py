"""``OnnxLMCompleter``: ghost text from a decoder in optimum's layout, with a KV cache.

One completion is one prefill and a short batched greedy decode:

1. the text before the cursor, tokenised with the folder's ``tokenizer.json``
   (``tokenizers``), left-truncated to ``max_prompt_tokens`` (a leading BOS is kept);
2. one forward pass over the prompt; the ``branches`` likeliest first tokens (special and
   end tokens left out) each start a branch;
3. the prompt's cache, repeated once per branch, and the branches decoded greedily as one
   batch, one token a step, each row stopping at a line end, an end or special token,
   ``max_new_tokens`` or ``max_chars``; a finished row leaves the batch (and its cache).

Text comes out through ``tokenizers``' ``DecodeStream`` seeded with the prompt's last
tokens: a piece is emitted only once its bytes form whole characters, so a Japanese
character split over byte-level tokens is never cut, and a word's leading space survives.
A candidate's score is the geometric mean of its tokens' probabilities times
``score_weight``.

Work runs in the engine's own thread pool (``workers``), never on the event loop; at most
``max_pending`` completions are queued or running (more: ``Overloaded`` at once). A caller
that stops waiting (the hybrid engine when the user typed on) cancels: the decode stops at
its next step.

``[engines.lm] options`` (all optional): ``max_prompt_tokens`` (256), ``max_new_tokens``
(12), ``branches`` (3), ``max_chars`` (80), ``workers`` (1), ``max_pending`` (4),
``score_weight`` (0.8).
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Literal, cast

import msgspec
import numpy as np
from tokenizers import Tokenizer
from tokenizers.decoders import DecodeStream

from dawai.adapters.inference.lm.decoder import LMFolderError, OnnxDecoder, load_folder
from dawai.core.errors import NotConfigured, Overloaded
from dawai.core.ghost.learning import infer_kind
from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis
from dawai.ports.completion import EngineConfig

__all__ = ["Branch", "LMOptions", "OnnxLMCompleter"]

_DECODE_CONTEXT = 4  # prompt tokens a branch's DecodeStream starts from
_CHARS_PER_TOKEN = 8  # characters read before tokenising: enough for max_prompt_tokens


class LMOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[engines.lm] options``, each bounded."""

    max_prompt_tokens: Annotated[int, msgspec.Meta(ge=1, le=8192)] = 256
    max_new_tokens: Annotated[int, msgspec.Meta(ge=1, le=128)] = 12
    branches: Annotated[int, msgspec.Meta(ge=1, le=8)] = 3
    max_chars: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 80
    workers: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1
    max_pending: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 4
    score_weight: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.8


@dataclass(slots=True)
class Branch:
    """One continuation: its tokens, the text they make so far, their summed log-probability."""

    tokens: list[int]
    stream: DecodeStream
    text: str = ""
    logprob: float = 0.0
    done: bool = False
    pieces: list[str] = field(default_factory=list)


def _ends_text(char: str) -> bool:
    """A line end, a control character, or U+FFFD (bytes that are no UTF-8, which a
    sampled byte-level model can emit) ends a continuation there."""
    return char == "\ufffd" or (unicodedata.category(char) in ("Cc", "Cs") and char != "\t")


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return cast("np.ndarray", shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)))


class OnnxLMCompleter:
    """A ``TextCompleter`` over an optimum decoder folder (``LMFolderError`` when it does not load)."""

    name = "lm"

    def __init__(self, config: EngineConfig) -> None:
        try:
            self.options = msgspec.convert(config.options, LMOptions)
        except msgspec.ValidationError as exc:
            raise LMFolderError(f"[engines.{config.name}] options: {exc}") from None
        providers = ["CPUExecutionProvider"]
        if config.execution_provider in ("auto", "cuda"):  # CUDA where this onnxruntime has it
            providers.insert(0, "CUDAExecutionProvider")
        layout, session, _ = load_folder(config.folder, threads=config.threads, providers=providers)
        try:
            self._tokenizer = Tokenizer.from_file(layout.tokenizer_path)
        except Exception as exc:  # tokenizers raises a bare Exception for a bad file
            raise LMFolderError(f"tokenizer.json does not load ({type(exc).__name__})") from None
        self.name = config.name
        self.decoder = OnnxDecoder(layout, session)
        special = {
            token_id
            for token_id, token in self._tokenizer.get_added_tokens_decoder().items()
            if token.special
        }
        self._stops = frozenset(special) | layout.eos_ids
        self._pool = ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="dawai-lm")
        self._slots = threading.BoundedSemaphore(self.options.max_pending)

    # --- the port -------------------------------------------------------------------------

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        prompt = query.text[: query.cursor]
        if not prompt.strip():
            return []
        if not self._slots.acquire(blocking=False):
            raise Overloaded("the language model has too many completions waiting")
        cancel = threading.Event()
        try:
            future = self._pool.submit(self._complete_sync, prompt, cancel)
        except RuntimeError:  # the pool was shut down
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            cancel.set()
            future.cancel()
            raise

    async def analyze(self, text: str) -> TextAnalysis:
        raise NotConfigured("the language-model engine suggests text; analysis is the embedded engine's")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- in a worker thread ---------------------------------------------------------------

    def prompt_ids(self, prompt: str) -> list[int]:
        """The prompt's tokens, the last ``max_prompt_tokens`` (a leading BOS kept)."""
        limit = self.options.max_prompt_tokens
        ids = self._tokenizer.encode(prompt[-limit * _CHARS_PER_TOKEN :], add_special_tokens=True).ids
        if len(ids) <= limit:
            return list(ids)
        bos = self.decoder.layout.bos_id
        if bos is not None and ids[0] == bos:
            return [bos, *ids[len(ids) - limit + 1 :]]
        return list(ids[len(ids) - limit :])

    def _complete_sync(self, prompt: str, cancel: threading.Event) -> list[CompletionCandidate]:
        if cancel.is_set():
            return []
        branches = self.generate(self.prompt_ids(prompt), cancel)
        weight = self.options.score_weight
        found: list[CompletionCandidate] = []
        for branch in branches:
            text = branch.text.rstrip()
            if not text.strip() or not branch.tokens:
                continue
            score = float(np.exp(branch.logprob / len(branch.tokens))) * weight
            kind = cast("Literal['lyric', 'chord', 'term', 'phrase']", infer_kind(text))
            found.append(CompletionCandidate(text, round(score, 4), kind))
        return found

    def generate(self, prompt_ids: list[int], cancel: threading.Event | None = None) -> list[Branch]:
        """One prefill, the best first tokens, then their greedy continuations as one batch."""
        options = self.options
        if not prompt_ids:
            return []
        logits, cache = self.decoder.forward(np.array([prompt_ids], dtype=np.int64), None)
        first = _log_softmax(logits[0, -1])
        order = np.argsort(-first, kind="stable")
        branches: list[Branch] = []
        context = prompt_ids[-_DECODE_CONTEXT:]
        for token in order[: options.branches + len(self._stops)]:
            token_id = int(token)
            if token_id in self._stops:
                continue
            branch = Branch([], DecodeStream(ids=list(context), skip_special_tokens=True))
            self.extend(branch, token_id, float(first[token_id]))
            branches.append(branch)
            if len(branches) == options.branches:
                break
        active = [i for i, branch in enumerate(branches) if not branch.done]
        if not active:
            return branches
        cache = OnnxDecoder.select(cache, np.zeros(len(active), dtype=np.int64))
        while active:
            if cancel is not None and cancel.is_set():
                break
            tokens = np.array([[branches[i].tokens[-1]] for i in active], dtype=np.int64)
            logits, cache = self.decoder.forward(tokens, cache)
            step = _log_softmax(logits[:, -1])
            best = step.argmax(axis=-1)
            still: list[int] = []
            rows: list[int] = []
            for row, index in enumerate(active):
                token_id = int(best[row])
                branch = branches[index]
                if token_id in self._stops:
                    branch.done = True
                else:
                    self.extend(branch, token_id, float(step[row, token_id]))
                if not branch.done:
                    still.append(index)
                    rows.append(row)
            if len(rows) != len(active):
                cache = OnnxDecoder.select(cache, np.array(rows, dtype=np.int64))
            active = still
        return branches

    def extend(self, branch: Branch, token_id: int, logprob: float) -> None:
        """Add ``token_id`` to ``branch``: its text grows by whatever whole characters it
        completes; a line end (or a character that cannot be shown), ``max_chars`` or
        ``max_new_tokens`` ends the branch."""
        options = self.options
        branch.tokens.append(token_id)
        branch.logprob += logprob
        piece = branch.stream.step(self._tokenizer, token_id)
        if piece:
            branch.pieces.append(piece)
            end = next((at for at, char in enumerate(piece) if _ends_text(char)), -1)
            text = branch.text + (piece if end < 0 else piece[:end])
            if end >= 0:
                branch.text = text[: options.max_chars]
                branch.done = True
                return
            branch.text = text[: options.max_chars]
            if len(text) >= options.max_chars:
                branch.done = True
                return
        if len(branch.tokens) >= options.max_new_tokens:
            branch.done = True
