"""Conversion options every frontend reads the same way."""

from __future__ import annotations


def parse_input_shapes(text: str, bare: bool = False) -> dict[str, tuple[int, ...]]:
    """The ``input_shape`` option: ``"data:1,3,224,224;other:1,10"`` -> {name: shape}. A name
    may itself hold ':' (a TF tensor name, ``"x:0:1,3,224,224"``: the last ':' splits). With
    ``bare``, a single ``"1,3,224,224"`` is accepted under the name "". Raises ValueError."""
    out: dict[str, tuple[int, ...]] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        name, sep, dims = part.rpartition(":")
        if not bare and (not sep or not name.strip()):
            raise ValueError(f"{part!r} is not NAME:D1,D2,...")
        try:
            shape = tuple(int(d) for d in dims.split(",") if d.strip())
        except ValueError as e:
            raise ValueError(f"{part!r}: dims must be integers") from e
        if not shape or min(shape) < 1:
            raise ValueError(f"{part!r}: dims must be positive integers")
        out[name.strip() if sep else ""] = shape
    return out
