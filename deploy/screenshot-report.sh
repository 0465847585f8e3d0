#!/usr/bin/env bash
# Render an HTML file (the demo's report.html) headless and save a PNG screenshot,
# to look at the report without a desktop:
#
#     deploy/screenshot-report.sh OUT/report.html [OUT.png] [WIDTHxHEIGHT]
#
# The default PNG is the HTML path with .png instead of .html; the default window is
# 1400x4000 pixels (a full page of the demo report; pass a taller one to see more).
# Uses Debian's `chromium` (or chromium-browser / google-chrome when that is what is
# installed); when none is found and we are root on Debian/Ubuntu, installs `chromium`
# with apt. The page is opened from file:// with networking of no use: the report is
# self-contained.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

html=$1
[[ -f $html ]] || { echo "screenshot-report: $html: no such file" >&2; exit 1; }
html_abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
png=${2:-${html_abs%.html}.png}
size=${3:-1400x4000}
[[ $size =~ ^[0-9]+x[0-9]+$ ]] || { echo "screenshot-report: size must be WIDTHxHEIGHT, got $size" >&2; exit 2; }
png_dir=$(cd "$(dirname "$png")" && pwd)
png_abs=$png_dir/$(basename "$png")

browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [[ -z $browser ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "screenshot-report: installing chromium with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            chromium fonts-dejavu-core >&2 \
            || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y \
                 --no-install-recommends chromium fonts-dejavu-core >&2; }
        browser=chromium
    else
        echo "screenshot-report: no chromium found; install it (Debian: apt-get install chromium)" >&2
        exit 1
    fi
fi

# A throw-away profile, so that a running browser or a read-only home does not interfere.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$png_abs"
"$browser" --headless --disable-gpu --no-sandbox --hide-scrollbars \
    --user-data-dir="$profile" --no-first-run --no-default-browser-check \
    --screenshot="$png_abs" --window-size="${size/x/,}" "file://$html_abs" \
    >"$profile/chromium.log" 2>&1 || true
if [[ ! -s $png_abs ]]; then
    echo "screenshot-report: $browser wrote no screenshot; its output:" >&2
    cat "$profile/chromium.log" >&2
    exit 1
fi
echo "$png_abs"
