from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConvertRequest(_message.Message):
    __slots__ = ("source_format", "source", "target_format", "destination", "options", "verify", "constraints", "overwrite")
    class SourceEntry(_message.Message):
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
    class ConstraintsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SOURCE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FORMAT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    VERIFY_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    source_format: str
    source: _containers.ScalarMap[str, str]
    target_format: str
    destination: str
    options: _containers.ScalarMap[str, str]
    verify: VerifyOptions
    constraints: _containers.ScalarMap[str, str]
    overwrite: bool
    def __init__(self, source_format: _Optional[str] = ..., source: _Optional[_Mapping[str, str]] = ..., target_format: _Optional[str] = ..., destination: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., verify: _Optional[_Union[VerifyOptions, _Mapping]] = ..., constraints: _Optional[_Mapping[str, str]] = ..., overwrite: bool = ...) -> None: ...

class VerifyOptions(_message.Message):
    __slots__ = ("skip", "tolerance", "seed", "locate_divergence", "disable_locate")
    SKIP_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LOCATE_DIVERGENCE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_LOCATE_FIELD_NUMBER: _ClassVar[int]
    skip: bool
    tolerance: float
    seed: int
    locate_divergence: bool
    disable_locate: bool
    def __init__(self, skip: bool = ..., tolerance: _Optional[float] = ..., seed: _Optional[int] = ..., locate_divergence: bool = ..., disable_locate: bool = ...) -> None: ...

class Hop(_message.Message):
    __slots__ = ("service", "address", "action", "from_format", "to_format", "framework_version")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FROM_FORMAT_FIELD_NUMBER: _ClassVar[int]
    TO_FORMAT_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    service: str
    address: str
    action: str
    from_format: str
    to_format: str
    framework_version: str
    def __init__(self, service: _Optional[str] = ..., address: _Optional[str] = ..., action: _Optional[str] = ..., from_format: _Optional[str] = ..., to_format: _Optional[str] = ..., framework_version: _Optional[str] = ...) -> None: ...

class ConversionPlan(_message.Message):
    __slots__ = ("hop", "verify_with")
    HOP_FIELD_NUMBER: _ClassVar[int]
    VERIFY_WITH_FIELD_NUMBER: _ClassVar[int]
    hop: _containers.RepeatedCompositeFieldContainer[Hop]
    verify_with: str
    def __init__(self, hop: _Optional[_Iterable[_Union[Hop, _Mapping]]] = ..., verify_with: _Optional[str] = ...) -> None: ...

class ConvertEvent(_message.Message):
    __slots__ = ("plan", "progress", "result")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    plan: ConversionPlan
    progress: Stage
    result: Result
    def __init__(self, plan: _Optional[_Union[ConversionPlan, _Mapping]] = ..., progress: _Optional[_Union[Stage, _Mapping]] = ..., result: _Optional[_Union[Result, _Mapping]] = ...) -> None: ...

class Stage(_message.Message):
    __slots__ = ("stage", "message", "fraction", "hop", "elapsed_s")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    HOP_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    stage: str
    message: str
    fraction: float
    hop: int
    elapsed_s: float
    def __init__(self, stage: _Optional[str] = ..., message: _Optional[str] = ..., fraction: _Optional[float] = ..., hop: _Optional[int] = ..., elapsed_s: _Optional[float] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("outputs", "report_json", "verified")
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    REPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    report_json: str
    verified: bool
    def __init__(self, outputs: _Optional[_Iterable[str]] = ..., report_json: _Optional[str] = ..., verified: bool = ...) -> None: ...

class ListConvertersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Converter(_message.Message):
    __slots__ = ("address", "name", "framework", "framework_version", "reads", "writes", "serving", "versions")
    class VersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    READS_FIELD_NUMBER: _ClassVar[int]
    WRITES_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    address: str
    name: str
    framework: str
    framework_version: str
    reads: _containers.RepeatedScalarFieldContainer[str]
    writes: _containers.RepeatedScalarFieldContainer[str]
    serving: bool
    versions: _containers.ScalarMap[str, str]
    def __init__(self, address: _Optional[str] = ..., name: _Optional[str] = ..., framework: _Optional[str] = ..., framework_version: _Optional[str] = ..., reads: _Optional[_Iterable[str]] = ..., writes: _Optional[_Iterable[str]] = ..., serving: bool = ..., versions: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListConvertersResponse(_message.Message):
    __slots__ = ("converter",)
    CONVERTER_FIELD_NUMBER: _ClassVar[int]
    converter: _containers.RepeatedCompositeFieldContainer[Converter]
    def __init__(self, converter: _Optional[_Iterable[_Union[Converter, _Mapping]]] = ...) -> None: ...
