#!/bin/sh
# Install the Debian packages whose shared libraries Qt needs, but only those that are missing.
# QT_LIBS holds "soname:package" pairs ("bin/NAME:package" for a program on PATH).
# Does nothing when everything is present.
missing=""
for pair in $QT_LIBS; do
    lib=${pair%%:*}
    pkg=${pair#*:}
    case "$lib" in
        bin/*) command -v "${lib#bin/}" >/dev/null 2>&1 || missing="$missing $pkg" ;;
        *) ldconfig -p 2>/dev/null | grep -q "$lib" || missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "Qt needs these system packages:$missing (install them with your package manager)" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing system libraries Qt needs:$missing"
$SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
