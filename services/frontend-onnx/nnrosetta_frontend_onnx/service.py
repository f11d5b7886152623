"""The frontend-onnx Converter: Check / ToIR from an .onnx file (+ external data files), Run on
onnxruntime."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np

from nnrosetta.rpc.converter import Converter, Model, Progress
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_frontend_onnx import loader
from nnrosetta_frontend_onnx.convert import Conversion, convert_model
from nnrosetta_frontend_onnx.importers import all_importers


def _fail(issues: list[Issue], status: grpc.StatusCode, message: str) -> ConversionError:
    return ConversionError(status, message, issues,
                           reason=issues[0].code if issues else "CONVERSION_FAILED")


def supported_ops() -> list[str]:
    """ONNX op types with an importer whose IR ops all exist in this IR registry."""
    from nnrosetta.ir import registry

    have = registry.all_ops()
    return sorted(t for t, imps in all_importers().items()
                  if any(all(o in have for o in i.ir_ops) for i in imps))


def load_model(model: Model) -> loader.Loaded:
    return loader.load(model.files, model.names, model.options, model.format)


class OnnxConverter(Converter):
    name = "frontend-onnx"

    def load(self) -> None:
        import onnx.reference  # noqa: F401 - the constant folder, imported once up front
        import onnxruntime  # noqa: F401

        from nnrosetta.ir import registry

        all_importers()
        registry.all_ops()

    def describe(self) -> dict[str, Any]:
        import google.protobuf
        import onnx
        import onnxruntime as ort

        return {
            "framework": "onnx",
            "framework_version": onnx.__version__,
            "reads": ["onnx"],
            "writes": ["ir"],
            "ops_supported": supported_ops(),
            "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__,
                         "numpy": np.__version__, "protobuf": google.protobuf.__version__,
                         "opset_max": str(loader.max_opset()),
                         "opset_min": str(loader.MIN_OPSET)},
            "runtime": f"onnxruntime {ort.__version__}",
        }

    @staticmethod
    def _convert(loaded: loader.Loaded) -> Conversion | None:
        if loaded.model is None or loaded.issues:
            return None
        return convert_model(loaded)

    def check(self, model: Model):
        loaded = load_model(model)
        conv = self._convert(loaded)
        if conv is None:
            return loaded.issues, None
        return conv.issues, (conv.graph if not conv.issues else None)

    def to_ir(self, model: Model) -> Iterator[Any]:
        loaded = load_model(model)
        if loaded.issues:
            raise _fail(loaded.issues, loaded.status, "the ONNX model cannot be read")
        m = loaded.model
        yield Progress("parse", f"parsed {model.names.get('network')}: {len(m.graph.node)} "
                       f"nodes, opset {loaded.opset}, {len(m.graph.initializer)} initializers "
                       f"({loaded.size} bytes)", 1.0)
        conv = convert_model(loaded)
        for note in conv.notes:
            yield Progress("parse", note, -1.0)
        if conv.issues:
            raise _fail(conv.issues, conv.status, f"the ONNX model cannot be converted "
                        f"({len(conv.issues)} issues)")
        yield conv.graph
        total = sum(int(np.prod(t.shape)) if t.shape else 1 for t in conv.weights.values())
        done = 0
        last = -1.0
        for name, arr in conv.iter_weights():
            yield name, arr
            done += arr.size
            frac = done / max(total, 1)
            if frac - last >= 0.05 or frac >= 1.0:
                last = frac
                yield Progress("weights", f"{name} {list(arr.shape)}", frac)

    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str]):
        from nnrosetta_frontend_onnx.ort_run import run_onnxruntime

        loaded = load_model(model)
        if loaded.model is None or loaded.issues:
            raise _fail(loaded.issues, loaded.status, "the ONNX model cannot be read")
        return run_onnxruntime(loaded, inputs, fetch, model.workdir)
