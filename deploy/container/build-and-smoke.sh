#!/usr/bin/env bash
# Build the landia container image with buildah and smoke-test it, from a fresh
# Debian/Ubuntu machine without a Docker engine and without registry access
# (only the Debian mirror and PyPI need to be reachable). Run from anywhere, as root:
#
#     deploy/container/build-and-smoke.sh
#
# Steps (each timed; a PASS/FAIL summary at the end; exit status 0 only if all pass):
#   1. host tools: installs buildah, podman and debootstrap with apt-get if missing;
#   2. base image: debootstrap --variant=minbase bookworm, `podman import`ed and tagged
#      $BASE_IMAGE (default localhost/debian:12-slim) -- reused when it already exists
#      (REBUILD_BASE=1 to rebuild). The Dockerfile gets it through --build-arg BASE_IMAGE;
#      its default is the public debian:12.15-slim for machines that can pull;
#   3. image: `buildah bud --layers --format docker` of the top-level Dockerfile, target
#      `runtime` -> $IMAGE (default localhost/landia:<version>), then target `test`
#      (runtime + pytest + tests/) -> $IMAGE-test. pip's cache is a buildah cache mount,
#      so a rebuild reuses the compiled PETSc wheel; unchanged layers are reused too;
#   4. smoke test inside containers made with `buildah from` and run with
#      `buildah run --isolation=chroot` (podman run fails on rlimits on these hosts, and
#      crun refuses hybrid cgroups; chroot isolation needs neither):
#        - landia --version, running as the non-root user, HEALTHCHECK in the image config
#        - mpirun -n 2: mpi4py + petsc4py import and a parallel PETSc Vec sum over 2 ranks
#        - landia demo --quick (the embedded experiment, short: it launches its runs with
#          mpirun -n 2 itself)
#        - mpirun -n 2 landia cycle --config smoke --run-dir /tmp/run, if `landia cycle
#          --help` works in the image (skipped, with a message, otherwise), then the same
#          command again: it must resume from the checkpoint and run 0 cycles
#        - python -m pytest -q tests/unit -m "not shared_data" (test image)
#
# Knobs (environment):
#   BASE_IMAGE     local base image name           (default localhost/debian:12-slim)
#   REBUILD_BASE=1 rebuild the base image even if it exists
#   DEBIAN_MIRROR  mirror for debootstrap and apt  (default http://deb.debian.org/debian)
#   IMAGE          image name                      (default localhost/landia:<pyproject version>)
#   NO_CACHE=1     build without reusing layers (the pip cache mount still applies)
#   SKIP_BUILD=1   only run the smoke test on an existing $IMAGE / $IMAGE-test
#   LOGDIR         logs                            (default /tmp/landia-container/<date-time>)
#   SAVE=1         also write $LOGDIR/landia.docker.tar (podman save --format docker-archive),
#                  the input of deploy/container/landia.def (Bootstrap: docker-archive)
#   KEEP=1         keep the smoke-test containers
#
# The build context is the working tree (uncommitted changes included; .dockerignore
# keeps .venv, .git and outputs out). First build: ~15 min on 2 cores, nearly all PETSc.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
BASE_IMAGE="${BASE_IMAGE:-localhost/debian:12-slim}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -n1)"
IMAGE="${IMAGE:-localhost/landia:${VERSION:-dev}}"
LOGDIR="${LOGDIR:-/tmp/landia-container/$(date +%Y%m%d-%H%M%S)}"
T_START=$SECONDS

say() { printf '[container] %s\n' "$*" >&2; }
die() { printf '[container] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

(( EUID == 0 )) || die "run me as root (debootstrap and buildah need it)"
mkdir -p "$LOGDIR"
: >"$LOGDIR/summary.tsv"
RESULTS=()     # "NAME<TAB>STATUS<TAB>SECONDS"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" | tee -a "$LOGDIR/summary.tsv" >/dev/null; }

# step NAME LOG CMD...: run, log, record PASS/FAIL and the wall time; returns the status.
step() {
    local name="$1" log="$2" t0=$SECONDS rc=0
    shift 2
    say "$name  (log: $log)"
    "$@" >"$log" 2>&1 || rc=$?
    local dt=$((SECONDS - t0))
    if (( rc == 0 )); then record "$name" PASS "$dt"; else record "$name" "FAIL (exit $rc)" "$dt"; fi
    say "$name: $( ((rc == 0)) && echo PASS || echo "FAIL (exit $rc), last lines:" ) after ${dt} s"
    (( rc == 0 )) || tail -n 25 "$log" | sed 's/^/    /' >&2
    return "$rc"
}

summary() {
    local ok=1 name status secs
    echo
    echo "== landia container build + smoke test: $IMAGE ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)) =="
    while IFS=$'\t' read -r name status secs; do
        printf '%-40s %-16s %5d s\n' "$name" "$status" "$secs"
        [[ "$status" == PASS || "$status" == SKIP* ]] || ok=0
    done <"$LOGDIR/summary.tsv"
    if podman image exists "$IMAGE" 2>/dev/null; then
        echo "image size: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')  ($IMAGE)"
    fi
    echo "total: $((SECONDS - T_START)) s; logs in $LOGDIR"
    if (( ok )); then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
    (( ok ))
}

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
make_base() {
    local rootfs
    rootfs="$(mktemp -d /tmp/landia-rootfs.XXXXXX)"
    # minbase: what debian:*-slim holds (dpkg, apt, coreutils, passwd ...), no python.
    debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" || { rm -rf "$rootfs"; return 1; }
    cat >"$rootfs/etc/apt/sources.list" <<SRC
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    local ver; ver="$(cat "$rootfs/etc/debian_version")"
    tar -C "$rootfs" -c . | podman import -q \
        --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$BASE_IMAGE"
    podman tag "$BASE_IMAGE" "localhost/debian:${ver}-slim"
    echo "base image $BASE_IMAGE = Debian $ver (debootstrap minbase), also tagged localhost/debian:${ver}-slim"
    rm -rf "$rootfs"
}
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    if [[ "${REBUILD_BASE:-0}" == 1 ]] || ! podman image exists "$BASE_IMAGE"; then
        step "base image (debootstrap)" "$LOGDIR/base.log" make_base || { summary; exit 1; }
    else
        say "base image $BASE_IMAGE exists: reused (REBUILD_BASE=1 to rebuild)"
        record "base image (cached)" PASS 0
    fi
fi

# ---------------------------------------------------------------- 3. image
# Hosts behind a TLS-intercepting proxy: hand the host's CA bundle to pip as a build
# secret (mounted only during RUN steps, never stored in a layer).
BUILD_ARGS=(--isolation=chroot --format docker --layers --build-arg "BASE_IMAGE=$BASE_IMAGE"
            -f "$ROOT/Dockerfile")
[[ "${NO_CACHE:-0}" == 1 ]] && BUILD_ARGS+=(--no-cache)
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null && [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then
    say "host trusts local CAs: passing /etc/ssl/certs/ca-certificates.crt to pip as build secret pip_cert"
    BUILD_ARGS+=(--secret "id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt")
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    step "build runtime image" "$LOGDIR/build-runtime.log" \
        buildah bud "${BUILD_ARGS[@]}" --target runtime -t "$IMAGE" "$ROOT" || { summary; exit 1; }
    step "build test image" "$LOGDIR/build-test.log" \
        buildah bud "${BUILD_ARGS[@]}" --target test -t "$IMAGE-test" "$ROOT" || { summary; exit 1; }
    if [[ "${SAVE:-0}" == 1 ]]; then
        step "save docker-archive" "$LOGDIR/save.log" \
            podman save --format docker-archive -o "$LOGDIR/landia.docker.tar" "$IMAGE" || true
    fi
fi

# ---------------------------------------------------------------- 4. smoke test
CTRS=()
cleanup() {
    local c
    for c in ${CTRS[@]+"${CTRS[@]}"}; do
        if [[ "${KEEP:-0}" == 1 ]]; then say "kept container $c (buildah run --isolation=chroot $c -- bash)"
        else buildah rm "$c" >/dev/null 2>&1 || true; fi
    done
}
trap cleanup EXIT
RT="$(buildah from "$IMAGE")"; CTRS+=("$RT")
TS="$(buildah from "$IMAGE-test")"; CTRS+=("$TS")
# Commands run as the image's user (landia), with its ENV and WORKDIR.
in_rt() { buildah run --isolation=chroot "$RT" -- "$@"; }
in_ts() { buildah run --isolation=chroot "$TS" -- "$@"; }

check_identity() {
    in_rt landia --version
    local user hc
    user="$(in_rt id -un)"
    echo "runs as: $user"
    [[ "$user" != root ]] || { echo "image runs as root"; return 1; }
    echo "entrypoint: $(buildah inspect --format '{{.Docker.Config.Entrypoint}}' "$IMAGE")"
    hc="$(buildah inspect --format '{{.Docker.Config.Healthcheck}}' "$IMAGE")"
    echo "healthcheck: $hc"
    [[ "$hc" == *landia* ]] || { echo "no HEALTHCHECK in the image config"; return 1; }
}

MPI_CHECK='
from mpi4py import MPI
import petsc4py; petsc4py.init()
from petsc4py import PETSc
c = MPI.COMM_WORLD
v = PETSc.Vec().createMPI(1000, comm=PETSc.COMM_WORLD); v.set(1.0)
s = v.sum(); lo, hi = v.getOwnershipRange()
print(f"rank {c.rank}/{c.size} owns [{lo},{hi}) sum={s} PETSc {PETSc.Sys.getVersion()} {MPI.Get_library_version().splitlines()[0]}", flush=True)
assert c.size == 2 and s == 1000.0
'

cycle_smoke() {
    if ! in_rt landia cycle --help >/dev/null 2>&1; then
        echo "SKIP: 'landia cycle --help' does not work in this image (no cycle command yet):"
        in_rt landia cycle --help 2>&1 | tail -n 3 || true
        return 3
    fi
    in_rt rm -rf /tmp/run
    in_rt mpirun -n 2 landia cycle --config smoke --run-dir /tmp/run
    echo "--- rerun on the same run dir: must resume from the last checkpoint and run no cycle ---"
    local again
    again="$(in_rt mpirun -n 2 landia cycle --config smoke --run-dir /tmp/run 2>&1)" || { echo "$again"; return 1; }
    echo "$again"
    grep -q 'restart' <<<"$again" && grep -Eq 'run_done.*cycles=0' <<<"$again" \
        || { echo "rerun did not resume from the checkpoint with 0 new cycles"; return 1; }
}

rc_all=0
step "landia --version, non-root, healthcheck" "$LOGDIR/version.log" check_identity || rc_all=1
step "mpirun -n 2 mpi4py+petsc4py" "$LOGDIR/mpi.log" in_rt mpirun -n 2 python -c "$MPI_CHECK" || rc_all=1
step "landia demo --quick (runs under mpirun -n 2)" "$LOGDIR/demo.log" \
    in_rt landia demo --quick --output-dir /tmp/demo || rc_all=1
t0=$SECONDS; rc=0
say "mpirun -n 2 landia cycle --config smoke  (log: $LOGDIR/cycle.log)"
cycle_smoke >"$LOGDIR/cycle.log" 2>&1 || rc=$?
if (( rc == 3 )); then
    record "mpirun -n 2 landia cycle (smoke)" "SKIP (no cycle)" $((SECONDS - t0))
    say "cycle: SKIPPED -- $(sed -n 2p "$LOGDIR/cycle.log")"
elif (( rc == 0 )); then record "mpirun -n 2 landia cycle (smoke)" PASS $((SECONDS - t0))
else
    record "mpirun -n 2 landia cycle (smoke)" "FAIL (exit $rc)" $((SECONDS - t0)); rc_all=1
    tail -n 25 "$LOGDIR/cycle.log" | sed 's/^/    /' >&2
fi
step "pytest tests/unit not shared_data" "$LOGDIR/pytest.log" \
    in_ts python -m pytest -q -p no:cacheprovider tests/unit -m "not shared_data" || rc_all=1
grep -E '(passed|failed|error).* in [0-9.]+s' "$LOGDIR/pytest.log" | tail -n 1 >&2 || true

summary
