"""The panel's buttons on gpiozero's mock pins, wired to the real chain playing the demo riff: what the box
plays changes as the press says (tension up and held, the most prominent voice softer, a kept loop repeated)."""

import numpy as np
import pytest

from jambox.audio.files import load_bass
from jambox.controls.gpio import GpioControls
from jambox.demo_riff import AUDIO_FILE
from jambox.engine.chain import Chain
from jambox.generate import load_model
from jambox.generate.tension import harmonic_tension
from tests.controls.fakes import FakeClock, config_with

pytestmark = pytest.mark.slow
SR = 48000


@pytest.fixture(scope="module")
def bass():
    return load_bass(str(AUDIO_FILE), SR)


@pytest.fixture(scope="module")
def model():
    return load_model(None)


def play(mock_factory, bass, model, presses: dict[float, list[str]], seed=5, **config_sections) -> Chain:
    """The riff through the chain, hop by hop; at each time in ``presses``, tap those buttons (0.1 s each)."""
    config = config_with(controls={"knobs": "none"}, **config_sections)
    clock = FakeClock()
    chain = Chain(config, model=model, memory=None, seed=seed)
    panel = GpioControls(config, chain.submit, pin_factory=mock_factory, clock=clock, start=False)
    pins = {"keep": config.gpio.keep_pin, "softer": config.gpio.softer_pin, "dissonance": config.gpio.dissonance_pin}
    pending = sorted((t, b) for t, bs in presses.items() for b in bs)
    held: list[tuple[float, int]] = []
    try:
        hop = chain.hop_size
        for start in range(0, len(bass) - hop, hop):
            t = start / SR
            clock.t = t
            while pending and pending[0][0] <= t:
                _, button = pending.pop(0)
                mock_factory.pin(pins[button]).drive_low()  # the switch shorts the pulled-up pin to ground
                held.append((t + 0.1, pins[button]))
            for release_at, pin in [h for h in held if h[0] <= t]:
                mock_factory.pin(pin).drive_high()
                held.remove((release_at, pin))
            panel.poll(t)
            chain.feed(bass[start:start + hop])
    finally:
        panel.close()
        chain.close()
    return chain


def keys_tension(chain: Chain, start: float, end: float) -> float:
    keys = [n for n in chain.record.played if n.part == "keys" and start * SR <= n.time < end * SR]
    bass = [n for n in chain.record.notes.values() if start * SR <= n.onset < end * SR]
    assert keys, "the keys played nothing there"
    h = chain.heard
    return harmonic_tension(keys, bass, h.key_tonic, h.key_mode)


@pytest.fixture(scope="module")
def plain(bass, model):
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    try:
        return play(factory, bass, model, {})
    finally:
        factory.reset()


def test_more_dissonance_presses_raise_the_tension_and_it_stays_up(mock_factory, bass, model, plain):
    chain = play(mock_factory, bass, model, {13.0: ["dissonance"], 13.5: ["dissonance"], 14.0: ["dissonance"]})
    applied = [(t / SR, a.kind.value, e) for t, a, e in chain.record.actions]
    assert [k for _, k, _ in applied] == ["more_dissonance"] * 3
    assert all(13.0 <= t < 14.5 for t, _, _ in applied)  # each at the next step after its press
    assert chain.session.controls().dissonance > 0.5 and chain.session.controls().hold_tension
    assert keys_tension(chain, 15.0, 29.0) > keys_tension(plain, 15.0, 29.0) + 0.05
    assert keys_tension(chain, 24.0, 29.0) > keys_tension(plain, 24.0, 29.0)  # held to the last phrase end


def test_softer_pulls_back_the_voice_it_names(mock_factory, bass, model, plain):
    chain = play(mock_factory, bass, model, {14.5: ["softer"]})
    (_, action, effect), = chain.record.actions
    voice = effect.split()[0]  # e.g. "snare softer (1.0 -> 0.8)"
    assert action.kind.value == "softer" and dict(chain.session.controls().voice_levels)[voice] < 1.0

    def level(c, which):
        from jambox.generate.dynamics import VOICE_GROUP
        from jambox.generate.features import DRUM_PITCHES

        if which == "keys":
            notes = [n for n in c.record.played if n.part == "keys" and n.time >= 15 * SR]
        else:
            pitches = {p for p, group in zip(DRUM_PITCHES, VOICE_GROUP) if group == which}
            notes = [n for n in c.record.played if n.part == "drums" and n.pitch in pitches and n.time >= 15 * SR]
        return sum(n.velocity for n in notes)  # density and velocity together

    assert level(chain, voice) < 0.9 * level(plain, voice)


def test_keep_repeats_the_loop_it_kept(mock_factory, bass, model):
    chain = play(mock_factory, bass, model, {17.0: ["keep"]})
    assert [a.kind.value for _, a, _ in chain.record.actions] == ["keep"]
    assert chain.generator.holding
    loop = chain.heard.loop_bars * chain.bar_length()
    kick = [n.time for n in chain.record.played if n.part == "drums" and n.pitch == 36 and n.time > 18 * SR]
    assert len(kick) >= 8
    # the kicks of each later loop fall where the kept loop had them (small human variation allowed)
    first = [t for t in kick if t < kick[0] + loop]
    later = [t for t in kick if t >= kick[0] + loop]
    shifted = np.array(later) - loop * np.floor((np.array(later) - kick[0]) / loop)
    near = [min(abs(s - f) for f in first) < 0.03 * SR for s in shifted]
    assert np.mean(near) >= 0.8


def test_a_suggestion_is_adopted_by_keep_within_its_bar_and_let_go_without(mock_factory, bass, model):
    from gpiozero.pins.mock import MockFactory

    full_surprise = {"initial": {"surprise": 1.0}}
    factory = MockFactory()
    try:
        first = play(factory, bass, model, {}, seed=9, **full_surprise)
    finally:
        factory.reset()
    events = first.record.session_events
    offers = [t / SR for t, e in events if e.startswith("suggestion offered")]
    assert offers, "no suggestion at full surprise over the whole riff"
    assert any(e.startswith("suggestion let go") for _, e in events)
    assert not any(e.startswith("suggestion adopted") for _, e in events)

    chain = play(mock_factory, bass, model, {offers[0] + 0.05: ["keep"]}, seed=9, **full_surprise)
    said = [e for _, a, e in chain.record.actions if a.kind.value == "keep"] + [e for _, e in chain.record.session_events]
    assert any(e.startswith("suggestion adopted") for e in said), said
    assert chain.generator.holding
