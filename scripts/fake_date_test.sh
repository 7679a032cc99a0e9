#!/usr/bin/env bash
# Run the test suite with the machine's date faked, to show that it passes on any day:
#   scripts/fake_date_test.sh "2027-03-01 00:30:00"    (default: the 1st of next month, 00:30)
#
# The suite pins its own clock (BCM_LOCAL_NOW, tests/conftest.py); this checks that nothing
# else depends on the machine's date. It uses libfaketime built from Debian's source
# (apt-get source faketime) without its sleep, timer and pthread interception: Debian's
# binary fakes CLOCK_MONOTONIC and rewrites sleeps, which hangs Python's timed lock waits
# (threading.Event.wait) and breaks time.sleep, whatever program runs under it. With
# DONT_FAKE_MONOTONIC=1 only the wall clock (time(), gettimeofday, CLOCK_REALTIME) is faked.
set -euo pipefail
cd "$(dirname "$0")/.."
DATE="${1:-$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%Y-%m-01) 00:30:00}"
BUILD="build/libfaketime"
LIB="$BUILD/src/libfaketime.so.1"
if [ ! -f "$LIB" ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo "sudo -n")
  sources=/etc/apt/sources.list.d/bcm-local-deb-src.sources
  if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    sed -n '/^Types: deb$/,/^$/p' /etc/apt/sources.list.d/debian.sources \
      | sed 's/^Types: deb$/Types: deb-src/' | $SUDO tee "$sources" >/dev/null
    $SUDO apt-get update -qq
  fi
  mkdir -p build && rm -rf "$BUILD" build/faketime-*
  (cd build && apt-get source -qq faketime >/dev/null 2>&1)
  mv build/faketime-*/ "$BUILD"
  sed -i 's/-DFAKE_PTHREAD //; s/-DFAKE_SLEEP //; s/-DFAKE_TIMERS //; s/-DFAKE_INTERNAL_CALLS //' \
    "$BUILD/src/Makefile"
  make -s -C "$BUILD/src" libfaketime.so.1
fi
make -s .venv/.installed-stamp
echo "running the suite with the machine's date at $DATE UTC" >&2
TZ=UTC DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$PWD/$LIB" FAKETIME="@$DATE" \
  .venv/bin/pytest -q -n 2 tests
