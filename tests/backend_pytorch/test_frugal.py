"""frugal.free_dead_locals: the verification runs free each activation after its last use,
without changing what forward computes."""

from __future__ import annotations

import ast
import textwrap

import torch

from nnrosetta_backend_pytorch.frugal import free_dead_locals

SRC = textwrap.dedent('''
    import torch


    class Model(torch.nn.Module):
        def forward(self, data, other):
            a = data * 2
            b = a + 1
            c = torch.flatten(b, 1)
            c = c * other.reshape(1, -1)
            self.seen = a.sum()
            unused = c - 1
            return c, b


    class Branchy(torch.nn.Module):
        def forward(self, x):
            y = x + 1
            if y.sum() > 0:
                y = y * 2
            return y
''')


def _run(tree_or_src):
    ns: dict = {}
    exec(compile(tree_or_src, "<model>", "exec"), ns)  # noqa: S102 - test source
    return ns


def test_dels_follow_last_use_and_outputs_are_identical():
    tree = free_dead_locals(SRC)
    fwd = next(f for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "Model"
               for f in c.body if isinstance(f, ast.FunctionDef))
    lines = [ast.unparse(s) for s in fwd.body]
    assert lines[lines.index("a = data * 2") + 1] == "del data"
    assert "del unused" in lines                        # never read: freed at once
    i_seen = lines.index("self.seen = a.sum()")
    assert lines[i_seen + 1] == "del a"                 # a lives until its last reader
    assert lines.index("c = c * other.reshape(1, -1)") + 1 == lines.index("del other")
    assert lines[-1] == "return (c, b)"                 # outputs are never deleted
    x, o = torch.randn(2, 3, 4), torch.randn(12)
    plain, frugal = _run(SRC)["Model"](), _run(tree)["Model"]()
    for want, got in zip(plain(x, o), frugal(x, o), strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert torch.equal(plain.seen, frugal.seen)


def test_control_flow_runs_as_written():
    tree = free_dead_locals(SRC)
    fwd = next(f for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "Branchy"
               for f in c.body if isinstance(f, ast.FunctionDef))
    assert not any(isinstance(s, ast.Delete) for s in fwd.body)


def test_wrap_keeps_groupings_and_subscripts_single():
    """codegen.wrap breaks long lines inside brackets; a trailing comma there must not turn a
    parenthesised expression into a tuple, or an index into a tuple index."""
    from nnrosetta_backend_pytorch.codegen import wrap

    n = "a_rather_long_variable_name_standing_for_a_tensor_value"
    env = {n: 3, "xs": list(range(20))}
    for text in (f"y = ({n} - {n} * 2) * {n}", f"y = xs[{n} + {n} + {n} - {n} - {n} - 2]"):
        lines = wrap(text, "        ")
        assert len(lines) > 1   # broken inside the brackets (best effort on length)
        got, want = {}, {}
        exec("\n".join(x[8:] for x in lines), dict(env), got)  # noqa: S102 - test code
        exec(text, dict(env), want)  # noqa: S102 - test code
        assert got["y"] == want["y"], lines
    call = wrap(f"y = torch.cat([{n}, {n}, {n}], dim=1)", "        ")
    assert call[-2].endswith(","), call   # calls keep their trailing comma
