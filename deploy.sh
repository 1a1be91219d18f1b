#!/usr/bin/env bash
# deploy.sh: install or update jambox on a Raspberry Pi over SSH, or on this machine.
#
#   ./deploy.sh [OPTIONS] pi@host      build here, copy to the box, install there (sudo on the box)
#   ./deploy.sh [OPTIONS] --local      install on this machine (as root)
#
# What it installs, each step skipped when it is already so (running it twice changes nothing):
#   apt packages; the jambox user (groups audio, gpio, spi); a release in /opt/jambox/releases/<id>
#   (a virtual environment with the package built from this checkout, and the models); the config
#   /etc/jambox/jambox.toml (kept when it was changed on the box: the new one lands beside it as
#   jambox.toml.new); the systemd unit; with --hat also the HAT's boot lines, /etc/asound.conf and the
#   hardware watchdog. Then /opt/jambox/current is switched to the release, the service is enabled and
#   restarted, and deploy.sh waits for it to report READY (systemd's Type=notify: the model loaded and
#   the audio open). If it does not, the previous release, unit and config are put back and restarted.
#
# Options:
#   --hat NAME          the audio HAT: hifiberry-dacplusadc, pisound or codeczero (firmware/README.md)
#   --root DIR          install under DIR instead of / (also JAMBOX_ROOT; on the box in remote mode), with
#                       no apt, no user and no systemctl: for tests and containers; the venv's paths then
#                       point into DIR, so it is not for building an SD card image
#   --no-apt            do not install apt packages
#   --no-user           do not create the jambox user and groups
#   --no-systemctl      do not enable or restart the service (containers); readiness by --ready-cmd
#   --systemctl PROG    the systemctl to call (default systemctl; with --root only called when given:
#                       tests put a stand-in here)
#   --ready-cmd CMD     the readiness check without systemctl (run by bash; $JAMBOX_CURRENT is the
#                       release, $JAMBOX_CONFIG the config); default: the installed `jambox doctor`
#                       on the config, model and soundfont. The real start, as systemd would see it:
#                       '"$JAMBOX_CURRENT/venv/bin/python" -m jambox.appliance.ready -- \
#                        "$JAMBOX_CURRENT/venv/bin/jambox" --config "$JAMBOX_CONFIG" run --duration 5'
#   --ready-timeout S   seconds to wait for READY (default 120, the unit's TimeoutStartSec)
#   --models DIR        the models to ship (default: models/ in this checkout)
#   --python PY         the Python that makes the venv on the target (default: python3)
#   --site-packages DIR use the packages in DIR (a .pth in the venv) instead of installing the
#                       dependencies: offline installs and tests; implies --offline
#   --offline           build and install without the network (pip --no-index, no build isolation)
#   --keep N            releases to keep (default 3)
#   --dry-run           print what would be done, change nothing
#   -h, --help          this text
#
# Checked by shellcheck; tests/deploy/test_deploy.py runs it for real with --local --root into a temp dir.
set -euo pipefail

PROG=deploy.sh
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

MODE=""
TARGET=""
ROOT=${JAMBOX_ROOT:-/}
HAT=""
APT=1
MAKE_USER=1
SYSTEMCTL=1
SYSTEMCTL_CMD=systemctl
SYSTEMCTL_GIVEN=0
READY_CMD=""
READY_TIMEOUT=120
MODELS=""
PYTHON=python3
SITE_PACKAGES=""
OFFLINE=0
KEEP=3
DRY_RUN=0
BUNDLE=""
PASS=()  # options handed on to the box in remote mode

HATS="hifiberry-dacplusadc pisound codeczero"
# What jambox needs at run time, plus a compiler for the dependencies without wheels for the Pi (aubio).
APT_PACKAGES=(python3 python3-venv python3-dev build-essential libfluidsynth3 fluid-soundfont-gm libportaudio2
              libsndfile1 alsa-utils)

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# run CMD...: do it, or with --dry-run only show it.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf '+'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

need_value() {
    if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --local) MODE=local ;;
            --root) need_value "$@"; ROOT=$2; PASS+=(--root "$2"); shift ;;
            --hat) need_value "$@"; HAT=$2; PASS+=(--hat "$2"); shift ;;
            --no-apt) APT=0; PASS+=(--no-apt) ;;
            --no-user) MAKE_USER=0; PASS+=(--no-user) ;;
            --no-systemctl) SYSTEMCTL=0; PASS+=(--no-systemctl) ;;
            --systemctl) need_value "$@"; SYSTEMCTL_CMD=$2; SYSTEMCTL_GIVEN=1; PASS+=(--systemctl "$2"); shift ;;
            --ready-cmd) need_value "$@"; READY_CMD=$2; PASS+=(--ready-cmd "$2"); shift ;;
            --ready-timeout) need_value "$@"; READY_TIMEOUT=$2; PASS+=(--ready-timeout "$2"); shift ;;
            --models) need_value "$@"; MODELS=$2; shift ;;
            --python) need_value "$@"; PYTHON=$2; PASS+=(--python "$2"); shift ;;
            --site-packages) need_value "$@"; SITE_PACKAGES=$2; OFFLINE=1; PASS+=(--site-packages "$2"); shift ;;
            --offline) OFFLINE=1; PASS+=(--offline) ;;
            --keep) need_value "$@"; KEEP=$2; PASS+=(--keep "$2"); shift ;;
            --dry-run) DRY_RUN=1; PASS+=(--dry-run) ;;
            --bundle) need_value "$@"; BUNDLE=$2; MODE=local; shift ;;  # internal: apply a built bundle
            -h|--help) usage; exit 0 ;;
            -*) die "unknown option $1 (see --help)" ;;
            *) [ -z "$TARGET" ] || die "one target only, not '$TARGET' and '$1'"; TARGET=$1; MODE=${MODE:-remote} ;;
        esac
        shift
    done
    [ -n "$MODE" ] || die "say where to install: ./deploy.sh pi@host, or ./deploy.sh --local (see --help)"
    if [ "$MODE" = local ] && [ -n "$TARGET" ]; then die "--local installs here: drop '$TARGET'"; fi
    if [ -n "$HAT" ]; then
        case " $HATS " in *" $HAT "*) ;; *) die "unknown HAT '$HAT'; expected one of: $HATS" ;; esac
    fi
    case "$KEEP" in ''|*[!0-9]*) die "--keep must be a whole number, not '$KEEP'" ;; esac
    case "$READY_TIMEOUT" in ''|*[!0-9]*) die "--ready-timeout must be whole seconds, not '$READY_TIMEOUT'" ;; esac
    [ "$KEEP" -ge 2 ] || die "--keep must be at least 2 (the current release and the one to roll back to)"
    ROOT=${ROOT%/}
}

# -- the bundle: everything the box needs, built from this checkout ----------------------------

build_python() {
    if [ -x "$SRC/.venv/bin/python" ]; then echo "$SRC/.venv/bin/python"; else echo python3; fi
}

# build_bundle DIR: the wheel, the models, the unit, the firmware files and this script, in DIR.
build_bundle() {
    local dir=$1 py src models
    py=$(build_python)
    models=${MODELS:-$SRC/models}
    [ -d "$models" ] || die "no models in $models: train and export them (jambox export), or give --models DIR"
    ls "$models"/*.onnx >/dev/null 2>&1 || die "no .onnx model in $models (expected jambox-int8.onnx)"
    mkdir -p "$dir/src" "$dir/wheel" "$dir/models"
    # The files git knows (tracked or new, not ignored): what is in the checkout, without the build junk.
    src=$dir/src
    if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$SRC" && git ls-files -z --cached --others --exclude-standard) |
            (cd "$SRC" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$src"
        git -C "$SRC" describe --always --dirty >"$dir/SOURCE" 2>/dev/null || echo unknown >"$dir/SOURCE"
    else
        tar -C "$SRC" --exclude=.venv --exclude=.git -cf - . | tar -xf - -C "$src"
        echo "not a git checkout" >"$dir/SOURCE"
    fi
    local pip_opts=(--quiet --no-deps --wheel-dir "$dir/wheel")
    if [ "$OFFLINE" = 1 ]; then pip_opts+=(--no-build-isolation --no-index); fi
    if ! "$py" -m pip wheel "${pip_opts[@]}" "$src" >"$dir/build.log" 2>&1; then
        cat "$dir/build.log" >&2
        die "building the jambox wheel failed (with $py)"
    fi
    rm -f "$dir/build.log"
    find "$models" -maxdepth 1 -type f \( -name '*.onnx' -o -name '*.tflite' -o -name '*.json' -o -name '*.md' \) \
        -exec cp -p {} "$dir/models/" \;
    cp -rp "$src/systemd" "$src/firmware" "$dir/"
    cp -p "$src/deploy.sh" "$dir/deploy.sh"
    rm -rf "$src"
    # The release id: the package's own file hashes (its RECORD) and the models, so the same code and
    # models make the same id on every run and any change makes a new one.
    "$py" - "$dir" >"$dir/RELEASE" <<'PY'
import hashlib, pathlib, sys, zipfile
d = pathlib.Path(sys.argv[1])
wheel = next((d / "wheel").glob("jambox-*.whl"))
h = hashlib.sha256()
with zipfile.ZipFile(wheel) as z:
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    h.update(z.read(record))
for m in sorted((d / "models").iterdir()):
    h.update(m.name.encode() + b"\0" + m.read_bytes())
version = wheel.name.split("-")[1]
print(f"{version}-{h.hexdigest()[:12]}")
PY
}

# -- installing, on the box (or in --root) ------------------------------------------------------

TXN=""  # the rollback record of this run
CHANGED=0

# backup PATH: remember PATH as it was (or that it was absent) before this run changes it.
backup() {
    local path=$1 key
    [ "$DRY_RUN" = 0 ] || return 0
    key=$(printf '%s' "$path" | sha256sum | cut -c1-16)
    [ -e "$TXN/$key.path" ] && return 0
    printf '%s' "$path" >"$TXN/$key.path"
    if [ -e "$path" ] || [ -L "$path" ]; then cp -a "$path" "$TXN/$key.data"; fi
}

restore_backups() {
    local rec path key
    for rec in "$TXN"/*.path; do
        [ -e "$rec" ] || continue
        key=$(basename "$rec" .path)
        path=$(cat "$rec")
        rm -rf "$path"
        if [ -e "$TXN/$key.data" ] || [ -L "$TXN/$key.data" ]; then cp -a "$TXN/$key.data" "$path"; fi
        say "restored $path"
    done
}

# install_file SRC DST MODE: put SRC at DST if it differs (atomically); says whether it changed.
install_file() {
    local src=$1 dst=$2 mode=$3
    if [ -f "$dst" ] && cmp -s "$src" "$dst"; then return 1; fi
    backup "$dst"
    run mkdir -p "$(dirname "$dst")"
    run install -m "$mode" "$src" "$dst.jambox-new"
    run mv -f "$dst.jambox-new" "$dst"
    say "installed $dst"
    CHANGED=1
    return 0
}

# install_conffile SRC DST: like dpkg's conffiles. DST is replaced only if nobody changed it since
# the last deploy (it still equals the copy kept as .DST.shipped); a changed one is kept and the new
# version is put beside it as DST.new.
install_conffile() {
    local src=$1 dst=$2 shipped
    shipped="$(dirname "$dst")/.$(basename "$dst").shipped"
    if [ ! -e "$dst" ] || { [ -f "$shipped" ] && cmp -s "$dst" "$shipped"; }; then
        install_file "$src" "$dst" 0644 || true
    elif ! cmp -s "$src" "$dst"; then
        if [ ! -f "$dst.new" ] || ! cmp -s "$src" "$dst.new"; then
            backup "$dst.new"
            run install -m 0644 "$src" "$dst.new"
        fi
        say "kept $dst (changed on this box); the shipped version is $dst.new"
    fi
    if [ ! -f "$shipped" ] || ! cmp -s "$src" "$shipped"; then
        backup "$shipped"
        run install -m 0644 "$src" "$shipped"
    fi
}

# boot_block FILE LINES_FILE: the HAT's lines between marker lines in config.txt, replacing an older block.
boot_block() {
    local cfg=$1 lines=$2 tmp
    tmp=$(mktemp)
    if [ -f "$cfg" ]; then
        awk '/^# >>> jambox/ {skip=1; next} /^# <<< jambox/ {skip=0; next} !skip' "$cfg" >"$tmp"
    fi
    { echo "# >>> jambox (deploy.sh --hat $HAT; firmware/hats/$HAT/config.txt)"
      grep -v '^#' "$lines" | sed '/^$/d'
      echo "# <<< jambox"; } >>"$tmp"
    if install_file "$tmp" "$cfg" 0644; then say "the boot configuration changed: reboot the box for it to take effect"; fi
    rm -f "$tmp"
}

apt_install() {
    if [ "$APT" = 0 ]; then return; fi
    if [ "$ROOT" != "" ]; then say "not installing apt packages into --root $ROOT (--no-apt)"; return; fi
    local missing=() p pkgs=("${APT_PACKAGES[@]}")
    if [ -n "$HAT" ]; then pkgs+=(python3-lgpio); fi
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then return; fi
    say "installing apt packages: ${missing[*]}"
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

make_user() {
    if [ "$MAKE_USER" = 0 ]; then return; fi
    if [ "$ROOT" != "" ]; then say "not creating the jambox user in --root $ROOT (--no-user)"; return; fi
    local g
    for g in audio gpio spi; do
        getent group "$g" >/dev/null || run groupadd --system "$g"
    done
    if ! id jambox >/dev/null 2>&1; then
        run useradd --system --user-group --home-dir /var/lib/jambox --no-create-home \
            --shell /usr/sbin/nologin --groups audio,gpio,spi jambox
    else
        for g in audio gpio spi; do
            id -nG jambox | tr ' ' '\n' | grep -qx "$g" || run usermod -aG "$g" jambox
        done
    fi
}

# make_release BUNDLE DIR: the venv with the wheel and the models; DIR/.complete when whole.
make_release() {
    local bundle=$1 rel=$2 wheel venv_opts=() pip_opts=() site extras=""
    if [ -f "$rel/.complete" ]; then say "release $(basename "$rel") is already installed"; return; fi
    wheel=$(ls "$bundle"/wheel/jambox-*.whl)
    say "making release $(basename "$rel")"
    run rm -rf "$rel"
    run mkdir -p "$rel"
    if [ -n "$SITE_PACKAGES" ]; then
        [ -d "$SITE_PACKAGES" ] || die "--site-packages $SITE_PACKAGES is not a directory"
        venv_opts+=(--without-pip)  # pip comes from those packages too
    elif [ -n "$HAT" ]; then
        venv_opts+=(--system-site-packages)  # python3-lgpio from apt: gpiozero's pin factory on the Pi
    fi
    run "$PYTHON" -m venv "${venv_opts[@]}" "$rel/venv"
    if [ -n "$SITE_PACKAGES" ]; then
        site=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("purelib", vars={"base": ""}).lstrip("/"))')
        if [ "$DRY_RUN" = 0 ]; then printf '%s\n' "$SITE_PACKAGES" >"$rel/venv/$site/_jambox_site_packages.pth"; fi
        pip_opts+=(--no-deps --no-index)
    elif [ "$OFFLINE" = 1 ]; then
        pip_opts+=(--no-index)
    fi
    [ -z "$HAT" ] || extras="[pi]"
    [ -n "$SITE_PACKAGES" ] && extras=""
    run "$rel/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_opts[@]}" "$wheel$extras"
    run mkdir -p "$rel/venv/share/jambox/models"
    run cp -rp "$bundle/models/." "$rel/venv/share/jambox/models/"
    run cp -p "$bundle/RELEASE" "$bundle/SOURCE" "$rel/"
    if [ "$DRY_RUN" = 0 ]; then
        "$rel/venv/bin/jambox" --version >/dev/null || die "the new release does not run: $rel/venv/bin/jambox --version"
    fi
    run touch "$rel/.complete"
    CHANGED=1
}

switch_current() {
    local opt=$1 id=$2 now
    now=$(readlink "$opt/current" 2>/dev/null || true)
    if [ "$now" = "releases/$id" ]; then return; fi
    backup "$opt/current"
    run ln -sfn "releases/$id" "$opt/current.jambox-new"
    run mv -Tf "$opt/current.jambox-new" "$opt/current"
    say "current release is now $id${now:+ (was ${now#releases/})}"
    CHANGED=1
}

# use_systemctl: manage the service through systemd (on the box itself, or with an explicit --systemctl).
use_systemctl() {
    [ "$SYSTEMCTL" = 1 ] && { [ "$ROOT" = "" ] || [ "$SYSTEMCTL_GIVEN" = 1 ]; }
}

service_ctl() { "$SYSTEMCTL_CMD" "$@"; }

# ready: is the new release up? systemd's answer (Type=notify), or --ready-cmd without systemctl.
ready() {
    local opt=$1 etc=$2
    if use_systemctl; then
        run "$SYSTEMCTL_CMD" daemon-reload
        run "$SYSTEMCTL_CMD" enable --quiet jambox.service
        if [ "$CHANGED" = 0 ] && service_ctl is-active --quiet jambox.service; then
            say "nothing changed and jambox.service is active"
            return 0
        fi
        run "$SYSTEMCTL_CMD" reset-failed jambox.service 2>/dev/null || true
        say "restarting jambox.service and waiting up to ${READY_TIMEOUT}s for READY"
        # With Type=notify, restart returns once the service has sent READY=1, or fails.
        run timeout "$READY_TIMEOUT" "$SYSTEMCTL_CMD" restart jambox.service || return 1
        [ "$DRY_RUN" = 1 ] || service_ctl is-active --quiet jambox.service || return 1
        return 0
    fi
    local cmd=$READY_CMD
    if [ -z "$cmd" ]; then
        # shellcheck disable=SC2016  # expanded by the bash that runs it, with the variables below
        cmd='"$JAMBOX_CURRENT/venv/bin/jambox" --config "$JAMBOX_CONFIG" doctor --only config --only model --only soundfont'
    fi
    say "checking the installed release: $cmd"
    [ "$DRY_RUN" = 0 ] || return 0
    # The release's own models, as the service finds them: not a JAMBOX_MODELS of the shell deploying it.
    env -u JAMBOX_MODELS JAMBOX_CURRENT="$opt/current" JAMBOX_CONFIG="$etc/jambox.toml" PYTHONDONTWRITEBYTECODE=1 \
        timeout "$READY_TIMEOUT" bash -c "$cmd"
}

rollback() {
    local opt=$1 reason=$2
    say "the new release is not ready ($reason): rolling back"
    if use_systemctl && [ ! -s "$TXN/previous" ]; then
        # A first install that never got ready: nothing to go back to, so do not leave it enabled.
        service_ctl disable --now jambox.service || true
    fi
    restore_backups
    if use_systemctl; then
        service_ctl daemon-reload || true
        if [ -L "$opt/current" ]; then
            service_ctl restart jambox.service || say "the previous release did not start either: see journalctl -u jambox"
        fi
    fi
}

prune() {
    local opt=$1 keep=$2 cur prev r n=0
    cur=$(readlink "$opt/current" 2>/dev/null || true)
    prev=""
    [ -z "$TXN" ] || [ ! -d "$TXN" ] || prev=$(cat "$TXN/previous" 2>/dev/null || true)
    # newest first; never the current one or the one to roll back to
    while IFS= read -r r; do
        n=$((n + 1))
        if [ "$n" -le "$keep" ] || [ "releases/$r" = "$cur" ] || [ "releases/$r" = "$prev" ]; then continue; fi
        run rm -rf "${opt:?}/releases/$r"
        say "removed old release $r"
    done < <(find "$opt/releases" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %f\n' 2>/dev/null | sort -rn | cut -d' ' -f2)
}

apply_bundle() {
    local bundle=$1 opt etc id rel shipped_config
    opt="$ROOT/opt/jambox"
    etc="$ROOT/etc/jambox"
    id=$(cat "$bundle/RELEASE")
    rel="$opt/releases/$id"
    if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ] && [ "$ROOT" = "" ]; then die "installing into / needs root (sudo)"; fi
    say "release $id from $(cat "$bundle/SOURCE") into ${ROOT:-/}"

    apt_install
    make_user
    run mkdir -p "$opt/releases" "$etc"
    if [ "$DRY_RUN" = 0 ]; then
        TXN=$(mktemp -d "${TMPDIR:-/tmp}/jambox-deploy-txn.XXXXXX")
        readlink "$opt/current" >"$TXN/previous" 2>/dev/null || true
    fi

    make_release "$bundle" "$rel"

    # configuration: the HAT's box config, or the generic service config
    if [ -n "$HAT" ]; then shipped_config="$bundle/firmware/hats/$HAT/jambox.toml"; else shipped_config="$bundle/systemd/jambox.toml"; fi
    install_conffile "$shipped_config" "$etc/jambox.toml"
    if [ -n "$HAT" ]; then
        install_conffile "$bundle/firmware/hats/$HAT/asound.conf" "$ROOT/etc/asound.conf"
        install_file "$bundle/firmware/system/jambox-watchdog.conf" "$ROOT/etc/systemd/system.conf.d/jambox-watchdog.conf" 0644 || true
        local boot="$ROOT/boot/firmware/config.txt"
        [ -f "$boot" ] || [ ! -f "$ROOT/boot/config.txt" ] || boot="$ROOT/boot/config.txt"
        boot_block "$boot" "$bundle/firmware/hats/$HAT/config.txt"
        if [ "$HAT" = codeczero ] && [ "$ROOT" = "" ] && grep -q '\[Zero' /proc/asound/cards 2>/dev/null; then
            run bash "$bundle/firmware/hats/codeczero/line-in.sh" Zero
        fi
    fi

    # the unit and its retry
    install_file "$bundle/systemd/jambox.service" "$ROOT/etc/systemd/system/jambox.service" 0644 || true
    install_file "$bundle/systemd/jambox-retry.service" "$ROOT/etc/systemd/system/jambox-retry.service" 0644 || true

    switch_current "$opt" "$id"

    if ready "$opt" "$etc"; then
        [ "$CHANGED" = 1 ] || say "nothing to change: already up to date"
        say "ready: release $id"
        prune "$opt" "$KEEP"
        [ -z "$TXN" ] || rm -rf "$TXN"
        return 0
    fi
    rollback "$opt" "readiness check failed"
    [ -z "$TXN" ] || rm -rf "$TXN"
    die "deploy of release $id failed and was rolled back; the box runs what it ran before"
}

# -- remote: build here, run this script on the box ---------------------------------------------

STAGE=""
cleanup() { if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi; }

deploy_remote() {
    local stage remote="/tmp/jambox-deploy.$$"
    STAGE=$(mktemp -d)
    stage=$STAGE
    trap cleanup EXIT
    say "building the bundle from $SRC"
    build_bundle "$stage/bundle"
    say "copying release $(cat "$stage/bundle/RELEASE") to $TARGET:$remote"
    run ssh "$TARGET" "rm -rf '$remote' && mkdir -p '$remote'"
    if [ "$DRY_RUN" = 1 ]; then
        printf '+ tar -C %q -czf - bundle | ssh %q tar -xzf - -C %q\n' "$stage" "$TARGET" "$remote"
    else
        # shellcheck disable=SC2029  # $remote is meant to expand here: it names the box's temp dir
        tar -C "$stage" -czf - bundle | ssh "$TARGET" "tar -xzf - -C '$remote'"
    fi
    local args=("${PASS[@]}" --bundle "$remote/bundle") quoted
    quoted=$(printf ' %q' "${args[@]}")
    run ssh -t "$TARGET" "sudo bash '$remote/bundle/deploy.sh'$quoted; status=\$?; rm -rf '$remote'; exit \$status"
}

main() {
    parse_args "$@"
    if [ "$MODE" = remote ]; then deploy_remote; return; fi
    if [ -n "$BUNDLE" ]; then apply_bundle "$BUNDLE"; return; fi
    STAGE=$(mktemp -d)
    trap cleanup EXIT
    build_bundle "$STAGE/bundle"
    apply_bundle "$STAGE/bundle"
}

main "$@"
