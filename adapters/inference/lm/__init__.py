"""The ONNX language-model ghost-text engine: a decoder in Hugging Face optimum's export
layout (``model.onnx`` with ``past_key_values.*``, ``tokenizer.json``, ``config.json``) run
on onnxruntime with a KV cache (docs/adr/0033)."""

from dawai.adapters.inference.lm.decoder import DecoderLayout, LMFolderError, OnnxDecoder, load_folder
from dawai.adapters.inference.lm.engine import LMOptions, OnnxLMCompleter

__all__ = ["DecoderLayout", "LMFolderError", "LMOptions", "OnnxDecoder", "OnnxLMCompleter", "load_folder"]
