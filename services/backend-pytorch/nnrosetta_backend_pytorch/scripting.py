"""``torch.jit.script`` for generated models, without redoing per instance what depends only
on the class.

To script a module, torch builds, for every submodule *instance*, the stubs of the methods to
compile: it walks the instance's attributes (``dir``) for exported and overloaded methods and
re-reads the source of ``forward`` (``inspect``, ``tokenize``, ``ast``). The compiled types
are shared (modules of one class with the same constants compile once), but that
per-instance work is not: on MobileNetV2 (141 submodules of four classes) it is about 60 % of
the 0.28 s a script takes here, and the TorchScript compile is the tail of a conversion's
critical path.

For torch's own module classes (``torch.nn.modules.*``), whose methods to compile are fixed by
the class, :func:`script` builds the stubs once per class and gives every instance the same
ones; the generated ``Model`` (and any other class) goes through torch's own rules. The result
is the ScriptModule ``torch.jit.script`` makes: the same code and types, which the tests
compare. Where torch's private entry points (``torch.jit._recursive.create_script_module``,
``infer_methods_to_compile``) are missing, or this path fails, it is ``torch.jit.script``
(and when both fail, the first error is raised: it names what cannot be compiled).
"""

from __future__ import annotations

from typing import Any

TORCH_MODULES = "torch.nn.modules."


def _per_class(infer) -> Any:
    """A stubs function for torch's ``create_script_module``: torch's rule
    (``infer_methods_to_compile``), computed once per torch module class."""
    cache: dict[type, tuple[list, dict]] = {}

    def stubs(module) -> list:
        cls = type(module)
        own = vars(module)
        if (not cls.__module__.startswith(TORCH_MODULES) or "forward" in own
                or "__jit_ignored_attributes__" in own):
            return infer(module)
        hit = cache.get(cls)
        if hit is None:
            found = infer(module)
            hit = cache[cls] = (found, dict(getattr(module, "__overloads__", {})))
        module.__overloads__ = dict(hit[1])   # as torch's rule leaves it on each instance
        return hit[0]

    return stubs


def script(model) -> Any:
    """``torch.jit.script(model)`` for an ``nn.Module``, faster on models with many torch
    modules (see the module's doc)."""
    import torch

    try:
        from torch.jit import _recursive
        from torch.jit._script import call_prepare_scriptable_func

        create = _recursive.create_script_module
        infer = _recursive.infer_methods_to_compile
    except (ImportError, AttributeError):   # another torch: its own way
        return torch.jit.script(model)
    try:
        return create(call_prepare_scriptable_func(model), _per_class(infer))
    except Exception as first:  # noqa: BLE001 - torch's own way decides what fails
        try:
            return torch.jit.script(model)
        except Exception:  # noqa: BLE001 - the first error names the problem: the retry
            raise first from None   # meets the half-compiled class ("Can't redefine method")
