#!/usr/bin/env bash
# Route the Raspberry Pi Codec Zero's AUX IN (its line input) to the ADC and the DAC to the
# headphone/line out, then store the mixer state so that alsa-restore.service sets it at every boot.
# The Codec Zero boots with every input off; without this jambox hears silence.
# Run once on the box (deploy.sh --hat codeczero does): sudo ./line-in.sh [CARD]
# CARD is "Zero" for the green Raspberry Pi board, "IQaudIOCODEC" for the black IQaudIO one.
# `jambox doctor` checks the stored state (the "mixer" check).
set -euo pipefail

card="${1:-Zero}"

if ! command -v amixer >/dev/null 2>&1; then
    echo "line-in.sh: amixer is missing: sudo apt install alsa-utils" >&2
    exit 1
fi
if ! amixer -c "$card" info >/dev/null 2>&1; then
    echo "line-in.sh: no sound card '$card' (cat /proc/asound/cards; is dtoverlay=rpi-codeczero set?)" >&2
    exit 1
fi

control() {
    # control NAME VALUE: one mixer control by its exact name
    amixer -q -c "$card" cset name="$1" "$2"
}

# AUX IN -> input mixer (PGA) -> ADC, at unity gain; the microphones off.
control 'Aux Switch' on
control 'Aux Volume' 53
control 'Mixin Left Aux Left Switch' on
control 'Mixin Right Aux Right Switch' on
control 'Mixin Left Mic 1 Switch' off
control 'Mixin Left Mic 2 Switch' off
control 'Mixin Right Mic 1 Switch' off
control 'Mixin Right Mic 2 Switch' off
control 'Mixin PGA Switch' on
control 'Mixin PGA Volume' 7
control 'ADC Switch' on
control 'ADC Volume' 112

# DAC -> output mixer -> headphone/line out. No analogue bypass of AUX IN to the output:
# jambox mixes the dry bass in itself (audio.dry_level), so a bypass would double it.
control 'DAC Volume' 112
control 'Mixout Left DAC Left Switch' on
control 'Mixout Right DAC Right Switch' on
control 'Mixout Left Aux Left Switch' off
control 'Mixout Right Aux Right Switch' off
control 'Headphone Switch' on
control 'Headphone Volume' 49

alsactl store "$card"
echo "line-in.sh: AUX IN routed to the ADC on card $card and stored in /var/lib/alsa/asound.state"
