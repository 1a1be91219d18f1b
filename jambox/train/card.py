"""MODEL_CARD.md: what the shipped model is, what it was trained on, how well it does, how to remake it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from jambox.generate import features as F


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _get(d: dict, *keys, default="?"):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def summary(metrics: dict) -> str:
    """The headline figures as Markdown tables (the full JSON follows them in the card)."""
    d, h = metrics.get("drums", {}), metrics.get("harmony", {})
    rows = ["| figure (held out) | model | pattern bank | n-gram | other |", "| --- | --- | --- | --- | --- |"]

    def trio(name, key, better):
        v = d.get(key, {})
        rows.append(f"| {name} ({better}) | {v.get('model', '?')} | {v.get('pattern_bank', '?')} | "
                    f"{v.get('ngram', '?')} | |")

    trio("drum NLL, nats/step", "nll_per_step", "lower is better")
    trio("drum hit F1 given the rhythm", "hit_f1_given_rhythm", "higher is better")
    rows[-1] = rows[-1][:-4] + f" | greedy (p > 0.5): {_get(d, 'hit_f1_given_rhythm', 'model_greedy')} |"
    ka = d.get("kick_alignment_with_low_onsets", {})
    rows.append("| kick on given low onsets: precision / recall | "
                + " | ".join(f"{_get(ka, k, 'precision')} / {_get(ka, k, 'recall')}" for k in
                             ("model", "pattern_bank", "ngram")) + " | |")
    var = d.get("variety", {})
    rows.append("| distinct bars per 16 / bar-to-bar similarity | "
                + " | ".join(f"{_get(var, k, 'distinct_bars_per_16')} / {_get(var, k, 'bar_to_bar_similarity')}"
                             for k in ("model", "pattern_bank", "ngram"))
                + f" | real: {_get(var, 'real', 'distinct_bars_per_16')} / {_get(var, 'real', 'bar_to_bar_similarity')};"
                f" greedy: {_get(var, 'model_greedy', 'distinct_bars_per_16')} / "
                f"{_get(var, 'model_greedy', 'bar_to_bar_similarity')} |")
    acc = h.get("chord_accuracy_given_bass", {})
    rows.append(f"| chord accuracy given the bass, teacher-forced | {acc.get('model_teacher_forced', '?')} | | "
                f"{acc.get('ngram_teacher_forced', '?')} | |")
    rows.append(f"| chord accuracy given the bass, free running | {acc.get('model_free_running', '?')} | | "
                f"{acc.get('ngram_free_running', '?')} | bass-triad rule: {acc.get('bass_triad_rule', '?')} |")
    ik = h.get("chord_tones_in_key", {})
    rows.append(f"| chord tones in key at dissonance 0.1 | {ik.get('model_at_dissonance_0.1', '?')} | | | "
                f"real: {ik.get('real', '?')} |")
    lines = ["\n".join(rows), ""]
    curve = h.get("tension_vs_dissonance", {})
    lines.append("Controls (each set for every step; the same descriptor measured on what the model plays):")
    lines.append("")
    lines.append("| control | setting -> measured |")
    lines.append("| --- | --- |")
    lines.append("| dissonance -> mean chord tension | " + ", ".join(f"{k}: {v}" for k, v in curve.items()) + " |")
    ctl = d.get("controls", {})
    for name, meas in (("energy", "hits_per_step"), ("energy", "mean_velocity"), ("syncopation", "syncopation"),
                       ("busyness", "busyness")):
        if name in ctl:
            lines.append(f"| {name} -> {meas} | " + ", ".join(f"{k}: {v.get(meas)}" for k, v in ctl[name].items())
                         + f", real: {_get(ctl, 'real', meas)} |")
    kd = h.get("keys_attacks_per_step_vs_keys_density", {})
    lines.append("| keys_density -> keys attacks per step | " + ", ".join(f"{k}: {v}" for k, v in kd.items()) + " |")
    pm = metrics.get("per_meter", {})
    if pm:
        lines += ["", "Per meter (held out, teacher-forced, the rhythm drawn as in training: all hits, kicks, or kicks"
                  " and snares; 5/4, 7/8 and 7/4 are re-barred held-out material):", "",
                  "| meter | drum NLL/step | chord accuracy |", "| --- | --- | --- |"]
        names = sorted(set(pm.get("drum_nll_per_step", {})) | set(pm.get("chord_accuracy_teacher_forced", {})),
                       key=lambda m: (int(m.split("/")[1]), int(m.split("/")[0])))
        for m in names:
            d_ = pm.get("drum_nll_per_step", {}).get(m, {})
            c_ = pm.get("chord_accuracy_teacher_forced", {}).get(m, {})
            lines.append(f"| {m} | {d_.get('value', '')} ({d_.get('steps', 0)} steps) | "
                         f"{c_.get('value', '')} ({c_.get('steps', 0)} steps) |")
    return "\n".join(lines)


def write_model_card(path: Path, info: dict, ck: dict, paths: dict, parity: dict, parity_steps: int) -> Path:
    from jambox.train.parity import TOLERANCE

    train = ck.get("train", {})
    net = ck.get("net", {})
    metrics = info.get("metrics", {})
    hist = info.get("train", {}).get("history", [])
    files = "\n".join(
        f"| `{p.name}` | {p.stat().st_size / 1024:.0f} KiB | `{_sha(p)}` |" for k, p in paths.items() if k != "meta"
    )
    par = "\n".join(
        f"| {name} | {max(d.values()):.2e} | {TOLERANCE[name]:g} | "
        + ", ".join(f"{k} {v:.1e}" for k, v in d.items()) + " |"
        for name, d in parity.items()
    )
    text = f"""# jambox accompaniment model

Two small recurrent step nets in one file, stepped together once per 16th note: a **drum net**
(GRU, {net.get('drum_hidden')} units) that answers a rhythm with 9 GM drum voices (hit probability,
velocity, micro-offset), and a **harmony net** (GRU, {net.get('harm_hidden')} units) that answers a bass
line with a key-relative chord ({F.N_CHORDS} classes), a keys comping attack and its voicing
({', '.join(F.VOICINGS)}). Inputs, outputs and the meaning of every column: `jambox/generate/features.py`.
Sampling, voicing and the controls' mapping happen at run time (`jambox/generate/`).

## Files

| file | size | sha256 (first 16) |
| --- | --- | --- |
{files}

- `jambox-int8.onnx`: what the box runs (onnxruntime; dynamic int8 quantisation of every Gemm, weights
  per output channel, activations quantised on the fly).
- `jambox.onnx`: the float model, kept for the parity tests.
- `jambox.tflite`: the same float graph for tflite-runtime. It is written by jambox's own
  FlatBuffer writer (`jambox/train/tflite_writer.py`, op by op from the float ONNX graph with the
  `tflite` package's generated builders), because no ONNX-to-TFLite converter exists without
  TensorFlow.

## Data (held-out splits never trained on)

| data | license | credit | use |
| --- | --- | --- | --- |
| Groove MIDI Dataset v1.0.0 (MIDI) | CC BY 4.0 | Gillick, Roberts, Engel, Eck, Bamman: "Learning to Groove with Inverse Sequence Transformations", ICML 2019 | drum net; its `validation` split is held out |
| POP909 | MIT | Wang, Chen, Jiang, Zhang, Xu, Dai, Gu, Xia: "POP909: A Pop-song Dataset for Music Arrangement Generation", ISMIR 2020 | harmony net; songs whose id ends in 0 are held out |

Data hash (sha256 over every file used): `{info.get('data_sha256', '?')}`.
Odd meters (3/4, 5/4, 7/8, 7/4) come from re-barring real 4/4 bars (`jambox/train/rebar.py`),
never from invented patterns.

## Training

- Command: `{info.get('command', '?')}` then `jambox export` (seed {train.get('seed', '?')}; PyTorch CPU,
  {train.get('threads', '?')} threads; {info.get('machine', '')}). `jambox train --metrics-only`
  recomputes the metrics below from the checkpoint.
- {train.get('epochs', '?')} epochs of at most {train.get('max_batches_per_epoch', '?')} batches of
  {train.get('batch', '?')} windows x {train.get('window', '?')} steps, Adam with one-cycle lr
  {train.get('lr', '?')}; {info.get('train', {}).get('train_seconds', '?')} s of training,
  {info.get('encode_seconds', '?')} s of data encoding (cache {info.get('cache', '?')}; the encoded
  tables are cached under the user cache dir, keyed by the data hash, the seed and the encoding
  version).
- Validation losses per epoch: {json.dumps([h.get('val') for h in hist])}

## Held-out metrics (with baselines from the same run)

{summary(metrics)}

All figures (`runs/train/metrics.json`):

```json
{json.dumps(metrics, indent=2)}
```

How to read them: `nll_per_step` is nats per 16th step for the 9 drum voices together (lower is
better); `hit_f1_given_rhythm` compares sampled drums with the drummer's own, given the drummer's
rhythm collapsed to one voice; `kick_alignment_with_low_onsets` gives only the kicks as the rhythm
and asks how many sampled kicks land on them (precision) and how many of them get a kick (recall);
`variety` counts distinct bars per 16 and the similarity of each bar with the one before (1 =
looped, 0 = noise); `controls` sets one control for every step and measures the same descriptor on
what comes out. Harmony: chord accuracy per step against POP909's annotations given the bass line
(teacher-forced = the true previous chord is given; free running = the model's own); the tension
curve is the mean chord tension (`features.chord_tension`) at each dissonance setting.

## Parity ({parity_steps} steps of a held-out sequence, state carried step by step)

Max abs difference against the torch model on probabilities, velocities and offsets:

| model | worst | tolerance | per output |
| --- | --- | --- | --- |
{par}

## Limits

- Trained on pop piano arrangements and a studio drummer collection: it knows pop harmony and rock,
  funk, jazz, latin... grooves; it does not know metal blast beats or modal jazz harmony.
- The drum net never heard a bass player: it answers rhythms (the drummer's own, collapsed), and the
  bass player's onsets stand in for them at run time.
- Keys voicings are four classes; the notes are chosen at run time.
"""
    Path(path).write_text(text)
    return Path(path)
