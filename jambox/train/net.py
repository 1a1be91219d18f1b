"""The two step nets in torch: a GRU per net and small heads, trained over sequences, exported as one step.

Training runs ``torch.nn.GRU`` over whole windows (fast); export wraps the same weights in
:class:`StepGraph`, which writes the GRU cell out as plain matrix products and gates (Gemm, Add,
Sigmoid, Tanh, Mul, Sub), so that the ONNX graph quantises cleanly and the TFLite writer can
translate it op by op. The parity tests check the two against each other.

GRU cell (torch's gate order r, z, n):
  r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = n + z * (h - n)
Heads: a ReLU hidden layer on the new state, then one linear layer per output; velocities through
a sigmoid (0..1), drum offsets through 0.5 * tanh (-0.5..0.5 steps).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from jambox.errors import TrainingError
from jambox.generate import features as F

try:
    import torch
    from torch import nn
except ImportError as e:  # training is an optional extra
    raise TrainingError(f"training needs PyTorch: pip install 'jambox[train]' ({e})") from None


@dataclass(frozen=True)
class NetConfig:
    drum_hidden: int = F.DRUM_H
    harm_hidden: int = F.HARM_H
    head_hidden: int = 128

    def to_dict(self) -> dict:
        return asdict(self)


class Head(nn.Module):
    def __init__(self, hidden: int, width: int, sizes: dict[str, int]):
        super().__init__()
        self.hidden = nn.Linear(hidden, width)
        self.out = nn.ModuleDict({name: nn.Linear(width, n) for name, n in sizes.items()})

    def forward(self, h):
        z = torch.relu(self.hidden(h))
        return {name: layer(z) for name, layer in self.out.items()}


DRUM_HEADS = {"drum_hit_logits": F.N_DRUMS, "drum_velocity": F.N_DRUMS, "drum_offset": F.N_DRUMS}
HARM_HEADS = {"chord_logits": F.N_CHORDS, "voicing_logits": F.N_VOICINGS, "keys_hit_logit": 1, "keys_velocity": 1}


def squash(name: str, raw):
    """Raw head output -> the output's range (what the ONNX/TFLite outputs hold)."""
    if name in ("drum_velocity", "keys_velocity"):
        return torch.sigmoid(raw)
    if name == "drum_offset":
        return 0.5 * torch.tanh(raw)
    return raw


class JamNets(nn.Module):
    def __init__(self, cfg: NetConfig = NetConfig()):
        super().__init__()
        self.cfg = cfg
        self.drum_rnn = nn.GRU(F.DRUM_IN, cfg.drum_hidden, batch_first=True)
        self.harm_rnn = nn.GRU(F.HARM_IN, cfg.harm_hidden, batch_first=True)
        self.drum_head = Head(cfg.drum_hidden, cfg.head_hidden, DRUM_HEADS)
        self.harm_head = Head(cfg.harm_hidden, cfg.head_hidden, HARM_HEADS)

    def drums(self, x, h0=None):
        """x [B, T, DRUM_IN] -> (raw head outputs [B, T, ...], final state [1, B, H])."""
        y, h = self.drum_rnn(x, h0)
        return self.drum_head(y), h

    def harmony(self, x, h0=None):
        y, h = self.harm_rnn(x, h0)
        return self.harm_head(y), h


class StepGraph(nn.Module):
    """One step of both nets with explicit state: what the ONNX file holds."""

    def __init__(self, nets: JamNets):
        super().__init__()
        self.nets = nets

    @staticmethod
    def _cell(rnn: nn.GRU, x, h):
        gi = torch.nn.functional.linear(x, rnn.weight_ih_l0, rnn.bias_ih_l0)
        gh = torch.nn.functional.linear(h, rnn.weight_hh_l0, rnn.bias_hh_l0)
        n_h = h.shape[1]  # a Python int at export: constant slices, no Shape/Gather in the graph
        i_r, i_z, i_n = gi[:, :n_h], gi[:, n_h : 2 * n_h], gi[:, 2 * n_h :]
        h_r, h_z, h_n = gh[:, :n_h], gh[:, n_h : 2 * n_h], gh[:, 2 * n_h :]
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return n + z * (h - n)

    def forward(self, drum_x, harm_x, drum_h, harm_h):
        dh = self._cell(self.nets.drum_rnn, drum_x, drum_h)
        hh = self._cell(self.nets.harm_rnn, harm_x, harm_h)
        d = self.nets.drum_head(dh)
        k = self.nets.harm_head(hh)
        outs = []
        for name in F.OUTPUT_NAMES[:-2]:
            raw = d[name] if name in d else k[name]
            outs.append(squash(name, raw))
        return (*outs, dh, hh)
