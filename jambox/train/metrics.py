"""Held-out metrics with baselines in the same run (Groove's validation split, POP909's held-out songs).

Everything here runs on sequences in their own meter (no re-barred copies), with the bass known.
Generation samples the way the runtime does (hits and chords drawn from the model's probabilities,
fed back step by step), seeded.

Drums: likelihood (nats per step, the 9 voices together), hit F1 of generated drums against the
real ones given the real rhythm, kick alignment with given low (kick) onsets, variety (distinct bars
per 16, similarity of each bar to the one before), and the controls' effect (each drum control set
low / mid / high and the same hindsight descriptor measured on what comes out).
Harmony: chord accuracy against POP909's annotations given the bass (teacher-forced and free
running), the share of chord tones in key at low dissonance, the tension curve against the
dissonance control, and the keys-density control's effect.
Baselines: the drum machine's pattern bank, an n-gram on the same tokens, the bass-triad rule.
"""

from __future__ import annotations

import numpy as np

from jambox.generate import features as F
from jambox.train import dataset as D
from jambox.train.baselines import NGram, PatternBank, bass_triads, f1
from jambox.train.net import JamNets, torch

WINDOW = 256
LEVELS = (0.2, 0.5, 0.8)
DISSONANCE_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


# -- held-out sequences ---------------------------------------------------------------------------
def _drum_eval(tables: D.Tables, val: bool, kind: str | None, window: int = WINDOW) -> list[dict]:
    """Windows of original-meter sequences with the rhythm rebuilt as ``kind`` (None: the table's own,
    as the model was trained) and the bass known."""
    out = []
    for i in range(len(tables)):
        if bool(tables.meta["val"][i]) != val or bool(tables.meta["rebarred"][i]):
            continue
        s = tables.seq(i)
        meter = F.meter_for(*D.METER_LIST[int(tables.meta["meter"][i])])
        if kind is None:
            onset, vel, off = s["onset"], s["velocity"], s["offset"]
        else:
            onset, vel, off = D.collapse_rhythm(s["hits"], s["hit_velocity"], s["hit_offset"],
                                                list(D.RHYTHM_VOICES[kind]))
        n = len(onset)
        for a in range(0, n, window):
            b = min(n, a + window)
            if b - a < 16:
                continue
            sl = slice(a, b)
            x = F.encode_drum_sequence(meter, s["step_in_bar"][sl], float(tables.meta["bpm"][i]),
                                       float(tables.meta["swing"][i]), onset[sl], vel[sl], off[sl],
                                       np.ones(b - a, bool), s["controls"][sl], s["hits"][sl],
                                       s["hit_velocity"][sl], s["hit_offset"][sl])
            out.append({"x": x, "hits": s["hits"][sl], "velocity": s["hit_velocity"][sl], "onset": onset[sl],
                        "step_in_bar": s["step_in_bar"][sl].astype(np.int64), "meter": meter,
                        "meter_idx": int(tables.meta["meter"][i]), "fill": bool(tables.meta["fill_file"][i])})
    return out


def _harm_eval(tables: D.Tables, val: bool, limit: int | None, rng, window: int = WINDOW) -> list[dict]:
    out = []
    for i in range(len(tables)):
        if bool(tables.meta["val"][i]) != val or bool(tables.meta["rebarred"][i]):
            continue
        s = tables.seq(i)
        meter = F.meter_for(*D.METER_LIST[int(tables.meta["meter"][i])])
        n = len(s["chord"])
        for a in range(0, n, window):
            b = min(n, a + window)
            if b - a < 16:
                continue
            sl = slice(a, b)
            pcs = s["bass_pc"][sl].astype(np.int64)
            x = F.encode_harm_sequence(meter, s["step_in_bar"][sl], float(tables.meta["bpm"][i]),
                                       float(tables.meta["swing"][i]), s["onset"][sl], s["velocity"][sl],
                                       np.ones(b - a, bool), pcs, s["minor"][sl], s["controls"][sl],
                                       s["chord"][sl].astype(np.int64), s["voicing_held"][sl].astype(np.int64),
                                       s["keys_hit"][sl], s["keys_velocity"][sl])
            out.append({"x": x, "chord": s["chord"][sl].astype(np.int64), "bass_pc": pcs, "minor": s["minor"][sl],
                        "keys_hit": s["keys_hit"][sl], "onset": s["onset"][sl],
                        "step_in_bar": s["step_in_bar"][sl].astype(np.int64),
                        "meter_idx": int(tables.meta["meter"][i])})
    if limit and len(out) > limit:
        keep = np.sort(rng.choice(len(out), limit, replace=False))
        out = [out[k] for k in keep]
    return out


def _stack(wins: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    t = max(len(w[key]) for w in wins)
    first = wins[0][key]
    arr = np.zeros((len(wins), t) + first.shape[1:], dtype=first.dtype)
    mask = np.zeros((len(wins), t), dtype=bool)
    for j, w in enumerate(wins):
        arr[j, : len(w[key])] = w[key]
        mask[j, : len(w[key])] = True
    return arr, mask


# -- model: likelihood and generation -------------------------------------------------------------
def _drum_forward(nets: JamNets, x: np.ndarray) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out, _ = nets.drums(torch.from_numpy(x))
    return {k: v.numpy() for k, v in out.items()}


def _bce(logits, target):
    return np.logaddexp(0.0, logits) - target * logits


def generate_drums(nets: JamNets, x: np.ndarray, seed: int, set_cols: dict[int, float] | None = None,
                   greedy: bool = False):
    """Sample drums step by step, feeding back the samples. x [B, T, DRUM_IN] -> hits, velocity [B, T, 9].

    ``greedy``: hit where the probability exceeds 0.5 instead of sampling.
    """
    g = torch.Generator().manual_seed(seed)
    xb = torch.from_numpy(x).clone()
    for col, v in (set_cols or {}).items():
        xb[:, :, col] = v
    b, t, _ = xb.shape
    h = None
    hits = torch.zeros(b, t, F.N_DRUMS)
    vels = torch.zeros(b, t, F.N_DRUMS)
    prev = (torch.zeros(b, F.N_DRUMS), torch.zeros(b, F.N_DRUMS), torch.zeros(b, F.N_DRUMS))
    with torch.no_grad():
        for i in range(t):
            xt = xb[:, i]
            xt[:, F.D_PREV_HIT], xt[:, F.D_PREV_VELOCITY], xt[:, F.D_PREV_OFFSET] = prev
            y, h = nets.drum_rnn(xt[:, None], h)
            o = nets.drum_head(y[:, 0])
            p = torch.sigmoid(o["drum_hit_logits"])
            s = ((p > 0.5) if greedy else (torch.rand(b, F.N_DRUMS, generator=g) < p)).float()
            v = torch.sigmoid(o["drum_velocity"])
            off = 0.5 * torch.tanh(o["drum_offset"])
            hits[:, i], vels[:, i] = s, v * s
            prev = (s, v * s, off * s)
    return hits.numpy().astype(bool), vels.numpy()


def generate_harmony(nets: JamNets, x: np.ndarray, seed: int, set_cols: dict[int, float] | None = None,
                     greedy: bool = False):
    """Chords and keys attacks step by step, fed back. -> chords [B, T], keys_hit [B, T]."""
    g = torch.Generator().manual_seed(seed)
    xb = torch.from_numpy(x).clone()
    for col, v in (set_cols or {}).items():
        xb[:, :, col] = v
    b, t, _ = xb.shape
    h = None
    chords = torch.zeros(b, t, dtype=torch.long)
    keys = torch.zeros(b, t)
    prev_chord = torch.zeros(b, dtype=torch.long)
    held = torch.zeros(b, dtype=torch.long)
    prev_hit = torch.zeros(b)
    prev_vel = torch.zeros(b)
    rows = torch.arange(b)
    with torch.no_grad():
        for i in range(t):
            xt = xb[:, i]
            xt[:, F.H_PREV_CHORD] = 0.0
            xt[rows, F.H_PREV_CHORD.start + prev_chord] = 1.0
            xt[:, F.H_PREV_VOICING] = 0.0
            xt[rows, F.H_PREV_VOICING.start + held] = 1.0
            xt[:, F.H_PREV_KEYS_HIT] = prev_hit
            xt[:, F.H_PREV_KEYS_VELOCITY] = prev_vel
            y, h = nets.harm_rnn(xt[:, None], h)
            o = nets.harm_head(y[:, 0])
            logits = o["chord_logits"]
            c = logits.argmax(-1) if greedy else torch.multinomial(torch.softmax(logits, -1), 1, generator=g)[:, 0]
            k = (torch.rand(b, generator=g) < torch.sigmoid(o["keys_hit_logit"][:, 0])).float()
            vo = torch.multinomial(torch.softmax(o["voicing_logits"], -1), 1, generator=g)[:, 0]
            held = torch.where(k > 0, vo, held)
            chords[:, i], keys[:, i] = c, k
            prev_chord, prev_hit, prev_vel = c, k, torch.sigmoid(o["keys_velocity"][:, 0]) * k
    return chords.numpy(), keys.numpy().astype(bool)


# -- descriptors ----------------------------------------------------------------------------------
def variety(hits: np.ndarray, mask: np.ndarray, bar_steps: int = 16, bars: int = 16) -> dict[str, float]:
    """Distinct bars per ``bars`` and mean Jaccard similarity of each bar with the one before."""
    distinct, sims = [], []
    for h, m in zip(hits, mask):
        n = int(m.sum()) // bar_steps
        if n < bars:
            continue
        grid = h[: bars * bar_steps].reshape(bars, bar_steps, -1)
        distinct.append(len({g.tobytes() for g in grid}))
        for a, b in zip(grid[:-1], grid[1:]):
            union = (a | b).sum()
            sims.append((a & b).sum() / union if union else 1.0)
    if not distinct:
        return {"distinct_bars_per_16": None, "bar_to_bar_similarity": None}
    return {"distinct_bars_per_16": round(float(np.mean(distinct)), 2),
            "bar_to_bar_similarity": round(float(np.mean(sims)), 3)}


def drum_descriptors(hits: np.ndarray, vel: np.ndarray, mask: np.ndarray, meters: list) -> dict[str, float]:
    rows = []
    for h, v, m, meter in zip(hits, vel, mask, meters):
        n = int(m.sum())
        for a in range(0, n - meter.bar_steps + 1, meter.bar_steps):
            rows.append(F.drum_bar_controls(h[a : a + meter.bar_steps], v[a : a + meter.bar_steps], meter))
    r = np.array(rows) if rows else np.zeros((1, 3))
    density = float(hits[mask].sum() / max(1, mask.sum()))
    hv = vel[hits & mask[..., None]]
    return {"energy": round(float(r[:, 0].mean()), 3), "syncopation": round(float(r[:, 1].mean()), 3),
            "busyness": round(float(r[:, 2].mean()), 3), "hits_per_step": round(density, 3),
            "mean_velocity": round(float(hv.mean()) if hv.size else 0.0, 3)}


def mean_tension(chords: np.ndarray, bass_pc: np.ndarray, minor: np.ndarray, mask: np.ndarray) -> float:
    pcs = np.where(bass_pc < 0, 12, bass_pc % 12)
    t = F.TENSION_TABLE[chords, minor.astype(int), pcs]
    sel = mask & (chords != F.NO_CHORD)
    return round(float(t[sel].mean()) if sel.any() else 0.0, 4)


def in_key_share(chords: np.ndarray, minor: np.ndarray, mask: np.ndarray) -> float:
    inside = total = 0
    for c, m in zip(chords[mask], minor[mask]):
        tones = F.chord_pitch_classes(int(c))
        scale = F.MINOR_SCALE if m else F.MAJOR_SCALE
        inside += sum(t in scale for t in tones)
        total += len(tones)
    return round(inside / max(1, total), 4)


# -- n-gram contexts ------------------------------------------------------------------------------
def _drum_tokens(hits: np.ndarray) -> np.ndarray:
    return (hits.astype(np.int64) * (1 << np.arange(F.N_DRUMS))).sum(axis=-1)


def _drum_contexts(tok, onset, sib, meter_idx):
    """Context keys per step (most specific first): previous two tokens, onset, position."""
    prev1 = np.concatenate([[-1], tok[:-1]])
    prev2 = np.concatenate([[-1, -1], tok[:-2]])[: len(tok)]
    pos = sib + 32 * meter_idx
    on = onset.astype(np.int64)
    return [np.stack([prev1, prev2, on, pos], 1), np.stack([prev1, on, pos], 1), np.stack([on, pos], 1),
            np.zeros((len(tok), 1), np.int64)]


def _harm_contexts(chords, bass_pc, onset, sib, meter_idx):
    prev = np.concatenate([[0], chords[:-1]])
    pos = sib + 32 * meter_idx
    on = onset.astype(np.int64)
    return [np.stack([prev, bass_pc, on, pos], 1), np.stack([prev, bass_pc], 1), np.stack([bass_pc], 1),
            np.zeros((len(chords), 1), np.int64)]


def _keys_at(ctx_levels, i):
    return tuple(tuple(level[i]) for level in ctx_levels)


def _fit_drum_ngram(wins) -> NGram:
    toks, ctxs = [], [[] for _ in range(4)]
    for w in wins:
        t = _drum_tokens(w["hits"])
        toks.append(t)
        for level, c in enumerate(_drum_contexts(t, w["onset"], w["step_in_bar"], w["meter_idx"])):
            ctxs[level].append(c)
    return NGram(1 << F.N_DRUMS).fit(np.concatenate(toks), [np.concatenate(c) for c in ctxs])


def _fit_harm_ngram(wins) -> NGram:
    toks, ctxs = [], [[] for _ in range(4)]
    for w in wins:
        toks.append(w["chord"])
        for level, c in enumerate(_harm_contexts(w["chord"], w["bass_pc"], w["onset"], w["step_in_bar"],
                                                 w["meter_idx"])):
            ctxs[level].append(c)
    return NGram(F.N_CHORDS).fit(np.concatenate(toks), [np.concatenate(c) for c in ctxs])


def _ngram_drums(ng: NGram, w: dict, rng) -> tuple[float, np.ndarray]:
    """(summed NLL of the real tokens, sampled hits) for one window."""
    real = _drum_tokens(w["hits"])
    ctx = _drum_contexts(real, w["onset"], w["step_in_bar"], w["meter_idx"])
    nll = sum(-np.log(ng.distribution(_keys_at(ctx, i))[real[i]]) for i in range(len(real)))
    gen = np.zeros(len(real), np.int64)
    for i in range(len(real)):
        p1 = gen[i - 1] if i >= 1 else -1
        p2 = gen[i - 2] if i >= 2 else -1
        on, pos = int(w["onset"][i]), int(w["step_in_bar"][i] + 32 * w["meter_idx"])
        keys = ((p1, p2, on, pos), (p1, on, pos), (on, pos), (0,))
        gen[i] = rng.choice(ng.vocab, p=ng.distribution(keys))
    hits = ((gen[:, None] >> np.arange(F.N_DRUMS)) & 1).astype(bool)
    return float(nll), hits


def _ngram_chords(ng: NGram, w: dict) -> tuple[np.ndarray, np.ndarray]:
    """(teacher-forced argmax, free-running greedy chords) for one window."""
    ctx = _harm_contexts(w["chord"], w["bass_pc"], w["onset"], w["step_in_bar"], w["meter_idx"])
    tf = np.array([ng.distribution(_keys_at(ctx, i)).argmax() for i in range(len(w["chord"]))])
    free = np.zeros(len(w["chord"]), np.int64)
    for i in range(len(free)):
        prev = free[i - 1] if i else 0
        pc, on, pos = int(w["bass_pc"][i]), int(w["onset"][i]), int(w["step_in_bar"][i] + 32 * w["meter_idx"])
        free[i] = ng.distribution(((prev, pc, on, pos), (prev, pc), (pc,), (0,))).argmax()
    return tf, free


def per_meter(nets: JamNets, drums: D.Tables, harmony: D.Tables, window: int) -> dict:
    """Teacher-forced drum NLL and chord accuracy on held-out sequences per meter, re-barred ones
    included (they are the only 5/4, 7/8 and 7/4 there is): does the model keep its quality off 4/4?"""
    out: dict = {"drum_nll_per_step": {}, "chord_accuracy_teacher_forced": {}}
    for tables, make, key in ((drums, D.drum_window, "drum_nll_per_step"),
                              (harmony, D.harm_window, "chord_accuracy_teacher_forced")):
        wins_by_meter: dict[str, list] = {}
        for w in D.windows(tables, val=True, length=window):
            name = "%d/%d" % D.METER_LIST[int(tables.meta["meter"][w[0]])]
            wins_by_meter.setdefault(name, []).append(w)
        for name, wins in sorted(wins_by_meter.items()):
            b = D.batch(make, tables, wins, window)
            mask = b["mask"] > 0
            with torch.no_grad():
                if key.startswith("drum"):
                    o, _ = nets.drums(torch.from_numpy(b["x"]))
                    v = (_bce(o["drum_hit_logits"].numpy(), b["hits"]).sum(-1))[mask].mean()
                else:
                    o, _ = nets.harmony(torch.from_numpy(b["x"]))
                    v = (o["chord_logits"].argmax(-1).numpy() == b["chord"])[mask].mean()
            out[key][name] = {"value": round(float(v), 3), "steps": int(mask.sum())}
    return out


# -- the report -----------------------------------------------------------------------------------
def evaluate(nets: JamNets, drums: D.Tables, harmony: D.Tables, *, seed: int = 0, quick: bool = False,
             progress: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    nets.eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # step-by-step generation is many tiny ops: threads only add overhead
    try:
        return _evaluate(nets, drums, harmony, seed, quick, progress, rng)
    finally:
        torch.set_num_threads(threads)


def _evaluate(nets, drums, harmony, seed, quick, progress, rng) -> dict:
    from tqdm import tqdm

    report: dict = {}
    window = 64 if quick else WINDOW  # quick: a smoke test of every figure (variety needs 16 bars: None)
    steps = tqdm(total=4, desc="metrics", disable=not progress, leave=False)

    # ---- drums: likelihood
    val = _drum_eval(drums, True, "all", window)
    train_wins = _drum_eval(drums, False, None, window)  # the baselines learn from what the model learnt from
    x, mask = _stack(val, "x")
    real, _ = _stack(val, "hits")
    out = _drum_forward(nets, x)
    model_nll = float((_bce(out["drum_hit_logits"], real).sum(-1) * mask).sum() / mask.sum())
    bank = PatternBank()
    bank.fit((w["onset"], w["step_in_bar"], w["meter"].bar_steps, w["hits"]) for w in train_wins)
    presets = [bank.choose(w["onset"], w["step_in_bar"], w["meter"].bar_steps) for w in val]
    loops = [bank.loop(p, w["step_in_bar"], w["meter"].bar_steps) for p, w in zip(presets, val)]
    bank_nll = float(sum(bank.nll(g, w["hits"]).sum() for g, w in zip(loops, val)) / mask.sum())
    ng = _fit_drum_ngram(train_wins)
    ng_runs = [_ngram_drums(ng, w, rng) for w in val]
    ng_nll = float(sum(r[0] for r in ng_runs) / mask.sum())
    steps.update()

    # ---- drums: generation given the real rhythm
    gen_hits, gen_vel = generate_drums(nets, x, seed)
    f1_model = f1(gen_hits[mask], real[mask])
    greedy_hits, _ = generate_drums(nets, x, seed, greedy=True)
    f1_bank = f1(np.concatenate(loops), np.concatenate([w["hits"] for w in val]))
    f1_ng = f1(np.concatenate([r[1] for r in ng_runs]), np.concatenate([w["hits"] for w in val]))
    report["drums"] = {
        "held_out_steps": int(mask.sum()),
        "nll_per_step": {"model": round(model_nll, 3), "pattern_bank": round(bank_nll, 3), "ngram": round(ng_nll, 3)},
        "hit_f1_given_rhythm": {"model": round(f1_model, 3), "pattern_bank": round(f1_bank, 3),
                                "ngram": round(f1_ng, 3),
                                "model_greedy": round(f1(greedy_hits[mask], real[mask]), 3)},
    }

    # ---- drums: kick alignment with given low onsets
    kv = _drum_eval(drums, True, "kick", window)
    kx, kmask = _stack(kv, "x")
    konset, _ = _stack(kv, "onset")
    kgen, _ = generate_drums(nets, kx, seed + 1)
    kick = kgen[..., F.KICK]

    def align(pred, given):
        tp = (pred & given).sum()
        return {"precision": round(float(tp / max(1, pred.sum())), 3),
                "recall": round(float(tp / max(1, given.sum())), 3)}

    kloops = [bank.loop(bank.choose(w["onset"], w["step_in_bar"], w["meter"].bar_steps), w["step_in_bar"],
                        w["meter"].bar_steps) for w in kv]
    report["drums"]["kick_alignment_with_low_onsets"] = {
        "model": align(kick[kmask], konset[kmask]),
        "pattern_bank": align(np.concatenate([g[:, F.KICK] for g in kloops]), np.concatenate([w["onset"] for w in kv])),
        "ngram": align(np.concatenate([_ngram_drums(ng, w, rng)[1][:, F.KICK] for w in kv]),
                       np.concatenate([w["onset"] for w in kv])),
    }
    steps.update()

    # ---- drums: variety (4/4 performances long enough for 16 bars)
    is44 = np.array([w["meter"].bar_steps == 16 and not w["fill"] for w in val])
    if is44.any():
        report["drums"]["variety"] = {
            "real": variety(real[is44], mask[is44]),
            "model": variety(gen_hits[is44], mask[is44]),
            "model_greedy": variety(greedy_hits[is44], mask[is44]),
            "pattern_bank": {"distinct_bars_per_16": 1.0, "bar_to_bar_similarity": 1.0},
            "ngram": variety(_stack([{"h": r[1]} for r, k in zip(ng_runs, is44) if k], "h")[0], mask[is44]),
        }

    # ---- drums: the controls' effect
    meters = [w["meter"] for w in val]
    ctl = {"real": drum_descriptors(real, _stack(val, "velocity")[0], mask, meters)}
    for name, col in (("energy", F.D_ENERGY), ("syncopation", F.D_SYNCOPATION), ("busyness", F.D_BUSYNESS)):
        ctl[name] = {}
        for v in LEVELS:
            h, vv = generate_drums(nets, x, seed + 2, {col: v})
            ctl[name][str(v)] = drum_descriptors(h, vv, mask, meters)
    report["drums"]["controls"] = ctl
    steps.update()

    # ---- harmony
    hval = _harm_eval(harmony, True, 40 if quick else 400, rng, window)
    htrain = _harm_eval(harmony, False, None, rng, window)
    hx, hmask = _stack(hval, "x")
    chords, _ = _stack(hval, "chord")
    bass, _ = _stack(hval, "bass_pc")
    minor, _ = _stack(hval, "minor")
    keys_real, _ = _stack(hval, "keys_hit")
    with torch.no_grad():
        ho, _ = nets.harmony(torch.from_numpy(hx))
    tf_acc = float((ho["chord_logits"].argmax(-1).numpy() == chords)[hmask].mean())
    free, _ = generate_harmony(nets, hx, seed, greedy=True)
    free_acc = float((free == chords)[hmask].mean())
    hng = _fit_harm_ngram(htrain)
    ng_tf, ng_free = zip(*[_ngram_chords(hng, w) for w in hval])
    real_flat = np.concatenate([w["chord"] for w in hval])
    triads = np.concatenate([bass_triads(w["bass_pc"], w["minor"]) for w in hval])
    report["harmony"] = {
        "held_out_steps": int(hmask.sum()),
        "chord_accuracy_given_bass": {
            "model_teacher_forced": round(tf_acc, 3), "model_free_running": round(free_acc, 3),
            "ngram_teacher_forced": round(float((np.concatenate(ng_tf) == real_flat).mean()), 3),
            "ngram_free_running": round(float((np.concatenate(ng_free) == real_flat).mean()), 3),
            "bass_triad_rule": round(float((triads == real_flat).mean()), 3),
        },
    }
    low, _ = generate_harmony(nets, hx, seed, {F.H_DISSONANCE: 0.1})
    report["harmony"]["chord_tones_in_key"] = {
        "real": in_key_share(chords, minor, hmask), "model_at_dissonance_0.1": in_key_share(low, minor, hmask)}
    curve = {"real": mean_tension(chords, bass, minor, hmask)}
    for v in DISSONANCE_LEVELS:
        c, _ = generate_harmony(nets, hx, seed + 3, {F.H_DISSONANCE: v})
        curve[str(v)] = mean_tension(c, bass, minor, hmask)
    report["harmony"]["tension_vs_dissonance"] = curve
    dens = {"real": round(float(keys_real[hmask].mean()), 3)}
    for v in LEVELS:
        _, k = generate_harmony(nets, hx, seed + 4, {F.H_KEYS_DENSITY: v})
        dens[str(v)] = round(float(k[hmask].mean()), 3)
    report["harmony"]["keys_attacks_per_step_vs_keys_density"] = dens
    report["per_meter"] = per_meter(nets, drums, harmony, window)
    steps.update()
    steps.close()
    return report
