"""firmware/WIRING.md against the config defaults and gpiozero's map of the 40-pin header."""

import re
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from jambox.config.load import defaults

WIRING = Path(__file__).resolve().parents[2] / "firmware" / "WIRING.md"


def tables():
    """Every table row as a dict of its header cells."""
    rows, header = [], None
    for line in WIRING.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(cells[0]) <= {"-", " "}:
            rows.append(dict(zip(header, cells)))
    return rows


@pytest.fixture(scope="module")
def header_pins():
    """BCM number -> physical header pin, and the header's ground and 3.3 V pins (a Pi 4's J8)."""
    j8 = MockFactory(revision="c03111").board_info.headers["J8"]
    bcm = {int(p.name[4:]): n for n, p in j8.pins.items() if p.name.startswith("GPIO")}
    return bcm, {n for n, p in j8.pins.items() if p.name == "GND"}, {n for n, p in j8.pins.items() if p.name == "3V3"}


def test_every_config_key_in_the_tables_has_its_default(header_pins):
    d = defaults()
    checked = 0
    for row in tables():
        key = row.get("config key", "")
        m = re.fullmatch(r"(\w+)\.(\w+)(?: = (-?\d+))?", key)
        if not m:
            continue
        section, name, value = m.groups()
        expected = int(value) if value is not None else int(row["BCM"])
        if name == "footswitch2_pin":  # off by default; the table gives the pin to use when fitted
            assert d[section][name] == -1 and expected == 24
            continue
        assert d[section][name] == expected, f"{key}: WIRING.md says {expected}, default.toml {d[section][name]}"
        checked += 1
    assert checked == 18  # 4 switches, 5 MCP3008 keys, 4 encoder pins, 5 LEDs


def test_bcm_numbers_and_header_pins_agree(header_pins):
    bcm, ground, power = header_pins
    checked = 0
    for row in tables():
        if row.get("BCM", "").isdigit() and row.get("header", "").isdigit():
            assert bcm[int(row["BCM"])] == int(row["header"]), f"{row}: BCM {row['BCM']} is header {bcm[int(row['BCM'])]}"
            checked += 1
        for cell in row.values():
            for n in re.findall(r"GND \(header (\d+)\)", cell):
                assert int(n) in ground, f"header {n} is not a ground pin"
            for n in re.findall(r"3\.3 V \(header (\d+)\)", cell):
                assert int(n) in power, f"header {n} is not a 3.3 V pin"
    assert checked >= 17


def test_the_documented_gestures_are_the_default_mapping():
    c = defaults()["controls"]
    names = {"KEEP button": "keep", "SOFTER button": "softer", "MORE DISSONANCE button": "dissonance",
             "foot-switch jack, tip": "footswitch", "second foot-switch, ring": "footswitch2"}
    for row in tables():
        switch = names.get(row.get("part"))
        if switch is None:
            continue
        press = c["footswitch_action"] if switch == "footswitch" else c[f"{switch}_press"]
        assert (row["press"], row["long press"], row["double press"]) == (
            press or "-", c[f"{switch}_long"] or "-", c[f"{switch}_double"] or "-")
