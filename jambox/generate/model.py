"""Load the step model and step it: onnxruntime (the int8 model) or tflite-runtime, one API.

The model file holds the drum net and the harmony net (see :mod:`jambox.generate.features`); their
recurrent state is passed explicitly through the graph, and :class:`StepModel` carries it between
calls so that the caller only gives the step's inputs. Every array the step touches is allocated
once, in the constructor: the outputs returned by :meth:`StepModel.step` are views that stay valid
until the next call (copy them to keep them).

Where the model lives: ``path`` when given; otherwise ``$JAMBOX_MODELS``, then ``models/`` beside the
``jambox`` package (a source checkout), then ``<sys.prefix>/share/jambox/models`` (an installed box).
A missing, corrupt or mismatched file raises :class:`jambox.errors.ModelError` naming the path and
what was expected. Nothing pretends to be the model when it cannot be loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from jambox.errors import ModelError, ValueRangeError
from jambox.generate import features as F

BACKENDS = ("onnx", "tflite")
SHIPPED = {"onnx": "jambox-int8.onnx", "tflite": "jambox.tflite"}
OUTPUT_WIDTHS = {
    "drum_hit_logits": F.N_DRUMS,
    "drum_velocity": F.N_DRUMS,
    "drum_offset": F.N_DRUMS,
    "chord_logits": F.N_CHORDS,
    "voicing_logits": F.N_VOICINGS,
    "keys_hit_logit": 1,
    "keys_velocity": 1,
}


def model_dirs() -> list[Path]:
    """Where the shipped models are looked for, in order."""
    dirs = []
    env = os.environ.get("JAMBOX_MODELS")
    if env:
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parents[2] / "models")
    dirs.append(Path(sys.prefix) / "share" / "jambox" / "models")
    return dirs


def default_model_path(backend: str = "onnx") -> Path:
    """The shipped model for ``backend`` (the first place that has it; the first place if none)."""
    _check_backend(backend)
    dirs = model_dirs()
    for d in dirs:
        if (d / SHIPPED[backend]).is_file():
            return d / SHIPPED[backend]
    return dirs[0] / SHIPPED[backend]


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        from jambox.errors import did_you_mean

        raise ValueRangeError(f"model backend must be one of {', '.join(BACKENDS)}, not {backend!r}"
                              f"{did_you_mean(backend, BACKENDS)}")


class StepOutputs:
    """One step's answer: views into the model's output buffers, valid until the next step.

    The same object is returned by every step (nothing is allocated per step): copy what must be kept.
    """

    __slots__ = ("drum_hit_logits", "drum_velocity", "drum_offset", "chord_logits", "voicing_logits",
                 "_keys_hit", "_keys_velocity")

    def __init__(self, drum_hit_logits, drum_velocity, drum_offset, chord_logits, voicing_logits, keys_hit_logit,
                 keys_velocity):
        self.drum_hit_logits = drum_hit_logits  # [9] Bernoulli logits
        self.drum_velocity = drum_velocity  # [9], 0..1
        self.drum_offset = drum_offset  # [9], steps, -0.5..0.5
        self.chord_logits = chord_logits  # [N_CHORDS] categorical logits
        self.voicing_logits = voicing_logits  # [N_VOICINGS] categorical logits
        self._keys_hit = np.asarray(keys_hit_logit, dtype=np.float32).reshape(-1)  # a float or a [1] buffer
        self._keys_velocity = np.asarray(keys_velocity, dtype=np.float32).reshape(-1)

    @classmethod
    def of(cls, out: dict[str, np.ndarray]) -> StepOutputs:
        """Views of a runner's output buffers (made once; they follow every step)."""
        return cls(*(out[name].reshape(-1) for name in F.OUTPUT_NAMES[:-2]))

    @property
    def keys_hit_logit(self) -> float:
        return float(self._keys_hit[0])

    @property
    def keys_velocity(self) -> float:
        return float(self._keys_velocity[0])


class StepModel:
    """The two step nets behind one ``step`` call, with their recurrent state carried inside.

    Single-threaded (the logic thread owns it). ``drum_x``/``harm_x`` are float32 arrays of
    DRUM_IN / HARM_IN values (any shape with that many elements, e.g. the [1, N] rows that
    :func:`features.encode_drum_step` fills).
    """

    def __init__(self, runner, path: Path, backend: str):
        self._run = runner
        self.path = path
        self.backend = backend
        self.drum_h = runner.drum_h
        self.harm_h = runner.harm_h
        self._state_d = np.zeros((1, self.drum_h), dtype=np.float32)
        self._state_h = np.zeros((1, self.harm_h), dtype=np.float32)
        self._outputs = StepOutputs.of(runner.outputs)
        self.steps = 0

    # -- state -----------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._state_d[...] = 0.0
        self._state_h[...] = 0.0

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """A copy of (drum state, harmony state)."""
        return self._state_d.copy(), self._state_h.copy()

    def set_state(self, state: tuple[np.ndarray, np.ndarray]) -> None:
        d, h = state
        d = np.asarray(d, dtype=np.float32).reshape(1, -1)
        h = np.asarray(h, dtype=np.float32).reshape(1, -1)
        if d.shape[1] != self.drum_h or h.shape[1] != self.harm_h:
            raise ValueRangeError(f"state must be ([1,{self.drum_h}], [1,{self.harm_h}]), "
                                  f"not ({list(d.shape)}, {list(h.shape)})")
        self._state_d[...] = d
        self._state_h[...] = h

    # -- stepping --------------------------------------------------------------------------
    def step(self, drum_x: np.ndarray, harm_x: np.ndarray) -> StepOutputs:
        if drum_x.size != F.DRUM_IN or harm_x.size != F.HARM_IN:
            raise ValueRangeError(f"step inputs must have {F.DRUM_IN} and {F.HARM_IN} values, "
                                  f"not {drum_x.size} and {harm_x.size}")
        if not (np.isfinite(drum_x).all() and np.isfinite(harm_x).all()):
            # one NaN would poison the recurrent state for good: refuse it here, where it is still traceable
            bad_d = np.nonzero(~np.isfinite(drum_x.reshape(-1)))[0].tolist()
            bad_h = np.nonzero(~np.isfinite(harm_x.reshape(-1)))[0].tolist()
            raise ValueRangeError(f"step inputs must be finite; not at drum_x columns {bad_d[:8]}, "
                                  f"harm_x columns {bad_h[:8]} (see features.D_* / H_*)")
        out = self._run.run(drum_x, harm_x, self._state_d, self._state_h)
        self._state_d[...] = out["drum_h_out"]
        self._state_h[...] = out["harm_h_out"]
        self.steps += 1
        return self._outputs


class _OnnxRunner:
    """onnxruntime session, one thread, outputs bound to preallocated arrays via IOBinding."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for corrupt files
            raise ModelError(f"model file {path} is not a loadable ONNX model ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:200]}); expected the jambox step model") from None
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        _check_io(path, inputs, outputs)
        self.drum_h = int(inputs["drum_h"][-1])
        self.harm_h = int(inputs["harm_h"][-1])
        self._in = {
            "drum_x": np.zeros((1, F.DRUM_IN), dtype=np.float32),
            "harm_x": np.zeros((1, F.HARM_IN), dtype=np.float32),
            "drum_h": np.zeros((1, self.drum_h), dtype=np.float32),
            "harm_h": np.zeros((1, self.harm_h), dtype=np.float32),
        }
        widths = dict(OUTPUT_WIDTHS, drum_h_out=self.drum_h, harm_h_out=self.harm_h)
        self._out = {name: np.zeros((1, w), dtype=np.float32) for name, w in widths.items()}
        self.outputs = self._out
        self._binding = self.session.io_binding()
        for name, arr in self._in.items():
            self._binding.bind_cpu_input(name, arr)
        for name, arr in self._out.items():
            self._binding.bind_output(name, "cpu", 0, np.float32, list(arr.shape), arr.ctypes.data)

    def run(self, drum_x, harm_x, drum_h, harm_h) -> dict[str, np.ndarray]:
        self._in["drum_x"].reshape(-1)[:] = drum_x.reshape(-1)
        self._in["harm_x"].reshape(-1)[:] = harm_x.reshape(-1)
        self._in["drum_h"][...] = drum_h
        self._in["harm_h"][...] = harm_h
        self.session.run_with_iobinding(self._binding)
        return self._out


class _TfliteRunner:
    """tflite-runtime interpreter, one thread; the same inputs and outputs by name."""

    def __init__(self, path: Path):
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError as e:
            raise ModelError(f"the tflite backend needs tflite-runtime (pip install 'jambox[tflite]'): {e}") from None
        try:
            self.interp = Interpreter(model_path=str(path), num_threads=1)
            self.interp.allocate_tensors()
        except Exception as e:
            raise ModelError(f"model file {path} is not a loadable TFLite model ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:200] if str(e) else ''}); expected the jambox step model") from None
        ins = {d["name"]: d for d in self.interp.get_input_details()}
        outs = {d["name"]: d for d in self.interp.get_output_details()}
        _check_io(path, {k: list(v["shape"]) for k, v in ins.items()}, {k: list(v["shape"]) for k, v in outs.items()})
        self.drum_h = int(ins["drum_h"]["shape"][-1])
        self.harm_h = int(ins["harm_h"]["shape"][-1])
        self._in_idx = {k: v["index"] for k, v in ins.items()}
        self._out_idx = {k: v["index"] for k, v in outs.items()}
        self._out = {name: np.zeros(list(outs[name]["shape"]), dtype=np.float32) for name in F.OUTPUT_NAMES}
        self.outputs = self._out

    def run(self, drum_x, harm_x, drum_h, harm_h) -> dict[str, np.ndarray]:
        it = self.interp
        it.set_tensor(self._in_idx["drum_x"], drum_x.reshape(1, -1))
        it.set_tensor(self._in_idx["harm_x"], harm_x.reshape(1, -1))
        it.set_tensor(self._in_idx["drum_h"], drum_h)
        it.set_tensor(self._in_idx["harm_h"], harm_h)
        it.invoke()
        for name, idx in self._out_idx.items():
            self._out[name][...] = it.get_tensor(idx)
        return self._out


def _check_io(path: Path, inputs: dict, outputs: dict) -> None:
    want_in = {"drum_x": F.DRUM_IN, "harm_x": F.HARM_IN, "drum_h": None, "harm_h": None}
    problems = []
    for name, width in want_in.items():
        if name not in inputs:
            problems.append(f"input {name!r} missing")
        elif width is not None and int(inputs[name][-1]) != width:
            problems.append(f"input {name!r} has width {inputs[name][-1]}, expected {width}")
    for name, width in OUTPUT_WIDTHS.items():
        if name not in outputs:
            problems.append(f"output {name!r} missing")
        elif int(outputs[name][-1]) != width:
            problems.append(f"output {name!r} has width {outputs[name][-1]}, expected {width}")
    for name in ("drum_h_out", "harm_h_out"):
        if name not in outputs:
            problems.append(f"output {name!r} missing")
    if problems:
        raise ModelError(f"model file {path} does not match this jambox's features "
                         f"(DRUM_IN={F.DRUM_IN}, HARM_IN={F.HARM_IN}): {'; '.join(problems)}; retrain and export")


def load_model(path: str | os.PathLike | None = None, backend: str = "onnx") -> StepModel:
    """Load the step model. ``path`` None or "" = the shipped model for ``backend``."""
    _check_backend(backend)
    p = Path(path) if path else default_model_path(backend)
    if not p.is_file():
        where = "" if path else f" (looked in: {', '.join(str(d) for d in model_dirs())})"
        raise ModelError(f"model file {p} not found{where}; expected the {backend} step model "
                         f"(run `jambox export`, or set generator.model)")
    if p.stat().st_size == 0:
        raise ModelError(f"model file {p} is empty; expected the {backend} step model")
    runner = _OnnxRunner(p) if backend == "onnx" else _TfliteRunner(p)
    return StepModel(runner, p, backend)
