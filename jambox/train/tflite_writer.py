"""Write the step model as a .tflite file, translated op by op from the float ONNX graph.

No ONNX-to-TFLite converter fits a CPU training box without TensorFlow (onnx2tf and litert-torch
pull in TensorFlow, JAX or transformers: hundreds of MB), and the graph is tiny and fixed-shape, so
this module writes the FlatBuffer itself with the ``tflite`` package's generated builders
(``tflite.Model.ModelStart`` ...) and ``flatbuffers``. It translates exactly the ops the exporter
emits and refuses anything else, naming it:

==========  ================================================================
ONNX        TFLite
==========  ================================================================
Gemm        FULLY_CONNECTED (weights [out, in]; transB=1, alpha=beta=1)
MatMul      FULLY_CONNECTED with the constant right operand transposed
Slice       SLICE (constant starts/ends/axes, step 1)
Add/Sub/Mul ADD / SUB / MUL (constants become buffers; broadcasting as in ONNX)
Sigmoid     LOGISTIC
Tanh        TANH
Relu        RELU
Constant    a constant tensor (buffer)
Identity    an alias (no op)
==========  ================================================================

All tensors are float32 with static shapes (batch 1); input and output tensors keep the ONNX names,
so :mod:`jambox.generate.model` finds them by name in either backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jambox.errors import TrainingError

# TFLite enum values (tflite.BuiltinOperator, tflite.BuiltinOptions, tflite.TensorType)
_OPS = {"FULLY_CONNECTED": 9, "ADD": 0, "SUB": 41, "MUL": 18, "LOGISTIC": 14, "TANH": 28, "RELU": 19, "SLICE": 65}
_FLOAT32, _INT32 = 0, 2


class _Graph:
    """A flat list of TFLite tensors and operators, built before serialising."""

    def __init__(self):
        self.tensors: list[dict] = []  # {name, shape, type, data (np.ndarray|None)}
        self.ops: list[tuple[str, list[int], list[int]]] = []
        self.by_name: dict[str, int] = {}

    def tensor(self, name: str, shape, dtype=_FLOAT32, data: np.ndarray | None = None) -> int:
        self.tensors.append({"name": name, "shape": [int(s) for s in shape], "type": dtype, "data": data})
        idx = len(self.tensors) - 1
        self.by_name[name] = idx
        return idx

    def const(self, name: str, value: np.ndarray) -> int:
        value = np.ascontiguousarray(value)
        if value.dtype == np.int32:
            return self.tensor(name, value.shape, _INT32, value)
        return self.tensor(name, value.shape, _FLOAT32, value.astype(np.float32))


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def translate(model) -> _Graph:
    """ONNX ModelProto -> _Graph (with shapes inferred by onnx)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.shape_inference.infer_shapes(model)
    g = model.graph
    consts: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    shapes: dict[str, list[int]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    out = _Graph()
    alias: dict[str, str] = {}
    for vi in g.input:
        out.tensor(vi.name, shapes[vi.name])

    def ref(name: str) -> int:
        name = alias.get(name, name)
        if name in out.by_name:
            return out.by_name[name]
        if name in consts:
            return out.const(name, consts[name])
        raise TrainingError(f"TFLite writer: tensor {name!r} is used before it is made")

    def result(name: str) -> int:
        return out.tensor(name, shapes.get(name) or [])

    for node in g.node:
        op, a = node.op_type, _attrs(node)
        if op == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(a["value"])
        elif op == "Identity":
            alias[node.output[0]] = alias.get(node.input[0], node.input[0])
        elif op in ("Gemm", "MatMul"):
            x, w = node.input[0], node.input[1]
            if w not in consts:
                raise TrainingError(f"TFLite writer: {op} {node.name!r} needs constant weights")
            weights = consts[w]
            if op == "Gemm":
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                    raise TrainingError(f"TFLite writer: Gemm {node.name!r} with transA/alpha/beta {a} unsupported")
                if not a.get("transB", 0):
                    weights = weights.T
            else:
                weights = weights.T
            inputs = [ref(x), out.const(f"{node.output[0]}/weights", weights)]
            if op == "Gemm" and len(node.input) > 2 and node.input[2]:
                bias = consts.get(node.input[2])
                if bias is None:
                    raise TrainingError(f"TFLite writer: Gemm {node.name!r} needs a constant bias")
                inputs.append(out.const(f"{node.output[0]}/bias", bias.reshape(-1)))
            else:
                inputs.append(-1)
            out.ops.append(("FULLY_CONNECTED", inputs, [result(node.output[0])]))
        elif op == "Slice":
            data = node.input[0]
            shape = shapes[alias.get(data, data)] if alias.get(data, data) in shapes else shapes.get(data)
            starts, ends = consts[node.input[1]], consts[node.input[2]]
            axes = consts[node.input[3]] if len(node.input) > 3 and node.input[3] else np.arange(len(starts))
            steps = consts[node.input[4]] if len(node.input) > 4 and node.input[4] else np.ones(len(starts))
            if np.any(steps != 1):
                raise TrainingError(f"TFLite writer: Slice {node.name!r} with steps {steps} unsupported")
            begin = np.zeros(len(shape), np.int32)
            size = np.array(shape, np.int32)
            for s, e, ax in zip(starts, ends, axes):
                ax = int(ax) % len(shape)
                dim = shape[ax]
                s = int(np.clip(s + dim if s < 0 else s, 0, dim))
                e = int(np.clip(e + dim if e < 0 else e, 0, dim))
                begin[ax], size[ax] = s, e - s
            out.ops.append(("SLICE", [ref(data), out.const(f"{node.output[0]}/begin", begin),
                                      out.const(f"{node.output[0]}/size", size)], [result(node.output[0])]))
        elif op in ("Add", "Sub", "Mul"):
            out.ops.append((op.upper(), [ref(node.input[0]), ref(node.input[1])], [result(node.output[0])]))
        elif op in ("Sigmoid", "Tanh", "Relu"):
            name = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "Relu": "RELU"}[op]
            out.ops.append((name, [ref(node.input[0])], [result(node.output[0])]))
        else:
            raise TrainingError(f"TFLite writer: ONNX op {op} ({node.name!r}) has no translation; supported: "
                                "Gemm, MatMul, Slice, Add, Sub, Mul, Sigmoid, Tanh, Relu, Constant, Identity")
    out.inputs = [out.by_name[vi.name] for vi in g.input]
    out.outputs = []
    for vi in g.output:  # outputs keep their ONNX names
        idx = ref(vi.name)
        out.tensors[idx]["name"] = vi.name
        out.outputs.append(idx)
    return out


def _int_vector(b, start_fn, values) -> int:
    start_fn(b, len(values))
    for v in reversed(values):
        b.PrependInt32(int(v))
    return b.EndVector()


def _bytes_vector(b, data: bytes) -> int:
    b.StartVector(1, len(data), 16)  # 16-byte aligned, as TFLite wants its buffers
    b.head = b.head - len(data)
    b.Bytes[b.head : b.head + len(data)] = data
    return b.EndVector()


def serialise(graph: _Graph, description: str = "jambox step model") -> bytes:
    import flatbuffers
    import tflite

    b = flatbuffers.Builder(1 << 20)
    # buffers: 0 is the empty sentinel; each constant tensor gets its own
    buffer_offsets = []
    tensor_buffer = []
    datas = [b""]
    for t in graph.tensors:
        if t["data"] is None:
            tensor_buffer.append(0)
        else:
            tensor_buffer.append(len(datas))
            datas.append(np.ascontiguousarray(t["data"]).astype("<f4" if t["type"] == _FLOAT32 else "<i4").tobytes())
    for data in datas:
        vec = _bytes_vector(b, data) if data else None
        tflite.BufferStart(b)
        if vec is not None:
            tflite.BufferAddData(b, vec)
        buffer_offsets.append(tflite.BufferEnd(b))

    tensor_offsets = []
    for t, buf in zip(graph.tensors, tensor_buffer):
        name = b.CreateString(t["name"])
        shape = _int_vector(b, tflite.TensorStartShapeVector, t["shape"])
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, t["type"])
        tflite.TensorAddBuffer(b, buf)
        tflite.TensorAddName(b, name)
        tensor_offsets.append(tflite.TensorEnd(b))

    codes = sorted({op for op, _, _ in graph.ops}, key=list(_OPS).index)
    code_offsets = []
    for name in codes:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(_OPS[name], 127))
        tflite.OperatorCodeAddBuiltinCode(b, _OPS[name])
        tflite.OperatorCodeAddVersion(b, 1)
        code_offsets.append(tflite.OperatorCodeEnd(b))

    op_offsets = []
    for name, ins, outs in graph.ops:
        options, options_type = _options(b, tflite, name)
        iv = _int_vector(b, tflite.OperatorStartInputsVector, ins)
        ov = _int_vector(b, tflite.OperatorStartOutputsVector, outs)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, codes.index(name))
        tflite.OperatorAddInputs(b, iv)
        tflite.OperatorAddOutputs(b, ov)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, options_type)
            tflite.OperatorAddBuiltinOptions(b, options)
        op_offsets.append(tflite.OperatorEnd(b))

    def table_vector(start_fn, offsets):
        start_fn(b, len(offsets))
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    tensors_v = table_vector(tflite.SubGraphStartTensorsVector, tensor_offsets)
    ops_v = table_vector(tflite.SubGraphStartOperatorsVector, op_offsets)
    in_v = _int_vector(b, tflite.SubGraphStartInputsVector, graph.inputs)
    out_v = _int_vector(b, tflite.SubGraphStartOutputsVector, graph.outputs)
    sg_name = b.CreateString("main")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_v)
    tflite.SubGraphAddInputs(b, in_v)
    tflite.SubGraphAddOutputs(b, out_v)
    tflite.SubGraphAddOperators(b, ops_v)
    tflite.SubGraphAddName(b, sg_name)
    subgraph = tflite.SubGraphEnd(b)

    subgraphs_v = table_vector(tflite.ModelStartSubgraphsVector, [subgraph])
    codes_v = table_vector(tflite.ModelStartOperatorCodesVector, code_offsets)
    buffers_v = table_vector(tflite.ModelStartBuffersVector, buffer_offsets)
    desc = b.CreateString(description)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_v)
    tflite.ModelAddSubgraphs(b, subgraphs_v)
    tflite.ModelAddDescription(b, desc)
    tflite.ModelAddBuffers(b, buffers_v)
    model = tflite.ModelEnd(b)
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def _options(b, tflite, name: str):
    """(options offset, BuiltinOptions type) for an op, or (None, 0)."""
    if name == "FULLY_CONNECTED":
        tflite.FullyConnectedOptionsStart(b)
        tflite.FullyConnectedOptionsAddFusedActivationFunction(b, 0)
        return tflite.FullyConnectedOptionsEnd(b), tflite.BuiltinOptions.FullyConnectedOptions
    if name == "ADD":
        tflite.AddOptionsStart(b)
        return tflite.AddOptionsEnd(b), tflite.BuiltinOptions.AddOptions
    if name == "SUB":
        tflite.SubOptionsStart(b)
        return tflite.SubOptionsEnd(b), tflite.BuiltinOptions.SubOptions
    if name == "MUL":
        tflite.MulOptionsStart(b)
        return tflite.MulOptionsEnd(b), tflite.BuiltinOptions.MulOptions
    if name == "SLICE":
        tflite.SliceOptionsStart(b)
        return tflite.SliceOptionsEnd(b), tflite.BuiltinOptions.SliceOptions
    return None, 0


def onnx_to_tflite(onnx_path: Path, tflite_path: Path) -> Path:
    """Translate a float ONNX step model into ``tflite_path`` (written atomically)."""
    import onnx

    try:
        model = onnx.load(str(onnx_path))
    except Exception as e:
        raise TrainingError(f"cannot read ONNX model {onnx_path}: {e}") from None
    data = serialise(translate(model))
    tmp = Path(tflite_path).with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(tflite_path)
    return Path(tflite_path)
