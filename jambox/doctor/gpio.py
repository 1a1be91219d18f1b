"""The panel on the GPIO: can every configured pin be had, and is SPI on for the MCP3008 knobs?

The GPIO check builds the real controls and LEDs (:mod:`jambox.controls.gpio`) on gpiozero's pin
factory, exactly as ``jambox run`` does, and closes them at once: a pin held by another program
(or by the running jambox service), a pin given twice in the config, or a machine with no GPIO
each come back as the GpioError that ``jambox run`` would die of, in the same words.
"""

from __future__ import annotations

from jambox.doctor import Check, Context, ok, problem, skip


def check_gpio(ctx: Context, *, pin_factory=None) -> Check:
    name = "gpio"
    if not ctx.config.controls.gpio:
        return skip(name, "controls.gpio is off (keyboard and MIDI controls only)")
    from jambox.controls.gpio import GpioControls, make_status_leds, switch_specs
    from jambox.errors import GpioError

    opened = []
    try:
        opened.append(make_status_leds(ctx.config, pin_factory=pin_factory))
        opened.append(GpioControls(ctx.config, lambda action: None, pin_factory=pin_factory, start=False))
    except GpioError as e:
        text = str(e)
        if "no GPIO" in text:
            fix = "on a Raspberry Pi install lgpio (deploy.sh does: pip install 'jambox[pi]'); elsewhere set controls.gpio = false."
        elif "in use" in text.lower() or "busy" in text.lower():
            fix = ("another program holds the pin: stop it (if it is the jambox service, sudo systemctl stop jambox "
                   "first), or move the part to a free pin in [gpio] (firmware/WIRING.md).")
        else:
            fix = "give each part its own free BCM pin in [gpio] (firmware/WIRING.md has the default wiring)."
        return problem(name, text, fix)
    finally:
        for part in reversed(opened):
            part.close()
    switches = len(switch_specs(ctx.config))
    return ok(name, f"{switches} switches, the knobs ({ctx.config.controls.knobs}) and 5 LEDs claimed their pins and "
                    "were released")


def check_spi(ctx: Context) -> Check:
    """The MCP3008 needs the SPI0 bus: dtparam=spi=on in config.txt gives /dev/spidev0.<CE>."""
    name = "spi"
    cfg = ctx.config
    if not cfg.controls.gpio or cfg.controls.knobs != "mcp3008":
        return skip(name, "no MCP3008 knobs configured (controls.gpio off or controls.knobs is not \"mcp3008\")")
    if not ctx.is_raspberry_pi():
        return skip(name, "not a Raspberry Pi; SPI is checked on the box")
    from jambox.doctor.hat import read_boot_config

    select = cfg.gpio.adc_select
    dev = f"/dev/spidev0.{select}"
    boot = read_boot_config(ctx)
    if boot is not None and boot.dtparams.get("spi") != "on":
        return problem(name, f"SPI is off in {boot.path} (no dtparam=spi=on), so the MCP3008 knobs cannot be read "
                             "through the SPI bus", f"add dtparam=spi=on to {boot.path} and reboot.")
    if not ctx.path(dev).exists():
        return problem(name, f"{dev} is missing although SPI is configured", "reboot after enabling SPI; check that "
                             "nothing else (another overlay) claims SPI0.")
    return ok(name, f"{dev} is there for the MCP3008 on CE{select}")
