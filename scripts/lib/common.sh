# Shared by the set-up scripts: cache location, pinned versions, logging, checked downloads.
SPARK_VERSION=4.1.1
ORCHARD_CACHE=${ORCHARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orchard}
MAVEN_CENTRAL=${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}
export ORCHARD_CACHE

log() { echo "[orchard setup] $*" >&2; }
die() { echo "[orchard setup] error: $*" >&2; exit 1; }

spark_home() {
  if [ -n "${ORCHARD_SPARK_HOME:-}" ]; then echo "$ORCHARD_SPARK_HOME"; return; fi
  local d
  for d in "$ORCHARD_CACHE"/spark/venv/lib/python3*/site-packages/pyspark; do echo "$d"; return; done
}

# fetch_checked URL DEST SHA256: download once, verify, keep; re-verify a cached file cheaply by size stamp.
fetch_checked() {
  local url=$1 dest=$2 sum=$3
  if [ -f "$dest" ] && [ "$(cat "$dest.ok" 2>/dev/null)" = "$sum" ]; then return 0; fi
  if [ ! -f "$dest" ]; then
    log "downloading $(basename "$dest")"
    curl -fsSL --retry 3 -o "$dest.part" "$url" || die "download failed: $url"
    mv "$dest.part" "$dest"
  fi
  local got
  got=$(sha256sum "$dest" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$dest"; die "checksum mismatch for $(basename "$dest"): expected $sum, got $got"; fi
  echo "$sum" > "$dest.ok"
}
