"""The frontend-caffe Converter: Check / ToIR from prototxt (+ caffemodel), Run on OpenCV."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np

from nnrosetta.options import parse_input_shapes
from nnrosetta.rpc.converter import Converter, Model, Progress
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_frontend_caffe.caffemodel import CaffeModel, Malformed, Truncated
from nnrosetta_frontend_caffe.convert import Conversion, convert_net
from nnrosetta_frontend_caffe.layers import all_converters
from nnrosetta_frontend_caffe.netspec import (
    DATA_TYPES,
    NetSpec,
    SyntaxIssue,
    net_spec,
    parse_prototxt,
)

FORMAT = "caffe"


def _fail(issues: list[Issue], status: grpc.StatusCode, message: str) -> ConversionError:
    return ConversionError(status, message, issues, reason=issues[0].code if issues else
                           "CONVERSION_FAILED")


class _Loaded:
    """A model's parsed pieces; closes the caffemodel map on close()."""

    def __init__(self) -> None:
        self.spec: NetSpec | None = None
        self.weights: CaffeModel | None = None
        self.input_shapes: dict[str, tuple[int, ...]] = {}
        self.issues: list[Issue] = []
        self.status = grpc.StatusCode.INVALID_ARGUMENT

    def close(self) -> None:
        if self.weights is not None:
            self.weights.close()


def load_model(model: Model, *, need_weights: bool) -> _Loaded:
    out = _Loaded()
    if model.format and model.format != FORMAT:
        out.issues.append(Issue("BAD_FORMAT", "format", f"frontend-caffe reads format "
                                f"'caffe', not {model.format!r}"))
        return out
    net_path = model.files.get("network")
    net_name = model.names.get("network", "network")
    if net_path is None:
        out.issues.append(Issue("MISSING_FILE", "network", "send the prototxt with role "
                                "'network' (and the caffemodel with role 'weights')"))
        return out
    opt = model.options.get("input_shape", "")
    if opt:
        try:
            out.input_shapes = parse_input_shapes(opt)
        except ValueError as e:
            out.issues.append(Issue("BAD_OPTION", "input_shape", f"{e}; expected "
                                    "\"data:1,3,224,224;other:1,10\""))
    try:
        with open(net_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        out.spec = net_spec(parse_prototxt(text, net_name), net_name)
    except SyntaxIssue as e:
        out.issues.append(e.issue)
    w_path = model.files.get("weights")
    if w_path is not None:
        w_name = model.names.get("weights", "weights")
        try:
            out.weights = CaffeModel(w_path)
        except Truncated as e:
            out.issues.append(Issue("TRUNCATED", e.layer or w_name, f"{w_name}: {e}"))
            out.status = grpc.StatusCode.DATA_LOSS
        except (Malformed, IndexError) as e:
            out.issues.append(Issue("BAD_WEIGHTS", w_name, f"{w_name} is not a caffemodel "
                                    f"(NetParameter): {e}"))
    elif need_weights:
        out.issues.append(Issue("MISSING_FILE", "weights", "ToIR needs the caffemodel: send "
                                "it with role 'weights'"))
    return out


class CaffeConverter(Converter):
    name = "frontend-caffe"

    def load(self) -> None:
        all_converters()
        from nnrosetta.ir import registry

        registry.all_ops()

    def describe(self) -> dict[str, Any]:
        import cv2
        import google.protobuf

        return {
            "framework": "caffe",
            "framework_version": "1.0 (format)",
            "reads": ["caffe"],
            "writes": ["ir"],
            "ops_supported": sorted(all_converters()),
            "versions": {"numpy": np.__version__, "protobuf": google.protobuf.__version__,
                         "opencv": cv2.__version__},
            "runtime": f"opencv-dnn {cv2.__version__}",
        }

    # -- conversion ------------------------------------------------------------------------
    def _convert(self, loaded: _Loaded, model: Model, need_data: bool) -> Conversion | None:
        if loaded.spec is None or loaded.issues:
            return None
        w = loaded.weights
        return convert_net(loaded.spec, blobs=None if w is None else w.blobs_by_layer(),
                           buf=None if w is None else w.buf,
                           input_shapes=loaded.input_shapes, options=dict(model.options),
                           need_data=need_data)

    def check(self, model: Model):
        loaded = load_model(model, need_weights=False)
        try:
            conv = self._convert(loaded, model, need_data=False)
            if conv is None:
                return loaded.issues, None
            return conv.issues, (conv.graph if not conv.issues else None)
        finally:
            loaded.close()

    def to_ir(self, model: Model) -> Iterator[Any]:
        loaded = load_model(model, need_weights=True)
        try:
            if loaded.issues:
                raise _fail(loaded.issues, loaded.status, "the Caffe model cannot be read")
            spec = loaded.spec
            yield Progress("parse", f"parsed {model.names.get('network')}: "
                           f"{len(spec.layers)} layers ({spec.form} form)", 1.0)
            if loaded.weights is not None:
                yield Progress("weights", f"indexed {model.names.get('weights')}: "
                               f"{len(loaded.weights.layers)} layers, "
                               f"{loaded.weights.size} bytes", 0.0)
            conv = self._convert(loaded, model, need_data=True)
            for note in conv.notes:
                yield Progress("parse", note, -1.0)
            if conv.issues:
                raise _fail(conv.issues, conv.status, f"the Caffe model cannot be converted "
                            f"({len(conv.issues)} issues)")
            yield conv.graph
            total = sum(t.shape and int(np.prod(t.shape)) or 1 for t in conv.weights.values())
            done = 0
            last = -1.0
            for name, arr in conv.iter_weights():
                yield name, arr
                done += arr.size
                frac = done / max(total, 1)
                if frac - last >= 0.05 or frac >= 1.0:
                    last = frac
                    yield Progress("weights", f"{name} {list(arr.shape)}", frac)
        finally:
            loaded.close()

    # -- running ---------------------------------------------------------------------------
    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str]):
        from nnrosetta_frontend_caffe.opencv_run import run_opencv

        loaded = load_model(model, need_weights=True)
        try:
            if loaded.issues:
                raise _fail(loaded.issues, loaded.status, "the Caffe model cannot be read")
            conv = self._convert(loaded, model, need_data=False)
            if conv is not None and conv.issues and not fetch:
                raise _fail(conv.issues, conv.status, "cannot tell the model's outputs")
            spec = loaded.spec
        finally:
            loaded.close()
        if not fetch:
            fetch = [conv.source_names.get(r.split(":")[0], r) for r in conv.graph.outputs]
        shapes = dict(loaded.input_shapes)
        for name, arr in inputs.items():
            shapes.setdefault(name, tuple(np.shape(arr)))
        needs_rewrite = any(lay.type in DATA_TYPES for lay in spec.layers) or \
            any(s is None for _, s in spec.inputs) or bool(loaded.input_shapes)
        workdir = model.workdir or os.path.dirname(model.files["network"])
        outs, info = run_opencv(model.files["network"], model.files["weights"], spec, inputs,
                                fetch, shapes, rewrite=needs_rewrite, workdir=workdir)
        return outs, info
