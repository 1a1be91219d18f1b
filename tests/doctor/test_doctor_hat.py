"""The HAT and mixer checks against fake /proc, /boot and /var/lib/alsa trees of boxes we do not have."""

from __future__ import annotations

from pathlib import Path

import pytest

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, SKIP, Context
from jambox.doctor.hat import (CODEC_ZERO_LINE_IN, check_hat, check_mixer, mixer_switches, parse_alsa_state,
                               parse_asound_cards, parse_config_txt)

CARDS_HIFIBERRY = """\
 0 [sndrpihifiberry]: HifiberryDacp - snd_rpi_hifiberry_dacplusadc
                      snd_rpi_hifiberry_dacplusadc
 1 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
"""
CARDS_HIFIBERRY_DACPLUS = """\
 0 [sndrpihifiberry]: HifiberryDacp - snd_rpi_hifiberry_dacplus
                      snd_rpi_hifiberry_dacplus
"""
CARDS_PISOUND = " 2 [pisound        ]: pisound - pisound\n                      pisound\n"
CARDS_ZERO = " 0 [Zero           ]: RPi-Codec-Zero - RPi Codec Zero\n                      RPi Codec Zero\n"
CARDS_USB = " 1 [Device         ]: USB-Audio - USB Audio Device\n                      C-Media USB Audio Device at usb-xhci\n"
CARDS_HDMI_ONLY = " 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0\n                      vc4-hdmi-0\n"


def make_box(root: Path, *, cards: str | None = None, config_txt: str | None = None, boot_dir="boot/firmware",
             eeprom: str | None = None, pi: bool = True, alsa_state: str | None = None) -> Context:
    if pi:
        (root / "proc/device-tree").mkdir(parents=True, exist_ok=True)
        (root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    if eeprom is not None:
        (root / "proc/device-tree/hat").mkdir(parents=True, exist_ok=True)
        (root / "proc/device-tree/hat/product").write_bytes(eeprom.encode() + b"\0")
    if cards is not None:
        (root / "proc/asound").mkdir(parents=True, exist_ok=True)
        (root / "proc/asound/cards").write_text(cards)
    if config_txt is not None:
        (root / boot_dir).mkdir(parents=True, exist_ok=True)
        (root / boot_dir / "config.txt").write_text(config_txt)
    if alsa_state is not None:
        (root / "var/lib/alsa").mkdir(parents=True, exist_ok=True)
        (root / "var/lib/alsa/asound.state").write_text(alsa_state)
    return Context(config=load_config(search=[]), root=root)


def test_parse_asound_cards():
    cards = parse_asound_cards(CARDS_HIFIBERRY)
    assert [(c.index, c.id, c.name) for c in cards] == [(0, "sndrpihifiberry", "snd_rpi_hifiberry_dacplusadc"),
                                                        (1, "vc4hdmi0", "vc4-hdmi-0")]


def test_parse_config_txt_ignores_comments_and_reads_params():
    boot = parse_config_txt("# dtoverlay=pisound\ndtparam=audio=off\ndtparam=i2c_arm=on,spi=on\n"
                            "[pi4]\ndtoverlay=vc4-kms-v3d,noaudio\ndtoverlay=hifiberry-dacplusadc  # the HAT\n")
    assert boot.overlays == ("vc4-kms-v3d", "hifiberry-dacplusadc")
    assert boot.dtparams["audio"] == "off" and boot.dtparams["spi"] == "on" and boot.dtparams["i2c_arm"] == "on"
    assert boot.dtparams["vc4-kms-v3d:noaudio"] == "on"


def test_a_laptop_skips_the_hat_check(tmp_path):
    assert check_hat(make_box(tmp_path, pi=False)).status == SKIP


@pytest.mark.parametrize("cards,overlay,expect", [
    (CARDS_HIFIBERRY, "hifiberry-dacplusadc", "HiFiBerry DAC+ ADC is card 0 (hw:CARD=sndrpihifiberry)"),
    (CARDS_PISOUND, "pisound", "Blokas Pisound is card 2 (hw:CARD=pisound)"),
    (CARDS_ZERO, "rpi-codeczero", "Raspberry Pi Codec Zero is card 0 (hw:CARD=Zero)"),
])
def test_each_supported_hat_is_recognised(tmp_path, cards, overlay, expect):
    c = check_hat(make_box(tmp_path, cards=cards, config_txt=f"dtparam=audio=off\ndtoverlay={overlay}\n"))
    assert c.status == OK and expect in c.message


def test_old_boot_path_is_read_too(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_PISOUND, config_txt="dtoverlay=pisound\n", boot_dir="boot"))
    assert c.status == OK and "/boot/config.txt" in c.message


def test_overlay_configured_but_no_card_means_the_hat_is_not_seated(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_HDMI_ONLY, config_txt="dtoverlay=pisound\n"))
    assert c.status == PROBLEM
    assert "loads dtoverlay=pisound but there is no Blokas Pisound card" in c.message
    assert "reseat the HAT" in c.fix


def test_the_wrong_hifiberry_overlay_gives_a_card_without_input(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_HIFIBERRY_DACPLUS, config_txt="dtoverlay=hifiberry-dacplus\n"))
    assert c.status == PROBLEM
    assert "snd_rpi_hifiberry_dacplus" in c.message and "no line input" in c.message
    assert "replace dtoverlay=hifiberry-dacplus with dtoverlay=hifiberry-dacplusadc" in c.fix


def test_a_seated_hat_without_its_overlay_is_named_from_its_eeprom(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_HDMI_ONLY, config_txt="dtparam=audio=on\n", eeprom="pisound"))
    assert c.status == PROBLEM and "EEPROM says 'pisound'" in c.message
    assert "dtoverlay=pisound" in c.fix


def test_nothing_configured_and_no_card(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_HDMI_ONLY, config_txt="dtparam=audio=on\n"))
    assert c.status == PROBLEM and c.message.startswith("no audio HAT")
    assert "firmware/hats/" in c.fix


def test_a_usb_interface_instead_of_a_hat_is_fine(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_HDMI_ONLY + CARDS_USB, config_txt=""))
    assert c.status == OK and "USB audio card 1" in c.message


def test_no_config_txt_at_all(tmp_path):
    c = check_hat(make_box(tmp_path, cards=CARDS_PISOUND))
    assert c.status == PROBLEM and "config.txt" in c.message


# -- the Codec Zero's stored mixer state ---------------------------------------------------------

def alsa_state(card: str, switches: dict[str, bool]) -> str:
    """An `alsactl store` file with these boolean controls (two channels each)."""
    lines = [f"state.{card} {{"]
    for n, (name, on) in enumerate(switches.items(), 1):
        v = "true" if on else "false"
        lines += [f"\tcontrol.{n} {{", "\t\tiface MIXER", f"\t\tname '{name}'", f"\t\tvalue.0 {v}", f"\t\tvalue.1 {v}",
                  "\t\tcomment {", "\t\t\taccess 'read write'", "\t\t\ttype BOOLEAN", "\t\t\tcount 2", "\t\t}", "\t}"]
    lines += ["\tcontrol.99 {", "\t\tiface MIXER", "\t\tname 'Aux Volume'", "\t\tvalue.0 53", "\t\tvalue.1 53",
              "\t\tcomment {", "\t\t\trange '0 - 63'", "\t\t}", "\t}", "}"]
    return "\n".join(lines) + "\n"


def test_parse_alsa_state_reads_switches_not_volumes():
    state = parse_alsa_state(alsa_state("Zero", {"Aux Switch": True, "DAC EQ Switch": False}))
    assert mixer_switches(state, "Zero") == {"Aux Switch": True, "DAC EQ Switch": False}
    assert mixer_switches(state, "pisound") == {}


def test_mixer_is_skipped_without_a_codec_zero(tmp_path):
    assert check_mixer(make_box(tmp_path, cards=CARDS_PISOUND)).status == SKIP


def test_codec_zero_without_stored_state_is_a_problem(tmp_path):
    c = check_mixer(make_box(tmp_path, cards=CARDS_ZERO))
    assert c.status == PROBLEM and "AUX IN" in c.message and "line-in.sh" in c.fix


def test_codec_zero_with_the_line_input_routed(tmp_path):
    ctx = make_box(tmp_path, cards=CARDS_ZERO, alsa_state=alsa_state("Zero", dict.fromkeys(CODEC_ZERO_LINE_IN, True)))
    assert check_mixer(ctx).status == OK


def test_codec_zero_with_the_aux_input_muted(tmp_path):
    switches = dict.fromkeys(CODEC_ZERO_LINE_IN, True) | {"Aux Switch": False}
    c = check_mixer(make_box(tmp_path, cards=CARDS_ZERO, alsa_state=alsa_state("Zero", switches)))
    assert c.status == PROBLEM and "Aux Switch" in c.message


def test_codec_zero_state_stored_for_another_card_only(tmp_path):
    c = check_mixer(make_box(tmp_path, cards=CARDS_ZERO, alsa_state=alsa_state("sndrpihifiberry", {"x": True})))
    assert c.status == PROBLEM and "no state for card Zero" in c.message


def test_pins_check_finds_the_hat_from_proc_and_reports_clashes(tmp_path):
    from jambox.doctor.hat import check_pins

    ctx = make_box(tmp_path, cards=CARDS_PISOUND, config_txt="dtoverlay=pisound\n")
    ctx.config = ctx.config.with_overrides({"controls": {"gpio": True}})
    c = check_pins(ctx)
    assert c.status == PROBLEM and "gpio.keep_pin = 17 is used by the Blokas Pisound" in c.message


def test_pins_check_skips_without_a_known_hat(tmp_path):
    from jambox.doctor.hat import check_pins

    ctx = make_box(tmp_path, cards=CARDS_USB, config_txt="")
    ctx.config = ctx.config.with_overrides({"controls": {"gpio": True}})
    assert check_pins(ctx).status == SKIP
