#!/usr/bin/env bash
# Builds orchard's sample image set and fetches the reference photos of the model test, from
# Debian packages (pinned version + sha256 of the .deb, fetched with apt-get download, unpacked
# with dpkg-deb, nothing installed):
#   tuxpaint-stamps-default: real photos of fruit and vegetables (food/fruit, food/vegetables,
#     not the cartoon/ drawings) -> a Fruits-360-like set built by scripts/build-sample-data.ts:
#     $ORCHARD_CACHE/data/fruits/{Training,Test}/<Class>/*.jpg (100x100, white background, rotated
#     in 10 degree steps; every 4th angle goes to Test). Deterministic: same bytes every run.
#   python3-skimage: scikit-image's sample photos (chelsea.png, coffee.png, rocket.jpg, ...)
#     -> $ORCHARD_CACHE/data/skimage/, used to check the CNN's ImageNet predictions.
# Idempotent: a second run checks the stamps and returns.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

debs="$ORCHARD_CACHE/downloads/debian"
data="$ORCHARD_CACHE/data"
mkdir -p "$debs" "$data"

apt_updated=
# fetch_deb PACKAGE VERSION SHA256: the .deb's path on stdout, downloaded once and checked.
fetch_deb() {
  local pkg=$1 version=$2 sum=$3
  local file="$debs/${pkg}_${version}_all.deb"
  if [ "$(cat "$file.ok" 2>/dev/null)" = "$sum" ] && [ -f "$file" ]; then echo "$file"; return; fi
  log "downloading $pkg $version (Debian)"
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp"
  if ! (cd "$tmp" && apt-get download -q "$pkg=$version" >/dev/null 2>&1); then
    if [ -z "$apt_updated" ]; then
      log "apt-get update (package lists missing or stale)"
      apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed (needs root and Debian's package servers)"
      apt_updated=1
    fi
    (cd "$tmp" && apt-get download -q "$pkg=$version" >/dev/null 2>&1) || die "apt-get download $pkg=$version failed"
  fi
  local got
  got=$(sha256sum "$tmp"/*.deb | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { rm -rf "$tmp"; die "checksum mismatch for $pkg $version: expected $sum, got $got"; }
  mv "$tmp"/*.deb "$file"
  rm -rf "$tmp"
  echo "$sum" > "$file.ok"
  echo "$file"
}

# extract_deb DEB DEST PATTERN: unpacks the members matching PATTERN (a tar wildcard) into DEST.
extract_deb() {
  local deb=$1 dest=$2 pattern=$3
  rm -rf "$dest.part"
  mkdir -p "$dest.part"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest.part" --wildcards "$pattern"
  rm -rf "$dest"
  mv "$dest.part" "$dest"
}

tux_version=2022.06.04-1
tux_sha256=6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34
skimage_version=0.19.3-8
skimage_sha256=728d88c3e3440f1f3712de0805dc834d29248ff07e1eec8c0f3da07606f752f9

# Reference photos for the model test.
sk="$data/skimage"
if [ "$(cat "$sk/.orchard-stamp" 2>/dev/null)" != "$skimage_sha256" ]; then
  deb=$(fetch_deb python3-skimage "$skimage_version" "$skimage_sha256")
  extract_deb "$deb" "$sk.tree" "./usr/lib/python3/dist-packages/skimage/data/*"
  rm -rf "$sk"
  mv "$sk.tree/usr/lib/python3/dist-packages/skimage/data" "$sk"
  rm -rf "$sk.tree"
  echo "$skimage_sha256" > "$sk/.orchard-stamp"
fi
log "reference photos ready: $sk"

# The fruit set.
fruits="$data/fruits"
builder="$here/build-sample-data.ts"
stamp="$tux_sha256 $(sha256sum "$builder" | cut -d' ' -f1)"
if [ "$(cat "$fruits/.orchard-stamp" 2>/dev/null)" = "$stamp" ]; then
  log "sample data ready: $fruits ($(cat "$fruits/.orchard-counts" 2>/dev/null))"
  exit 0
fi
stamps="$debs/tuxpaint-stamps-food"
if [ "$(cat "$stamps/.orchard-stamp" 2>/dev/null)" != "$tux_sha256" ]; then
  deb=$(fetch_deb tuxpaint-stamps-default "$tux_version" "$tux_sha256")
  extract_deb "$deb" "$stamps" "./usr/share/tuxpaint/stamps/food/*"
  echo "$tux_sha256" > "$stamps/.orchard-stamp"
fi
log "building the sample fruit set"
rm -rf "$fruits.part"
(cd "$here/.." && npx --no-install tsx "$builder" --stamps "$stamps/usr/share/tuxpaint/stamps/food" --out "$fruits.part")
rm -rf "$fruits"
mv "$fruits.part" "$fruits"
echo "$stamp" > "$fruits/.orchard-stamp"
log "sample data ready: $fruits ($(cat "$fruits/.orchard-counts"))"
