"""Is the audio HAT there, and does the boot configuration load the right overlay for it?

Three places tell: ``/boot/firmware/config.txt`` (Bookworm; ``/boot/config.txt`` before it) says
which device-tree overlay the firmware loads; ``/proc/asound/cards`` lists the sound cards the
kernel made from it; ``/proc/device-tree/hat/product`` is the name in the HAT's ID EEPROM, when
it has one. A HAT that is seated but not configured, configured but not seated (or not seated
well), or configured with a sibling's overlay (a HiFiBerry DAC+ overlay on a DAC+ ADC gives a card
with no input) each read differently, and each has its own fix. firmware/README.md has the snippets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jambox.doctor import Check, Context, ok, problem, skip

FIRMWARE_DOC = "firmware/README.md"


@dataclass(frozen=True)
class Hat:
    key: str  # the name of its folder in firmware/hats/
    name: str
    overlay: str  # dtoverlay= in config.txt
    card_ids: tuple[str, ...]  # the card id in /proc/asound/cards (what hw:CARD= takes)
    card_names: tuple[str, ...] = ()  # long names, where siblings share a card id
    eeprom: tuple[str, ...] = ()  # lower-case substrings of the HAT EEPROM's product string
    pins: tuple[tuple[int, str], ...] = ()  # BCM pins the HAT uses, and what for


I2S = ((18, "I2S BCLK"), (19, "I2S LRCLK"), (20, "I2S DIN"), (21, "I2S DOUT"))
HAT_ID = ((0, "HAT ID EEPROM (ID_SD)"), (1, "HAT ID EEPROM (ID_SC)"))
I2C = ((2, "I2C SDA (codec control)"), (3, "I2C SCL (codec control)"))
SPI_BUS = ((9, "SPI0 bus MISO"), (10, "SPI0 bus MOSI"), (11, "SPI0 bus SCLK"))  # shareable with the MCP3008

HATS = (
    Hat("hifiberry-dacplusadc", "HiFiBerry DAC+ ADC", "hifiberry-dacplusadc", ("sndrpihifiberry",),
        ("snd_rpi_hifiberry_dacplusadc",), ("dac+ adc", "dacplusadc"), HAT_ID + I2C + I2S),
    Hat("pisound", "Blokas Pisound", "pisound", ("pisound",), (), ("pisound",),
        HAT_ID + I2S + SPI_BUS + ((8, "SPI0 CE0 of the MIDI/button microcontroller"), (17, "button"),
                                  (24, "SPI reset"), (25, "data-ready line"), (12, "ADC reset"),
                                  (13, "ADC oversampling"), (16, "ADC oversampling"), (26, "ADC oversampling"))),
    Hat("codeczero", "Raspberry Pi Codec Zero", "rpi-codeczero", ("Zero", "IQaudIOCODEC"), (),
        ("codec zero", "codeczero"),
        HAT_ID + I2C + I2S + ((23, "status LED"), (24, "status LED"), (27, "push-button pads"))),
)


@dataclass(frozen=True)
class Card:
    index: int
    id: str
    driver: str
    name: str


_CARD_LINE = re.compile(r"^\s*(\d+)\s+\[(\S+)\s*\]:\s*(.*?)\s+-\s+(.*)$")


def parse_asound_cards(text: str) -> list[Card]:
    """``/proc/asound/cards``: `` 0 [sndrpihifiberry]: HifiberryDacp - snd_rpi_hifiberry_dacplusadc``."""
    cards = []
    for line in text.splitlines():
        m = _CARD_LINE.match(line)
        if m:
            cards.append(Card(int(m.group(1)), m.group(2), m.group(3).strip(), m.group(4).strip()))
    return cards


@dataclass(frozen=True)
class BootConfig:
    path: Path
    overlays: tuple[str, ...]  # dtoverlay names, in order, without their parameters
    dtparams: dict[str, str]  # the last value of each dtparam (audio, spi, i2s, ...)


def parse_config_txt(text: str, path: Path = Path("config.txt")) -> BootConfig:
    """The overlays and dtparams of a Raspberry Pi ``config.txt``.

    Conditional sections (``[pi4]``, ``[cm4]``...) are read as if they all applied: the doctor asks
    "does this box load the overlay at all", and a section filter that excludes the box's own model
    is rare enough to be the admin's business.
    """
    overlays: list[str] = []
    params: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        key, value = (s.strip() for s in line.split("=", 1))
        if key == "dtoverlay" and value:
            name, *rest = value.split(",")
            overlays.append(name.strip())
            for item in rest:  # dtoverlay=vc4-kms-v3d,noaudio: parameters of that overlay
                k, _, v = item.partition("=")
                params[f"{name.strip()}:{k.strip()}"] = v.strip() or "on"
        elif key == "dtparam":
            for item in value.split(","):
                k, _, v = item.partition("=")
                params[k.strip()] = v.strip() or "on"
    return BootConfig(path, tuple(overlays), params)


def find_config_txt(ctx: Context) -> Path | None:
    for candidate in ("/boot/firmware/config.txt", "/boot/config.txt"):
        p = ctx.path(candidate)
        if p.is_file():
            return p
    return None


def read_boot_config(ctx: Context) -> BootConfig | None:
    p = find_config_txt(ctx)
    if p is None:
        return None
    return parse_config_txt(p.read_text(errors="replace"), Path("/") / p.relative_to(ctx.root))


def read_cards(ctx: Context) -> list[Card]:
    try:
        return parse_asound_cards(ctx.path("/proc/asound/cards").read_text(errors="replace"))
    except OSError:
        return []


def read_eeprom_product(ctx: Context) -> str | None:
    try:
        raw = ctx.path("/proc/device-tree/hat/product").read_bytes()
    except OSError:
        return None
    text = raw.rstrip(b"\0").decode("utf-8", "replace").strip()
    return text or None


def _card_matches(hat: Hat, card: Card) -> bool:
    if card.id not in hat.card_ids:
        return False
    return not hat.card_names or card.name in hat.card_names


def _eeprom_hat(product: str | None) -> Hat | None:
    if not product:
        return None
    low = product.lower()
    return next((h for h in HATS if any(s in low for s in h.eeprom)), None)


def check_hat(ctx: Context) -> Check:
    name = "hat"
    if not ctx.is_raspberry_pi():
        return skip(name, "not a Raspberry Pi (no 'Raspberry Pi' in /proc/device-tree/model); HAT checks apply on the box")
    boot = read_boot_config(ctx)
    if boot is None:
        return problem(name, "no /boot/firmware/config.txt or /boot/config.txt, so no HAT overlay is loaded",
                       "is the boot partition mounted? Add the overlay for your HAT there (see firmware/README.md).")
    cards = read_cards(ctx)
    product = read_eeprom_product(ctx)
    seated = _eeprom_hat(product)
    present = [(h, c) for h in HATS for c in cards if _card_matches(h, c)]
    configured = [h for h in HATS if h.overlay in boot.overlays]
    if present:
        hat, card = present[0]
        return ok(name, f"{hat.name} is card {card.index} (hw:CARD={card.id}), loaded by dtoverlay={hat.overlay} "
                        f"in {boot.path}")
    # Siblings sharing a card id: a HiFiBerry card with another board's overlay.
    for hat in HATS:
        for card in cards:
            if card.id in hat.card_ids and hat.card_names and card.name not in hat.card_names:
                wrong = next((o for o in boot.overlays if o.startswith(hat.overlay.split("-")[0])), "another overlay")
                return problem(name, f"card {card.index} is {card.name}, not the {hat.name} ({', '.join(hat.card_names)}): "
                                     f"{boot.path} loads dtoverlay={wrong}, which gives no line input",
                               f"in {boot.path} replace dtoverlay={wrong} with dtoverlay={hat.overlay} and reboot.")
    if seated is not None and seated not in configured:
        return problem(name, f"the HAT's EEPROM says {product!r} ({seated.name}) but {boot.path} does not load "
                             f"dtoverlay={seated.overlay}" + (f" (it loads {', '.join(boot.overlays)})" if boot.overlays else ""),
                       f"add dtoverlay={seated.overlay} and dtparam=audio=off to {boot.path} "
                       f"(firmware/hats/{seated.key}/config.txt) and reboot.")
    if configured:
        hat = configured[0]
        found = ", ".join(f"{c.id} ({c.name})" for c in cards) or "none"
        return problem(name, f"{boot.path} loads dtoverlay={hat.overlay} but there is no {hat.name} card in "
                             f"/proc/asound/cards (cards: {found})",
                       "power off, reseat the HAT on all 40 pins, and boot again; if it is a different HAT, use its "
                       "overlay (firmware/README.md). Changes to config.txt need a reboot.")
    usb = [c for c in cards if "usb" in c.driver.lower()]
    if usb:
        return ok(name, f"no HAT overlay; USB audio card {usb[0].index} ({usb[0].id}: {usb[0].name}) is present")
    known = ", ".join(f"dtoverlay={h.overlay} ({h.name})" for h in HATS)
    return problem(name, f"no audio HAT: {boot.path} loads none of {known}, and no HAT or USB card is present",
                   f"add your HAT's lines from firmware/hats/<hat>/config.txt to {boot.path} and reboot "
                   "(or plug in a USB audio interface and set audio.input_device).")


_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|[{}]|[^\s{}]+")


def parse_alsa_state(text: str) -> dict:
    """An ``alsactl store`` file (ALSA's configuration syntax) as nested dicts of strings.

    ``state.Zero { control.25 { name 'Aux Switch' value.0 true ... } }`` becomes
    ``{"state.Zero": {"control.25": {"name": "Aux Switch", "value.0": "true", ...}}}``.
    """
    tokens = [t.strip("'\"") if t[0] in "'\"" else t for t in _TOKEN.findall(text)]
    pos = 0

    def block() -> dict:
        nonlocal pos
        out: dict = {}
        while pos < len(tokens):
            key = tokens[pos]
            pos += 1
            if key == "}":
                return out
            if pos >= len(tokens):
                break
            if tokens[pos] == "{":
                pos += 1
                out[key] = block()
            else:
                out[key] = tokens[pos]
                pos += 1
        return out

    return block()


def mixer_switches(state: dict, card_id: str) -> dict[str, bool]:
    """Every boolean mixer control of ``card_id`` in a parsed state file: name -> on (all channels)."""
    out = {}
    for control in state.get(f"state.{card_id}", {}).values():
        if not isinstance(control, dict) or "name" not in control:
            continue
        values = [v for k, v in control.items() if k == "value" or k.startswith("value.")]
        if values and all(v in ("true", "false") for v in values):
            out[control["name"]] = all(v == "true" for v in values)
    return out


# The Codec Zero's line input is its AUX IN jack: these switches route it to the ADC.
CODEC_ZERO_LINE_IN = ("Aux Switch", "Mixin PGA Switch", "ADC Switch",
                      "Mixin Left Aux Left Switch", "Mixin Right Aux Right Switch")


def check_mixer(ctx: Context) -> Check:
    """The Codec Zero boots with its inputs muted: its stored mixer state must route AUX IN to the ADC."""
    name = "mixer"
    cards = read_cards(ctx)
    zero = next((c for c in cards if c.id in HATS[2].card_ids), None)
    if zero is None:
        return skip(name, "no Codec Zero card; the other HATs need no stored mixer state for their line input")
    state_file = ctx.path("/var/lib/alsa/asound.state")
    fix = ("run firmware/hats/codeczero/line-in.sh on the box (it sets the AUX IN route and runs alsactl store, "
           "so alsa-restore.service sets it at every boot).")
    try:
        text = state_file.read_text(errors="replace")
    except OSError:
        return problem(name, f"no stored mixer state ({state_file.relative_to(ctx.root)} is missing), so the Codec "
                             "Zero's line input (AUX IN) is off after boot", fix)
    switches = mixer_switches(parse_alsa_state(text), zero.id)
    if not switches:
        return problem(name, f"/var/lib/alsa/asound.state has no state for card {zero.id}, so its AUX IN is off after boot",
                       fix)
    off = [c for c in CODEC_ZERO_LINE_IN if switches.get(c) is not True]
    if off:
        return problem(name, f"the stored Codec Zero mixer state leaves the line input off ({', '.join(off)})", fix)
    return ok(name, "the Codec Zero's AUX IN line input is routed to the ADC in the stored mixer state")


def identify_hat(ctx: Context) -> Hat | None:
    """The HAT this box has: its card if present, else its EEPROM, else the overlay config.txt loads."""
    for hat in HATS:
        if any(_card_matches(hat, c) for c in read_cards(ctx)):
            return hat
    seated = _eeprom_hat(read_eeprom_product(ctx))
    if seated is not None:
        return seated
    boot = read_boot_config(ctx)
    if boot is not None:
        return next((h for h in HATS if h.overlay in boot.overlays), None)
    return None


def panel_pins(config) -> dict[int, str]:
    """Every BCM pin the configured panel takes (switches, encoders, LEDs, the MCP3008's chip select)."""
    from jambox.controls.gpio import SPI0_SELECT, knob_specs, led_pins, switch_specs

    used: dict[int, str] = {}
    for s in switch_specs(config):
        used.setdefault(s.pin, f"gpio.{s.name}_pin")
    for k in knob_specs(config):
        if k.encoder is not None:
            for part, pin in zip(("a", "b"), k.encoder):
                if pin >= 0:
                    used.setdefault(pin, f"gpio.{k.name}_encoder_{part}")
            if k.push_pin >= 0:
                used.setdefault(k.push_pin, f"gpio.{k.name}_encoder_push")
        elif k.adc_channel >= 0:
            select = config.gpio.adc_select
            used.setdefault(SPI0_SELECT[select], f"gpio.adc_select (the MCP3008 on SPI0 CE{select})")
    for name, pin in led_pins(config).items():
        used.setdefault(pin, f"gpio.led_{name}_pin")
    return used


def check_pins(ctx: Context, hat: Hat | None = None) -> Check:
    """No part of the panel on a pin the HAT needs (an LED on I2S LRCLK silences the card)."""
    name = "pins"
    if not ctx.config.controls.gpio:
        return skip(name, "controls.gpio is off")
    hat = hat or identify_hat(ctx)
    if hat is None:
        return skip(name, "no known HAT on this machine to check the panel's pins against")
    reserved = dict(hat.pins)
    clashes = [(pin, key, reserved[pin]) for pin, key in sorted(panel_pins(ctx.config).items()) if pin in reserved]
    if clashes:
        text = "; ".join(f"{key} = {pin} is used by the {hat.name} ({what})" for pin, key, what in clashes)
        return problem(name, text, f"move those parts to free pins in [gpio] (firmware/hats/{hat.key}/jambox.toml "
                                   "has a working set; firmware/WIRING.md the wiring).")
    return ok(name, f"the panel's pins are clear of the {hat.name}'s ({', '.join(str(p) for p in sorted(reserved))})")
