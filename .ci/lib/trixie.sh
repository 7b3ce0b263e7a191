# shellcheck shell=bash
# Sourced by the .ci/install-* scripts: Debian 13 (trixie)'s packages on a Debian 12 machine, downloaded with apt
# through a private source list (signed by the Debian archive keyring, verified by apt; the system's apt configuration
# is not touched) and only ever unpacked (dpkg-deb -x), never installed through dpkg: the host's libc stays as it is.

# debian_apt: apt and the Debian archive keyring are here (the private source list needs both).
debian_apt() { command -v apt-get >/dev/null && [ -s /usr/share/keyrings/debian-archive-keyring.gpg ]; }

# trixie_init: a work directory ($TRIXIE_WORK) with the private source list, updated; $TRIXIE_APT holds the apt-get
# and apt-cache options that use it.
trixie_init() {
  TRIXIE_WORK=$(mktemp -d)
  mkdir -p "$TRIXIE_WORK/lists/partial" "$TRIXIE_WORK/debs"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$TRIXIE_WORK/sources.list"
  TRIXIE_APT=(-o "Dir::Etc::SourceList=$TRIXIE_WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$TRIXIE_WORK/lists" -o APT::Sandbox::User=root)
  apt-get "${TRIXIE_APT[@]}" update -qq
}

# trixie_download PACKAGE[=VERSION]...: the .deb files into $TRIXIE_WORK/debs.
trixie_download() { (cd "$TRIXIE_WORK/debs" && apt-get "${TRIXIE_APT[@]}" download -qq "$@"); }

trixie_cleanup() { [ -z "${TRIXIE_WORK:-}" ] || rm -rf "$TRIXIE_WORK"; }
