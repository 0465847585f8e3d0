#!/usr/bin/env bash
# Check the README's promise on a genuinely fresh Debian: in a minimal Debian
# bookworm container (no MPI, no compilers, no BLAS), as root,
#
#     CI=true bash .ci/run     (what CI runs: ./run test, which sets everything up)
#     ./run demo
#
# must both succeed from nothing. Run from the repository root, as root, on a
# Debian/Ubuntu host:
#
#     deploy/test-fresh-debian.sh
#
# What it does:
#   1. installs debootstrap, buildah and podman on the host if they are missing;
#   2. builds the base image (debootstrap --variant=minbase bookworm plus only
#      python3, ca-certificates and git, as a fresh Debian server has) and
#      `podman import`s it, unless that image already exists;
#   3. makes a container from it and copies in a clean clone of the current
#      commit (uncommitted changes are NOT tested) at /work/main and ../shared
#      (read-only test data, when present beside the repository) at /work/shared;
#   4. runs `CI=true bash .ci/run` and then `./run demo` inside, logging each to a
#      file, and prints the wall times, the test summary and the demo table;
#   5. removes its container (set KEEP=1 to keep it for a look inside).
# Exit status: 0 when both steps succeeded.
#
# Commands run inside with `buildah run --isolation=chroot`: on hosts whose
# cgroups are in hybrid v1/v2 mode crun refuses to start OCI containers, and
# `podman run` fails on rlimits; chroot isolation needs neither (it shares the
# host's network, which is all we need).
#
# Knobs (environment):
#   IMAGE          base image name             (default: localhost/landia-fresh-bookworm:base)
#   REBUILD=1      rebuild the base image even if it exists
#   DEBIAN_MIRROR  mirror for debootstrap      (default: http://deb.debian.org/debian)
#   LOGDIR         where the logs go           (default: /tmp/fresh-landia/<date-time>)
#   KEEP=1         keep the container afterwards (its name is printed)
#
# The first run takes ~15-20 minutes on 2 cores, nearly all of it PETSc's build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
IMAGE="${IMAGE:-localhost/landia-fresh-bookworm:base}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LOGDIR="${LOGDIR:-/tmp/fresh-landia/$(date +%Y%m%d-%H%M%S)}"
CTR="landia-fresh-$$"

say() { printf '[fresh-debian] %s\n' "$*" >&2; }
die() { printf '[fresh-debian] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
# Run a command inside the container as root.
inside() { buildah run --isolation=chroot "$CTR" -- "$@"; }

(( EUID == 0 )) || die "run me as root (debootstrap and buildah need it)"
git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null || die "$ROOT is not a git checkout with a commit"
mkdir -p "$LOGDIR"

# ---------------------------------------------------------------- 1. host tools
missing=()
for tool in debootstrap buildah podman; do have "$tool" || missing+=("$tool"); done
if (( ${#missing[@]} )); then
    say "installing on the host: ${missing[*]}"
    apt-get update -q >"$LOGDIR/host-apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$LOGDIR/host-apt.log" 2>&1 \
        || die "apt-get install ${missing[*]} failed, see $LOGDIR/host-apt.log"
fi

# ---------------------------------------------------------------- 2. base image
if [[ "${REBUILD:-0}" == 1 ]] || ! podman image exists "$IMAGE"; then
    rootfs="$(mktemp -d /tmp/landia-rootfs.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    # minbase lacks python3 (a fresh Debian server has it), ca-certificates (for
    # HTTPS to PyPI) and git: those three only. No MPI, compilers or BLAS.
    say "debootstrap bookworm (minbase + python3 ca-certificates git) -> $IMAGE"
    debootstrap --variant=minbase --include=python3,ca-certificates,git \
        bookworm "$rootfs" "$DEBIAN_MIRROR" >"$LOGDIR/debootstrap.log" 2>&1 \
        || die "debootstrap failed, see $LOGDIR/debootstrap.log"
    # The apt sources of a normal install (updates and security too); no package lists,
    # as on a machine where apt-get update has not run yet.
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import -q - "$IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

# ---------------------------------------------------------------- 3. container + sources
buildah from --name "$CTR" "$IMAGE" >/dev/null
stage="$(mktemp -d /tmp/landia-stage.XXXXXX)"
cleanup() {
    rm -rf "$stage"
    if [[ "${KEEP:-0}" == 1 ]]; then
        say "container kept: $CTR  (buildah run --isolation=chroot $CTR -- bash; buildah rm $CTR)"
    else
        buildah rm "$CTR" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

# Hosts behind a TLS-intercepting proxy trust extra CAs (/usr/local/share/ca-certificates);
# without them HTTPS to PyPI fails inside. Install them the Debian way and point pip at the
# system bundle (pip otherwise uses its own certifi bundle). Nothing else of the host goes in.
shopt -s nullglob
local_cas=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob
if (( ${#local_cas[@]} )); then
    say "host trusts ${#local_cas[@]} local CA(s): installing them in the container, pip told to use the system bundle"
    for ca in "${local_cas[@]}"; do buildah copy "$CTR" "$ca" /usr/local/share/ca-certificates/ >/dev/null; done
    inside update-ca-certificates >/dev/null 2>&1
    inside sh -c 'printf "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n" > /etc/pip.conf'
fi

commit="$(git -C "$ROOT" rev-parse --short HEAD)"
[[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]] \
    || say "note: uncommitted changes in $ROOT are not tested (a clean clone of $commit is)"
git clone -q "$ROOT" "$stage/main"
git -C "$stage/main" checkout -q "$(git -C "$ROOT" rev-parse HEAD)"
buildah copy "$CTR" "$stage/main" /work/main >/dev/null
if [[ -d "$ROOT/../shared" ]]; then
    buildah copy "$CTR" "$ROOT/../shared" /work/shared >/dev/null
else
    say "note: no ../shared beside $ROOT: tests that need its data will skip"
fi
say "container $CTR from $IMAGE with a clean clone of $commit; logs in $LOGDIR"

# ---------------------------------------------------------------- 4. CI, then the demo
# Each step: run inside, log to a file, record exit status and wall time.
step() {   # step NAME LOGFILE COMMAND
    local name="$1" log="$2" cmd="$3" t0=$SECONDS rc=0
    say "$name: $cmd  (log: $log)"
    inside bash -c "cd /work/main && $cmd" >"$log" 2>&1 || rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >>"$LOGDIR/timings.tsv"
    say "$name: exit $rc after $((SECONDS - t0)) s"
    return "$rc"
}
: >"$LOGDIR/timings.tsv"
rc_ci=0 rc_demo=0
step ci "$LOGDIR/ci.log" "CI=true bash .ci/run" || rc_ci=$?
step demo "$LOGDIR/demo.log" "./run demo" || rc_demo=$?

# ---------------------------------------------------------------- report
echo
echo "== fresh Debian bookworm, commit $commit, $(nproc) cores =="
while IFS=$'\t' read -r name rc secs; do
    printf '%-5s exit %-3s %4d s (%dm%02ds)\n' "$name" "$rc" "$secs" $((secs / 60)) $((secs % 60))
done <"$LOGDIR/timings.tsv"
echo
echo "-- setup and tests (ci.log) --"
grep -E '^\[landia setup\] setup checked|^\[landia setup\] ERROR|^[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s|^\[landia test\] summary' \
    "$LOGDIR/ci.log" || tail -n 30 "$LOGDIR/ci.log"
echo
echo "-- demo (demo.log) --"
if (( rc_demo == 0 )); then sed -n '/^landia demo:/,$p' "$LOGDIR/demo.log"; else tail -n 30 "$LOGDIR/demo.log"; fi
echo
echo "logs: $LOGDIR"
(( rc_ci == 0 && rc_demo == 0 ))
