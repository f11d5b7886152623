from nnrosetta.proto import ir_pb2 as _ir_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReleaseRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[_Iterable[str]] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ("released",)
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    released: int
    def __init__(self, released: _Optional[int] = ...) -> None: ...

class DescribeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("ok", "issues", "graph")
    OK_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    issues: _containers.RepeatedCompositeFieldContainer[Issue]
    graph: _ir_pb2.GraphDef
    def __init__(self, ok: bool = ..., issues: _Optional[_Iterable[_Union[Issue, _Mapping]]] = ..., graph: _Optional[_Union[_ir_pb2.GraphDef, _Mapping]] = ...) -> None: ...

class Issue(_message.Message):
    __slots__ = ("code", "location", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    location: str
    message: str
    def __init__(self, code: _Optional[str] = ..., location: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class DescribeResponse(_message.Message):
    __slots__ = ("name", "framework", "framework_version", "reads", "writes", "ops_supported", "versions", "runtime", "shared_token")
    class VersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    READS_FIELD_NUMBER: _ClassVar[int]
    WRITES_FIELD_NUMBER: _ClassVar[int]
    OPS_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    SHARED_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    framework: str
    framework_version: str
    reads: _containers.RepeatedScalarFieldContainer[str]
    writes: _containers.RepeatedScalarFieldContainer[str]
    ops_supported: _containers.RepeatedScalarFieldContainer[str]
    versions: _containers.ScalarMap[str, str]
    runtime: str
    shared_token: str
    def __init__(self, name: _Optional[str] = ..., framework: _Optional[str] = ..., framework_version: _Optional[str] = ..., reads: _Optional[_Iterable[str]] = ..., writes: _Optional[_Iterable[str]] = ..., ops_supported: _Optional[_Iterable[str]] = ..., versions: _Optional[_Mapping[str, str]] = ..., runtime: _Optional[str] = ..., shared_token: _Optional[str] = ...) -> None: ...

class ModelChunk(_message.Message):
    __slots__ = ("header", "file", "progress")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    header: ModelHeader
    file: FileChunk
    progress: Progress
    def __init__(self, header: _Optional[_Union[ModelHeader, _Mapping]] = ..., file: _Optional[_Union[FileChunk, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ...) -> None: ...

class ModelHeader(_message.Message):
    __slots__ = ("format", "files", "options", "keep_as", "shared_dir")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    KEEP_AS_FIELD_NUMBER: _ClassVar[int]
    SHARED_DIR_FIELD_NUMBER: _ClassVar[int]
    format: str
    files: _containers.ScalarMap[str, str]
    options: _containers.ScalarMap[str, str]
    keep_as: str
    shared_dir: str
    def __init__(self, format: _Optional[str] = ..., files: _Optional[_Mapping[str, str]] = ..., options: _Optional[_Mapping[str, str]] = ..., keep_as: _Optional[str] = ..., shared_dir: _Optional[str] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("name", "offset", "data", "last", "size", "path")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    name: str
    offset: int
    data: bytes
    last: bool
    size: int
    path: str
    def __init__(self, name: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., last: bool = ..., size: _Optional[int] = ..., path: _Optional[str] = ...) -> None: ...

class IRChunk(_message.Message):
    __slots__ = ("graph", "tensor", "progress", "header", "tensor_refs")
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    TENSOR_REFS_FIELD_NUMBER: _ClassVar[int]
    graph: _ir_pb2.GraphDef
    tensor: TensorChunk
    progress: Progress
    header: ModelHeader
    tensor_refs: TensorRefs
    def __init__(self, graph: _Optional[_Union[_ir_pb2.GraphDef, _Mapping]] = ..., tensor: _Optional[_Union[TensorChunk, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., header: _Optional[_Union[ModelHeader, _Mapping]] = ..., tensor_refs: _Optional[_Union[TensorRefs, _Mapping]] = ...) -> None: ...

class TensorRefs(_message.Message):
    __slots__ = ("tensor",)
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    tensor: _containers.RepeatedCompositeFieldContainer[TensorChunk]
    def __init__(self, tensor: _Optional[_Iterable[_Union[TensorChunk, _Mapping]]] = ...) -> None: ...

class TensorChunk(_message.Message):
    __slots__ = ("name", "dtype", "shape", "offset", "data", "last", "path", "path_offset")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PATH_OFFSET_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: _ir_pb2.DataType
    shape: _containers.RepeatedScalarFieldContainer[int]
    offset: int
    data: bytes
    last: bool
    path: str
    path_offset: int
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[_Union[_ir_pb2.DataType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., last: bool = ..., path: _Optional[str] = ..., path_offset: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("stage", "message", "fraction", "run_options")
    class RunOptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    RUN_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    message: str
    fraction: float
    run_options: _containers.ScalarMap[str, str]
    def __init__(self, stage: _Optional[str] = ..., message: _Optional[str] = ..., fraction: _Optional[float] = ..., run_options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RunChunk(_message.Message):
    __slots__ = ("header", "file", "tensor", "graph")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    header: RunHeader
    file: FileChunk
    tensor: TensorChunk
    graph: _ir_pb2.GraphDef
    def __init__(self, header: _Optional[_Union[RunHeader, _Mapping]] = ..., file: _Optional[_Union[FileChunk, _Mapping]] = ..., tensor: _Optional[_Union[TensorChunk, _Mapping]] = ..., graph: _Optional[_Union[_ir_pb2.GraphDef, _Mapping]] = ...) -> None: ...

class RunHeader(_message.Message):
    __slots__ = ("model", "fetch", "info", "output_names", "use_kept")
    class InfoEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FETCH_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NAMES_FIELD_NUMBER: _ClassVar[int]
    USE_KEPT_FIELD_NUMBER: _ClassVar[int]
    model: ModelHeader
    fetch: _containers.RepeatedScalarFieldContainer[str]
    info: _containers.ScalarMap[str, str]
    output_names: _containers.RepeatedScalarFieldContainer[str]
    use_kept: str
    def __init__(self, model: _Optional[_Union[ModelHeader, _Mapping]] = ..., fetch: _Optional[_Iterable[str]] = ..., info: _Optional[_Mapping[str, str]] = ..., output_names: _Optional[_Iterable[str]] = ..., use_kept: _Optional[str] = ...) -> None: ...
