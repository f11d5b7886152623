"""Routing by the framework version that saved the file: what nnrosetta.sniff reads from a
file's metadata (never loading it), and how the planner picks the fitting TensorFlow
frontend (or the one the user asks for)."""

from __future__ import annotations

import json
import zipfile

import h5py
import numpy as np
import pytest

from nnrosetta import sniff
from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta.rpc.converter import Model, file_names, folder_of
from nnrosetta.rpc.errors import ConversionError
from nnrosetta_gateway import planner
from nnrosetta_gateway.pool import ServiceEntry
from nnrosetta_gateway.storage import Location, Storage


def svc(name, framework, version, reads, writes, **versions):
    return name, ServiceEntry(name, cpb.DescribeResponse(
        name=name, framework=framework, framework_version=version, reads=reads, writes=writes,
        versions=versions))


SERVICES = dict([
    svc("frontend-tf", "tensorflow", "2.21.0", ["keras", "tensorflow"], ["ir"],
        keras="3.15.1", tensorflow="2.21.0"),
    svc("frontend-tf-legacy", "tensorflow", "2.15.1", ["keras", "tensorflow"], ["ir"],
        keras="2.15.0", tensorflow="2.15.1"),
    svc("backend-pytorch", "pytorch", "2.13.0", ["ir"], ["pytorch"], torch="2.13.0"),
    svc("backend-tf", "tensorflow", "2.21.0", ["ir"], ["keras", "tensorflow"], keras="3.15.1"),
])


def first(steps):
    return steps[0].service


def test_file_version_routes_to_the_fitting_frontend():
    assert first(planner.plan(SERVICES, "keras", "pytorch", None, {"keras": "2.15.0"})) \
        == "frontend-tf-legacy"
    assert first(planner.plan(SERVICES, "keras", "pytorch", None, {"keras": "3.4.1"})) \
        == "frontend-tf"
    # nothing known: the newest framework
    assert first(planner.plan(SERVICES, "keras", "pytorch")) == "frontend-tf"
    # a version no service runs: the usual choice (it may still read the file)
    assert first(planner.plan(SERVICES, "keras", "pytorch", None, {"keras": "1.2"})) \
        == "frontend-tf"
    # only the first hop is routed: the round trip still ends on backend-tf (Keras 3)
    steps = planner.plan(SERVICES, "keras", "keras", None, {"keras": "2.15.0"})
    assert [s.service for s in steps] == ["frontend-tf-legacy", "backend-tf"]


def test_user_constraint_on_a_versions_key():
    assert first(planner.plan(SERVICES, "keras", "pytorch", {"keras": "<3"})) \
        == "frontend-tf-legacy"
    assert first(planner.plan(SERVICES, "tensorflow", "pytorch", {"tensorflow": "==2.15"})) \
        == "frontend-tf-legacy"
    # an explicit constraint wins over the file's version
    assert first(planner.plan(SERVICES, "keras", "pytorch", {"keras": ">=3"},
                              {"keras": "2.15.0"})) == "frontend-tf"
    with pytest.raises(ConversionError) as e:
        planner.plan(SERVICES, "keras", "pytorch", {"keras": ">=4"})
    assert "keras" in str(e.value.issues)


def test_sniff_keras_zip(tmp_path):
    p = tmp_path / "m.keras"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        z.writestr("config.json", "{}")
    assert sniff.saved_by({"network": str(p)}) == {"keras": "3.15.1"}


def test_sniff_h5_attrs(tmp_path):
    p = tmp_path / "m.h5"
    with h5py.File(p, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.create_dataset("w", data=np.zeros(3))
    # only versions: every key must match a service's versions map to route
    assert sniff.saved_by({"network": str(p)}) == {"keras": "2.15.0"}


def test_sniff_keras2_savedmodel_folder(tmp_path):
    d = tmp_path / "sm"
    (d / "variables").mkdir(parents=True)
    (d / "saved_model.pb").write_bytes(b"\x08\x01")
    (d / "keras_metadata.pb").write_bytes(b'\n\x05junk {"class_name": "Functional", '
                                          b'"keras_version": "2.15.0", "backend": "tf"}')
    assert sniff.saved_by({"network": str(d)}) == {"keras": "2.15.0"}
    roles = {"network/saved_model.pb": str(d / "saved_model.pb"),
             "network/keras_metadata.pb": str(d / "keras_metadata.pb")}
    assert sniff.saved_by(roles) == {"keras": "2.15.0"}
    # a plain TF SavedModel says nothing: routed as usual
    (d / "keras_metadata.pb").unlink()
    assert sniff.saved_by({"network": str(d)}) == {}


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04broken zip",
                                     sniff.HDF5_MAGIC + b"truncated"])
def test_sniff_garbage_says_nothing(tmp_path, content):
    p = tmp_path / "x.bin"
    p.write_bytes(content)
    assert sniff.saved_by({"network": str(p)}) == {}


def test_folder_roles_round_trip(tmp_path):
    """A SavedModel folder travels as one role per file (network/<relative path>) and is laid
    out again on the service's side; a path escaping the folder is refused."""
    src = tmp_path / "sm"
    (src / "variables").mkdir(parents=True)
    (src / "saved_model.pb").write_bytes(b"pb")
    (src / "variables" / "variables.index").write_bytes(b"ix")
    (src / "assets").mkdir()
    (src / "assets" / "saved_model.pb").write_bytes(b"same base name")
    files = Storage().fetch_folder(Location("file", "", str(src)), tmp_path / "dl", "source")
    assert sorted(files) == ["assets/saved_model.pb", "saved_model.pb",
                             "variables/variables.index"]
    roles = {f"network/{rel}": str(p) for rel, p in files.items()}
    names = file_names(roles)
    assert len(set(names.values())) == 3      # distinct names on the wire
    work = tmp_path / "work"
    work.mkdir()
    m = Model(format="tensorflow", files=roles, workdir=str(work))
    out = folder_of(m)
    assert (work / "network.d" / "variables" / "variables.index").read_bytes() == b"ix"
    assert out == str(work / "network.d")
    assert folder_of(Model(format="tensorflow", files={"network": str(src)})) == str(src)
    bad = Model(format="tensorflow", files={"network/../../etc/x": str(src / "saved_model.pb")},
                workdir=str(work))
    with pytest.raises(ConversionError) as e:
        folder_of(bad)
    assert e.value.issues[0].code == "BAD_PATH"


def test_folder_artifacts_cross_the_wire_and_publish(tmp_path):
    """A backend's SavedModel is a folder: its files travel as relative names, land in the
    staging folder as a tree, and are published as one."""
    from nnrosetta import wire
    from nnrosetta.proto import converter_pb2 as pb
    from nnrosetta_gateway.pipeline import staged_files

    src = tmp_path / "out"
    (src / "saved_model" / "variables").mkdir(parents=True)
    (src / "model.py").write_text("x = 1\n")
    (src / "saved_model" / "saved_model.pb").write_bytes(b"pb" * 1000)
    (src / "saved_model" / "variables" / "variables.index").write_bytes(b"ix")
    staging = tmp_path / "staging"
    staging.mkdir()
    asm = wire.FileAssembler(folder=str(staging))
    for rel in ["model.py", "saved_model/saved_model.pb", "saved_model/variables/variables.index"]:
        for c in wire.path_chunks(rel, str(src / rel), into=(pb.ModelChunk, "file")):
            asm.add(c.file)
    names = staged_files(staging)
    assert names == ["model.py", "saved_model/saved_model.pb",
                     "saved_model/variables/variables.index"]
    dest = tmp_path / "dest"
    written = Storage().publish(staging, Location("file", "", str(dest)), names)
    assert len(written) == 3
    assert (dest / "saved_model" / "variables" / "variables.index").read_bytes() == b"ix"
    for bad in ["../x", "/etc/passwd", "a/../../b", "a//b", "a\\b", ""]:
        with pytest.raises(wire.ChunkError):
            asm.add(pb.FileChunk(name=bad, offset=0, data=b"x", last=True))
