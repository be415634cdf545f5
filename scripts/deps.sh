#!/bin/sh
# Install the Debian packages vtxsim needs to build and test (the `deps` step
# of `make run` / `make test`). As root it runs apt-get; otherwise it prints the
# one command to run. Packages already installed are not touched.
set -e
PKGS="gcc make libc6-dev binutils libreadline-dev libcunit1-dev libsdl2-dev libzydis-dev python3 pkg-config zlib1g-dev console-setup-linux gdb libxml2-utils groff-base"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps: missing packages; run: sudo apt-get install$missing" >&2
	exit 1
fi
