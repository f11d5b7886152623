"""Same-host transport (nnrosetta.shared and the reference chunks of nnrosetta.wire): what a
receiver accepts, what it refuses, and that references carry the same bytes."""

from __future__ import annotations

import os

import numpy as np
import pytest

from nnrosetta import shared, wire
from nnrosetta.proto import converter_pb2 as pb


def test_token_proves_the_same_folder(shared_dir, tmp_path, monkeypatch):
    tok = shared.token()
    assert tok.startswith(".nnr-share-") and (shared_dir / tok).is_file()
    assert shared.sees(tok)
    assert not shared.sees(".nnr-share-" + "0" * 32)      # another host's token
    assert not shared.sees("../" + tok) and not shared.sees("")
    monkeypatch.setenv(shared.ENV, str(tmp_path / "elsewhere"))   # same name, other folder
    assert not shared.sees(tok)
    monkeypatch.delenv(shared.ENV)
    assert not shared.sees(tok) and shared.token() == ""


def test_tensor_reference_roundtrip(shared_dir):
    shared.root()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5)).astype(np.float32)
    b = np.arange(7, dtype=np.int64)
    path = shared_dir / "w.bin"
    with open(path, "wb") as f:
        f.write(b"\0" * 16)
        f.write(a.tobytes())
        f.write(b.tobytes())
    ta = wire.TensorAssembler()
    ta.add(wire.tensor_ref_chunk("a", a.dtype, a.shape, str(path), 16))
    ta.add(wire.tensor_ref_chunk("b", b.dtype, b.shape, str(path), 16 + a.nbytes))
    np.testing.assert_array_equal(ta.done["a"], a)
    np.testing.assert_array_equal(ta.done["b"], b)
    ta.done["a"][0, 0, 0] = 42.0          # copy-on-write: the file is not changed
    assert np.frombuffer(path.read_bytes()[16:20], np.float32)[0] == a[0, 0, 0]
    # a receiver without the shared folder gets bytes instead
    chunks = list(wire.materialize(wire.tensor_ref_chunk("a", a.dtype, a.shape, str(path), 16)))
    assert all(not c.path and c.data for c in chunks)
    tb = wire.TensorAssembler()
    for c in chunks:
        tb.add(c)
    np.testing.assert_array_equal(tb.done["a"], a)


@pytest.mark.parametrize("where", ["outside", "symlink", "past_end"])
def test_tensor_reference_refused(shared_dir, tmp_path, where):
    shared.root()
    outside = tmp_path / "secret.bin"
    outside.write_bytes(b"\1" * 64)
    path = str(outside)
    if where == "symlink":                 # a link inside that points outside
        os.symlink(outside, shared_dir / "link.bin")
        path = str(shared_dir / "link.bin")
    elif where == "past_end":
        (shared_dir / "small.bin").write_bytes(b"\0" * 8)
        path = str(shared_dir / "small.bin")
    with pytest.raises(wire.ChunkError) as ei:
        wire.TensorAssembler().add(wire.tensor_ref_chunk("t", np.float32, [16], path, 0))
    assert ("outside the shared folder" if where != "past_end" else "past the end") \
        in str(ei.value)


def test_file_reference_is_linked_not_copied(shared_dir, tmp_path):
    shared.root()
    src = shared_dir / "model.bin"
    src.write_bytes(os.urandom(1000))
    dest = tmp_path / "recv"
    dest.mkdir()
    fa = wire.FileAssembler(folder=str(dest))
    fa.add(next(wire.path_chunks("model.bin", src, by_path=True)))
    assert fa.complete("model.bin")
    got = dest / "model.bin"
    assert got.read_bytes() == src.read_bytes()
    assert os.stat(got).st_ino == os.stat(src).st_ino        # a hard link
    with pytest.raises(wire.ChunkError):
        wire.FileAssembler(folder=str(dest)).add(
            pb.FileChunk(name="x", path="/etc/passwd", last=True))


def test_without_shared_folder_references_are_refused(monkeypatch, tmp_path):
    monkeypatch.delenv(shared.ENV, raising=False)
    p = tmp_path / "f.bin"
    p.write_bytes(b"x")
    with pytest.raises(wire.ChunkError) as ei:
        wire.FileAssembler(folder=str(tmp_path)).add(pb.FileChunk(name="g", path=str(p),
                                                                  last=True))
    assert "no shared folder" in str(ei.value)


class _ManyWeights:
    """A stand-in frontend: a graph, then 600 small weights with a progress message after
    the first 100."""

    name = "frontend-many"

    def __init__(self):
        rng = np.random.default_rng(1)
        self.weights = {f"w{i}": rng.standard_normal((i % 7 + 1, 3)).astype(np.float32)
                        for i in range(600)}

    def to_ir(self, model):
        from nnrosetta.ir.graph import Graph, Node
        from nnrosetta.rpc.converter import Progress

        yield Graph([Node("x", "Input", [], {"shape": [1, 3]})], ["x"])
        for i, (name, arr) in enumerate(self.weights.items()):
            if i == 100:
                yield Progress("weights", "a sixth", 100 / 600)
            yield name, arr


def test_to_ir_sends_references_in_batches(shared_dir):
    """Same-host ToIR: the weights go as a few TensorRefs messages (not one message per
    tensor), each after the tensors it names are in the file and before any progress that
    follows them; receive_ir reassembles every one."""
    from nnrosetta.rpc.converter import ConverterServicer, model_chunks, receive_ir

    shared.root()
    hand = shared_dir / "hand"
    hand.mkdir()
    src = shared_dir / "net.bin"
    src.write_bytes(b"x")
    fake = _ManyWeights()

    class Ctx:
        def abort(self, code, details):
            raise AssertionError(details)

        def is_active(self):
            return True

    servicer = ConverterServicer(fake, ready=None)
    servicer._wait_ready = lambda context: None
    out = list(servicer.ToIR(model_chunks("many", {"network": str(src)}, shared_dir=str(hand),
                                          by_path=True), Ctx()))
    kinds = [c.WhichOneof("payload") for c in out]
    assert "tensor" not in kinds
    batches = [len(c.tensor_refs.tensor) for c in out if c.HasField("tensor_refs")]
    assert batches == [100, 256, 244]   # flushed by the progress message, then by size
    assert kinds.index("progress") == 2   # graph, the first 100, then the progress
    graph, weights, _ = receive_ir(iter(out))
    assert sorted(weights) == sorted(fake.weights)
    for name, arr in fake.weights.items():
        np.testing.assert_array_equal(weights[name], arr)
