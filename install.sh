#!/bin/sh
# Installs a released poolform (and workspace-sim, the simulator) for this machine, verified
# against the SHA-256 committed in poolform's repository beside this script
# (checksums/VERSION.sha256), never against a file from the same download. POSIX sh: for
# GitLab CI and anything else; GitHub Actions runs it through action.yml.
#
# Input, from the environment (never from arguments pasted into a script):
#   POOLFORM_VERSION        the release to install, e.g. v0.2.0 (required)
#   POOLFORM_INSTALL_DIR    where the binaries go (default: $HOME/.local/bin)
#   POOLFORM_CACHE_DIR      keep the downloaded archive here and reuse it (verified again)
#   POOLFORM_CHECKSUMS_DIR  the checksums (default: checksums/ beside this script)
#   POOLFORM_RELEASES_URL   where the archives are (default: the GitHub releases of
#                           POOLFORM_REPOSITORY, default YOUR-ORG/poolform)
# Output: the binaries in POOLFORM_INSTALL_DIR; in GitHub Actions that folder is added to
# PATH and the step's outputs `version` and `path` are set.
set -eu

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

version=${POOLFORM_VERSION:-}
[ -n "$version" ] || fail "POOLFORM_VERSION is not set: name the release to install, e.g. POOLFORM_VERSION=v0.2.0"
case "$version" in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) fail "POOLFORM_VERSION=$version is not a release tag such as v0.2.0" ;;
esac
case "$version" in
  *[!0-9A-Za-z.-]*) fail "POOLFORM_VERSION=$version holds characters a release tag never does" ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
checksums_dir=${POOLFORM_CHECKSUMS_DIR:-$here/checksums}
repository=${POOLFORM_REPOSITORY:-YOUR-ORG/poolform}
releases=${POOLFORM_RELEASES_URL:-https://github.com/$repository/releases/download}
install_dir=${POOLFORM_INSTALL_DIR:-${HOME:-.}/.local/bin}

# The archive built for this machine.
os=$(uname -s)
arch=$(uname -m)
case "$arch" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) arch="unknown:$arch" ;;
esac
case "$os/$arch" in
  Linux/x86_64 | Linux/aarch64) target=$arch-unknown-linux-musl; kind=tar.gz; exe= ;;
  Darwin/x86_64 | Darwin/aarch64) target=$arch-apple-darwin; kind=tar.gz; exe= ;;
  MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64 | Windows_NT/x86_64)
    target=x86_64-pc-windows-msvc; kind=zip; exe=.exe ;;
  *) fail "no poolform release is built for $(uname -s) on $(uname -m) (there are builds for Linux and macOS on x86_64 and aarch64, and Windows on x86_64); build it from source instead: cargo install --locked --git https://github.com/$repository --tag $version poolform" ;;
esac
archive=poolform-$version-$target.$kind

# The checksum committed in the repository: the only one trusted.
sums=$checksums_dir/$version.sha256
[ -f "$sums" ] || fail "no checksums for $version in $sums: this copy of poolform's repository does not know that release (pin a commit that holds checksums/$version.sha256)"
expected=$(awk -v name="$archive" '$2 == name || $2 == "*" name { print $1; exit }' "$sums")
case "$expected" in
  [0-9a-f]*) [ ${#expected} -eq 64 ] || fail "the checksum of $archive in $sums is not a SHA-256" ;;
  *) fail "$sums has no checksum for $archive" ;;
esac

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print $1 }'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  else
    fail "neither sha256sum nor shasum is installed: cannot verify the archive"
  fi
}

download() { # URL FILE
  case "$1" in
    https://*) ;;
    http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;; # a local mirror
    *) fail "refusing to download over plain HTTP from $1" ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --proto '=https,http' --retry 3 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$2" "$1"
  else
    fail "neither curl nor wget is installed: cannot download $1"
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cached=
if [ -n "${POOLFORM_CACHE_DIR:-}" ] && [ -f "$POOLFORM_CACHE_DIR/$archive" ]; then
  if [ "$(sha256_of "$POOLFORM_CACHE_DIR/$archive")" = "$expected" ]; then
    cached=$POOLFORM_CACHE_DIR/$archive
  else
    echo "install.sh: the cached $archive does not match its checksum; downloading it again" >&2
    rm -f "$POOLFORM_CACHE_DIR/$archive"
  fi
fi
if [ -z "$cached" ]; then
  url=$releases/$version/$archive
  download "$url" "$work/$archive" || fail "could not download $url (is $version released for $target?)"
  actual=$(sha256_of "$work/$archive")
  [ "$actual" = "$expected" ] || fail "$archive from $url has SHA-256 $actual, but $sums says $expected: refusing to install it"
  cached=$work/$archive
  if [ -n "${POOLFORM_CACHE_DIR:-}" ]; then
    mkdir -p "$POOLFORM_CACHE_DIR" && cp "$cached" "$POOLFORM_CACHE_DIR/$archive"
  fi
fi

mkdir -p "$work/unpacked"
case "$kind" in
  tar.gz) tar -xzf "$cached" -C "$work/unpacked" ;;
  zip) unzip -q "$cached" -d "$work/unpacked" ;;
esac
mkdir -p "$install_dir"
for bin in poolform workspace-sim; do
  found=$(find "$work/unpacked" -type f -name "$bin$exe" | head -n 1)
  [ -n "$found" ] || fail "$archive holds no $bin$exe"
  cp "$found" "$install_dir/$bin$exe"
  chmod 755 "$install_dir/$bin$exe"
done
installed=$("$install_dir/poolform$exe" --version)
echo "Installed $installed ($target, SHA-256 $expected) in $install_dir"

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$install_dir" >>"$GITHUB_PATH"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "version=$version"
    echo "path=$install_dir/poolform$exe"
  } >>"$GITHUB_OUTPUT"
fi
