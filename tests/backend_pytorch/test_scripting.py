"""scripting.script: the ScriptModule torch.jit.script makes (same code, same outputs), with
the method stubs of torch's module classes built once per class."""

from __future__ import annotations

import io
import re
import tempfile

import numpy as np
import pytest
import torch
from torch import nn
from torch.jit import _recursive

from nnrosetta_backend_pytorch import scripting
from nnrosetta_backend_pytorch.service import build_model, state_tensors, write_code

from ._cases import CASES, feeds

GENERATED = r"generated_[0-9a-f]+"


class Block(nn.Module):
    """A class of our own: torch's rules, every instance."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x))) + x


class Zoo(nn.Module):
    """Many instances of torch's classes, with different constants, and the overloaded
    forward of the recurrent layers."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.blocks = nn.Sequential(Block(8), Block(8), nn.Conv2d(8, 8, 1), nn.ReLU6())
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=0, dilation=1, bias=False)
        self.bn = nn.BatchNorm2d(16, eps=1e-3, momentum=0.01)
        self.act = nn.ReLU6()
        self.lstm = nn.LSTM(16, 12, batch_first=True)
        self.lstm2 = nn.LSTM(12, 6, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(12, 5, batch_first=True)
        self.attn = nn.MultiheadAttention(12, 3, batch_first=True)
        self.norm = nn.LayerNorm(12)
        self.fc = nn.Linear(12 + 5, 4)
        self.fc2 = nn.Linear(4, 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.bn(self.down(self.blocks(self.stem(x)))))
        seq = torch.flatten(y, 2).transpose(1, 2)
        s, _ = self.lstm(seq)
        s2, _ = self.lstm2(s)
        g, _ = self.gru(s)
        a, _ = self.attn(s, s, s)
        a = self.norm(a + s2.sum() + s)
        return self.fc2(self.fc(torch.cat([a, g], dim=2)).mean(dim=1))


def codes(m) -> dict[str, str]:
    """Every submodule's TorchScript code, by name (but for the name each import of model.py
    gets)."""
    return {n: re.sub(GENERATED, "", sub.code) for n, sub in m.named_modules()
            if sub._c._has_method("forward")}


def same(a, b, *args) -> None:
    assert codes(a) == codes(b)
    assert re.sub(GENERATED, "", str(a.graph)) == re.sub(GENERATED, "", str(b.graph))
    with torch.no_grad():
        x, y = a(*args), b(*args)
    xs, ys = (list(v) if isinstance(v, (tuple, list)) else [v] for v in (x, y))
    assert len(xs) == len(ys) and all(torch.equal(p, q) for p, q in zip(xs, ys, strict=True))


def fresh_zoo() -> Zoo:
    torch.manual_seed(0)
    return Zoo().eval()


def test_zoo_scripts_as_torch_does():
    x = torch.randn(2, 3, 16, 16)
    fast = scripting.script(fresh_zoo())
    ref = torch.jit.script(fresh_zoo())
    assert isinstance(fast, torch.jit.RecursiveScriptModule)
    same(fast, ref, x)
    with torch.no_grad():
        eager = fresh_zoo()(x)
    assert torch.equal(fast(x), eager)
    buf = io.BytesIO()   # and it saves and loads like any ScriptModule
    torch.jit.save(fast, buf)
    buf.seek(0)
    assert torch.equal(torch.jit.load(buf)(x), eager)


def test_stubs_built_once_per_torch_class(monkeypatch):
    """Stubs come from torch's rule once per torch class; our own classes each time. Fails if
    the per-class sharing (the point of the module) is gone."""
    seen: list[str] = []
    real = _recursive.infer_methods_to_compile

    def counting(module):
        seen.append(type(module).__name__)
        return real(module)

    monkeypatch.setattr(_recursive, "infer_methods_to_compile", counting)
    scripting.script(fresh_zoo())
    for cls in ("Conv2d", "BatchNorm2d", "ReLU6", "LSTM", "Linear", "Sequential"):
        assert seen.count(cls) == 1, (cls, seen)
    assert seen.count("Block") == 2 and seen.count("Zoo") == 1


def test_instance_with_its_own_forward_uses_torchs_rule(monkeypatch):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.ReLU()
            self.b = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(self.a(x))

    m = Twice()
    m.b.__jit_ignored_attributes__ = []   # set on the instance: not shared
    seen: list[int] = []
    real = _recursive.infer_methods_to_compile
    monkeypatch.setattr(_recursive, "infer_methods_to_compile",
                        lambda mod: seen.append(id(mod)) or real(mod))
    scripting.script(m)
    assert id(m.a) in seen and id(m.b) in seen


def test_falls_back_to_torch_jit_script(monkeypatch):
    real_create = _recursive.create_script_module
    boom_once = []

    def boom(*a, **k):   # our call fails (a changed private API); torch's own then works
        if not boom_once:
            boom_once.append(1)
            raise RuntimeError("private API changed")
        return real_create(*a, **k)

    monkeypatch.setattr(_recursive, "create_script_module", boom)
    calls = []
    real = torch.jit.script
    monkeypatch.setattr(torch.jit, "script", lambda m: calls.append(m) or real(m))
    x = torch.randn(1, 3, 16, 16)
    out = scripting.script(fresh_zoo())
    assert len(calls) == 1 and boom_once
    with torch.no_grad():
        assert torch.equal(out(x), fresh_zoo()(x))


def test_unscriptable_model_raises_what_is_wrong():
    class Bad(nn.Module):
        def forward(self, x):
            return x.numpy()   # not TorchScript

    with pytest.raises(RuntimeError, match="numpy"):
        scripting.script(Bad())


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_models_script_as_torch_does(name):
    """Every backend test case's generated model.py: the same ScriptModule either way."""
    from nnrosetta_backend_pytorch import codegen

    g, w = CASES[name]()
    gen = codegen.generate(g, w, ())
    with tempfile.TemporaryDirectory() as d:
        path = write_code(gen, d)
        state = state_tensors(gen.state)
        _, m1 = build_model(path, state)
        _, m2 = build_model(path, state)
        fast, ref = scripting.script(m1), torch.jit.script(m2)
    args = [torch.from_numpy(np.asarray(v)) for v in feeds(g).values()]
    same(fast, ref, *args)
