#!/usr/bin/env bash
# A Docker engine for docker/ (issue 11, section 4), on machines that reach only the package
# registries. Usage:
#   scripts/setup-docker.sh          ensure daemon + compose v2 + the debian:bookworm-slim base, then
#                                    `docker run --rm debian:bookworm-slim true` (seconds when cached)
#   scripts/setup-docker.sh smoke    the slower proof: `apt-get` inside a `docker build` from the base,
#                                    and a throwaway compose project (healthchecks, a service name on a
#                                    user network, a port on 127.0.0.1) through `up -d --wait` and `down`
#   scripts/setup-docker.sh stop     stops the dockerd this script started (by its pid file), only that
#   scripts/setup-docker.sh status   says which daemon answers and whether this script started it
#
# 1. Daemon. An existing daemon that answers `docker info` (at DOCKER_HOST, or the default socket) is
#    used as it is. Otherwise, as root, Debian's `docker.io` is installed with apt-get (20.10.24 on
#    bookworm, with Debian's containerd and runc) and dockerd is started in the background in its own
#    session, with everything it writes under $ORCHARD_CACHE/docker:
#      data/ (--data-root: images, containers, volumes), run/ (--exec-root, incl. its own containerd),
#      dockerd.pid (--pidfile: what `stop` uses), dockerd.log.
#    The socket is the DEFAULT one, unix:///var/run/docker.sock, unless DOCKER_HOST names another unix
#    socket, in which case dockerd listens there. So with DOCKER_HOST unset, `docker`, `docker compose`
#    and the tests need no environment at all, as on a normal Docker set-up; a non-default socket is
#    honoured but then every shell and test needs the same DOCKER_HOST. (dockerd is started only when
#    nothing answers on that socket, so it never shadows another daemon.) Not root and no daemon: one
#    line says what is missing, exit 3. dockerd runs with Docker's defaults otherwise: overlay2 on
#    ext4, cgroupfs (cgroup v1 here), the docker0 bridge with iptables NAT (it turns on ip_forward).
# 2. Compose v2. If `docker compose version` fails, github.com/docker/compose/v2 at the pin below is
#    fetched with `go mod download` (checked by Go's checksum database, and against the pinned h1:
#    hash here) and built with `go build ./cmd` inside the downloaded module folder: `go install
#    pkg@version` refuses it (its go.mod has exclude directives), and a wrapper module would drop those
#    excludes and so resolve other dependency versions. The binary is cached under
#    $ORCHARD_CACHE/docker/compose/ and copied to ${DOCKER_CONFIG:-~/.docker}/cli-plugins/docker-compose.
# 3. Base image. If `docker image inspect debian:bookworm-slim` fails and `docker pull` fails too, the
#    same base is built from Debian's packages: debootstrap --variant=minbase bookworm from the Debian
#    mirror configured in /etc/apt/sources.list(.d) (or ORCHARD_DEBIAN_MIRROR), Release signatures
#    checked against debian-archive-keyring, slimmed as the official slim image is (no docs, man pages,
#    locales; apt lists cleaned), apt sources written as in the official image but with the mirrors
#    this host uses, then tarred to $ORCHARD_CACHE/docker/base/ and `docker import`ed as
#    debian:bookworm-slim with CMD ["bash"]. The tarball is kept, so a later run (or a new data-root)
#    imports in seconds. Unlike a pulled tag, its package versions are whatever the mirror has that day.
# What was found on the project's machine kind (polyglot, bookworm, 2 cores), measured 2026-12-02:
#   - no daemon; `docker` in /usr/local/bin is a 28.2.2 client only; no buildx plugin. Installing
#     docker.io (+ debootstrap): ~16 s. dockerd (20.10.24, API 1.41) answers ~2 s after start; the
#     28.x client and compose v2.40 negotiate down to API 1.41.
#   - `docker pull` fails at once (registry-1.docker.io does not resolve).
#   - compose v2.40.3, cold Go build cache: 4 min 11 s of CPU (3 min 27 s user + 44 s sys), so
#     ~2 min of wall time on 2 idle cores; measured 5 min 50 s (modules cached) and 7 min 24 s
#     (modules downloaded too) while other builds loaded the machine (load average 8-12). With Go's
#     build cache warm: 11 s. The binary (~77 MB) is reproducible: two builds, same sha256.
#   - debootstrap minbase bookworm: 73 s (96 s at load average 10); tar (81 MB) + `docker import`:
#     3-6 s, also from the cached tarball into a daemon without the image; the image is 74 MB, as
#     the official slim one.
#   - a run with everything cached and dockerd up: ~1.5 s; with dockerd to start: ~2.5 s.
#   - apt-get inside a build needs nothing passed in: containers on the default bridge reach the
#     host's Debian mirror through dockerd's NAT, and Docker copies the host's resolv.conf (a
#     non-loopback nameserver) into containers, so names resolve as on the host. No proxy is
#     configured on the host (no *_proxy variables, no Acquire::http::Proxy), so there is none to
#     pass; `--network host` is not needed (it would be the fallback for a host whose resolver is on
#     loopback: Docker drops loopback nameservers from containers and falls back to public ones,
#     which this network cannot reach).
#   - `docker build` is the classic builder here (the 28.x CLI has no buildx plugin; DOCKER_BUILDKIT=1
#     errors). `docker compose build` uses BuildKit through the daemon's own (20.10's): RUN --mount
#     works there, Dockerfile heredocs do not (no `# syntax=` frontend image can be pulled either).
#     So the Dockerfile should stay classic-compatible, or be built with `docker compose build`.
#   - compose v2 `up -d --wait` with healthchecks and depends_on: service_healthy, service names on
#     the project's user network, a port published on 127.0.0.1 only, and `down` leaving no
#     container or network: all work (`smoke`, ~25 s including two apt-get builds).
#   - starting dockerd turns on net.ipv4.ip_forward and adds its iptables NAT/filter chains (Docker's
#     defaults); `stop` stops the daemon (and its containers) but leaves those as dockerd leaves them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

COMPOSE_MODULE=github.com/docker/compose/v2
# The last v2 release on the module proxy (compose moved to the module path .../v5 afterwards).
COMPOSE_VERSION=v2.40.3
COMPOSE_SUM='h1:XeYkQu1svDtyfZPv5nTwFryQ25ZJMkIlc4pz9HalMPI='
BASE_IMAGE=debian:bookworm-slim
BASE_SUITE=bookworm

docker_dir="$ORCHARD_CACHE/docker"
pidfile="$docker_dir/dockerd.pid"
daemon_log="$docker_dir/dockerd.log"
compose_bin="$docker_dir/compose/$COMPOSE_VERSION/docker-compose"
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
base_tar="$docker_dir/base/debian-$BASE_SUITE-slim-minbase.tar"

# The unix socket dockerd listens on when this script starts it (see 1. above).
socket_path() {
  case "${DOCKER_HOST:-}" in
    "") echo /var/run/docker.sock ;;
    unix://*) echo "${DOCKER_HOST#unix://}" ;;
    *) return 1 ;;
  esac
}

daemon_answers() { command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; }

# The pid of the dockerd this script started, if it is still running (checked by its command line,
# so a recycled pid is never taken for ours).
our_dockerd_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "dockerd .*--pidfile $pidfile" || return 1
  echo "$pid"
}

# apt_install PKG: apt-get update + install, its output in $docker_dir/apt.log (shown on failure).
apt_install() {
  mkdir -p "$docker_dir"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1"; } \
    > "$docker_dir/apt.log" 2>&1 || { tail -n 5 "$docker_dir/apt.log" >&2; die "apt-get install $1 failed (log: $docker_dir/apt.log)"; }
}

ensure_daemon() {
  if daemon_answers; then
    if pid=$(our_dockerd_pid); then
      log "docker daemon ready (started by setup, pid $pid, $pidfile)"
    else
      log "docker daemon ready (existing: $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    fi
    return 0
  fi
  local sock
  sock=$(socket_path) || die "no Docker daemon answers at DOCKER_HOST=$DOCKER_HOST, and setup starts one only on a unix socket"
  if [ "$(id -u)" != 0 ]; then
    if ! command -v docker >/dev/null 2>&1; then
      die "no Docker here: the docker CLI is missing and no daemon answers; install Docker (or run setup as root to install Debian's docker.io)"
    fi
    echo "[orchard setup] error: no Docker daemon answers (docker info at ${DOCKER_HOST:-unix:///var/run/docker.sock}); start Docker, or run setup as root to start one" >&2
    exit 3
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "no Docker daemon answers and apt-get is missing to install Debian's docker.io"
    log "installing Debian's docker.io with apt-get"
    local t0=$SECONDS
    apt_install docker.io
    log "docker.io installed in $(( SECONDS - t0 )) s"
    # Where an init system runs, the package starts its own docker.service; then use that one.
    sleep 1
    if daemon_answers; then
      log "docker daemon ready (started by the docker.io package's service, not by setup)"
      return 0
    fi
  fi
  if pid=$(our_dockerd_pid); then
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-H unix://$sock\( \|$\)" \
      || die "the dockerd setup started (pid $pid) listens elsewhere than $sock: use its DOCKER_HOST, or 'scripts/setup-docker.sh stop' first"
  else
    mkdir -p "$docker_dir/data" "$docker_dir/run" "$(dirname "$sock")"
    log "starting dockerd (data under $docker_dir, socket $sock, log $daemon_log)"
    # Its own session, so a Ctrl-C in the shell that ran setup does not reach it; it outlives setup.
    # 8>&-: the daemon must not inherit the set-up lock (see lock_setup), or it would hold it forever.
    setsid dockerd --data-root "$docker_dir/data" --exec-root "$docker_dir/run" --pidfile "$pidfile" \
      -H "unix://$sock" >>"$daemon_log" 2>&1 < /dev/null 8>&- &
  fi
  local i
  for i in $(seq 1 60); do
    if daemon_answers; then
      log "docker daemon ready (started by setup, pid $(cat "$pidfile"), $pidfile)"
      return 0
    fi
    our_dockerd_pid >/dev/null || [ "$i" -lt 5 ] || break
    sleep 1
  done
  tail -n 5 "$daemon_log" >&2 || true
  die "dockerd did not answer (log: $daemon_log)"
}

stop_daemon() {
  local pid i
  if ! pid=$(our_dockerd_pid); then
    log "no dockerd started by setup is running ($pidfile); nothing stopped"
    return 0
  fi
  log "stopping the dockerd setup started (pid $pid)"
  kill -TERM "$pid"
  for i in $(seq 1 60); do
    [ -d "/proc/$pid" ] || { log "dockerd stopped"; return 0; }
    sleep 1
  done
  die "dockerd (pid $pid) did not stop within 60 s; see $daemon_log"
}

ensure_compose() {
  if docker compose version >/dev/null 2>&1; then
    log "docker compose ready ($(docker compose version --short 2>/dev/null))"
    return 0
  fi
  local stamp="$compose_bin.stamp" want="$COMPOSE_MODULE@$COMPOSE_VERSION $COMPOSE_SUM"
  if ! [ -x "$compose_bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v go >/dev/null || die "Go is required to build docker compose v2 (no 'docker compose' here); install Go 1.24 or newer"
    log "building docker compose $COMPOSE_VERSION from the Go module proxy (~2 minutes the first time)"
    local t0=$SECONDS info dir sum
    info=$(cd "$docker_dir" 2>/dev/null || cd /; GOFLAGS= go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION") \
      || die "go mod download $COMPOSE_MODULE@$COMPOSE_VERSION failed"
    dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")
    sum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$info")
    [ "$sum" = "$COMPOSE_SUM" ] || die "compose module hash does not match the pin: expected $COMPOSE_SUM, got '$sum'"
    [ -d "$dir/cmd" ] || die "compose module folder not found: '$dir'"
    mkdir -p "$(dirname "$compose_bin")"
    rm -f "$stamp"
    (cd "$dir" && GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 go build -trimpath \
        -ldflags "-w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" -o "$compose_bin.part" ./cmd) \
      || die "building docker compose failed (see the Go output above)"
    mv "$compose_bin.part" "$compose_bin"
    echo "$want" > "$stamp"
    log "docker compose built in $(( SECONDS - t0 )) s"
  fi
  mkdir -p "$plugin_dir"
  install -m 0755 "$compose_bin" "$plugin_dir/docker-compose"
  docker compose version >/dev/null 2>&1 || die "docker compose does not run from $plugin_dir/docker-compose"
  log "docker compose ready ($(docker compose version --short), plugin $plugin_dir/docker-compose)"
}

# debian_uri SUITE: the first Debian mirror URI the host's apt sources list for SUITE (deb822 .sources
# files and one-line .list files alike).
debian_uri() {
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '
      function flush() { if (deb && found && uri != "" && !done) { print uri; done = 1 } deb = 0; found = 0; uri = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) found = 1 }
      tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0 }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -e 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2 }'
  done
}

build_base_tarball() {
  local mirror security rootfs t0=$SECONDS
  mirror=${ORCHARD_DEBIAN_MIRROR:-$(debian_uri "$BASE_SUITE" | head -n 1)}
  [ -n "$mirror" ] || die "no Debian mirror for $BASE_SUITE in /etc/apt/sources.list(.d); set ORCHARD_DEBIAN_MIRROR"
  security=$(debian_uri "$BASE_SUITE-security" | head -n 1)
  [ -n "$security" ] || security=${mirror%/debian}/debian-security
  if ! command -v debootstrap >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "building $BASE_IMAGE needs debootstrap and root"
    log "installing debootstrap with apt-get"
    apt_install debootstrap
  fi
  [ "$(id -u)" = 0 ] || die "debootstrap needs root to build $BASE_IMAGE"
  log "building $BASE_IMAGE with debootstrap (minbase, $BASE_SUITE, $mirror; ~1.5 minutes)"
  mkdir -p "$(dirname "$base_tar")"
  rootfs="$(dirname "$base_tar")/rootfs.tmp"
  rm -rf "$rootfs"
  local keyring=()
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
  debootstrap --variant=minbase "${keyring[@]}" "$BASE_SUITE" "$rootfs" "$mirror" \
    > "$(dirname "$base_tar")/debootstrap.log" 2>&1 \
    || { tail -n 5 "$(dirname "$base_tar")/debootstrap.log" >&2; die "debootstrap failed (log: $(dirname "$base_tar")/debootstrap.log)"; }
  log "debootstrap done in $(( SECONDS - t0 )) s"
  # As the official slim image: keep dpkg from installing docs, man pages and locales; apt keeps no
  # caches and fetches no translations; apt sources as deb822 (the host's mirrors, not a proxy's).
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d" "$rootfs/etc/apt/apt.conf.d" "$rootfs/etc/apt/sources.list.d"
  cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$rootfs/etc/apt/sources.list"
  cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $BASE_SUITE $BASE_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $BASE_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/{info,man,groff,linda,lintian}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* "$rootfs"/tmp/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  # Docker supplies these per container.
  rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
  : > "$rootfs/etc/machine-id" 2>/dev/null || true
  tar --numeric-owner --xattrs -C "$rootfs" -cf "$base_tar.part" . || die "tar of the base rootfs failed"
  rm -rf "$rootfs"
  mv "$base_tar.part" "$base_tar"
  sha256sum "$base_tar" | cut -d' ' -f1 > "$base_tar.sha256"
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image ready: $BASE_IMAGE ($(docker image inspect --format '{{index .Config.Labels "org.orchard.base"}}' "$BASE_IMAGE" 2>/dev/null | sed 's/^$/pulled/'))"
    return 0
  fi
  if timeout 120 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image ready: $BASE_IMAGE (pulled)"
    return 0
  fi
  if [ -f "$base_tar" ] && [ "$(cat "$base_tar.sha256" 2>/dev/null)" = "$(sha256sum "$base_tar" | cut -d' ' -f1)" ]; then
    log "cannot pull $BASE_IMAGE; importing the base built earlier from Debian's packages"
  else
    log "cannot pull $BASE_IMAGE; building the same base from Debian's packages"
    build_base_tarball
  fi
  local t0=$SECONDS
  docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' \
    -c "LABEL org.orchard.base=debootstrap-minbase-$BASE_SUITE" \
    -m "orchard setup: debootstrap --variant=minbase $BASE_SUITE" \
    "$base_tar" "$BASE_IMAGE" >/dev/null || die "docker import of $base_tar failed"
  log "base image ready: $BASE_IMAGE (imported from $base_tar in $(( SECONDS - t0 )) s)"
}

quick_check() {
  docker run --rm "$BASE_IMAGE" true || die "'docker run --rm $BASE_IMAGE true' failed"
  log "docker works: 'docker run --rm $BASE_IMAGE true' ran"
}

# The slower proof (`smoke`): apt-get inside a build, and compose healthchecks/--wait/service names.
smoke() {
  local tmp project ok=0 t0=$SECONDS
  tmp=$(mktemp -d)
  project="orchard-smoke-$$"
  # shellcheck disable=SC2064
  trap "docker compose -p '$project' -f '$tmp/compose.yaml' down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true; docker image rm -f '$project-apt' '$project-client' >/dev/null 2>&1 || true; rm -rf '$tmp'" EXIT

  mkdir -p "$tmp/apt"
  cat > "$tmp/apt/Dockerfile" <<EOF
FROM $BASE_IMAGE
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
EOF
  # `docker build` is the classic builder here (no buildx); compose builds `client` below with BuildKit.
  if DOCKER_BUILDKIT=0 docker build -q -t "$project-apt" "$tmp/apt" >"$tmp/build.log" 2>&1; then
    log "smoke: apt-get inside 'docker build' works (default bridge network)"
  else
    tail -n 5 "$tmp/build.log" >&2
    die "smoke: apt-get inside 'docker build' failed"
  fi

  # web: a tiny TCP server (perl-base is in minbase), published on 127.0.0.1 only; client: built by
  # compose (BuildKit, apt-get again), reaches web by its service name on the project's user network.
  # Both health-checked; --wait waits for both.
  cat > "$tmp/compose.yaml" <<EOF
services:
  web:
    image: $BASE_IMAGE
    command: ["perl", "-MIO::Socket::INET", "-e", "my \$\$s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die; while (my \$\$c = \$\$s->accept) { print \$\$c \"orchard-ok\\\\n\"; close \$\$c }"]
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ["CMD", "perl", "-MIO::Socket::INET", "-e", "IO::Socket::INET->new(PeerAddr => q(127.0.0.1:8080)) or exit 1"]
      interval: 1s
      retries: 30
  client:
    build: ./apt
    image: $project-client
    command: ["sleep", "infinity"]
    init: true
    depends_on:
      web: { condition: service_healthy }
    healthcheck:
      test: ["CMD", "perl", "-MIO::Socket::INET", "-e", "my \$\$c = IO::Socket::INET->new(PeerAddr => q(web:8080)) or exit 1; exit(<\$\$c> eq qq(orchard-ok\\\\n) ? 0 : 1)"]
      interval: 1s
      retries: 30
EOF
  docker compose -p "$project" -f "$tmp/compose.yaml" up -d --wait --wait-timeout 60 >"$tmp/up.log" 2>&1 \
    || { cat "$tmp/up.log" >&2; die "smoke: docker compose up -d --wait failed"; }
  local addr host port reply
  addr=$(docker compose -p "$project" -f "$tmp/compose.yaml" port web 8080)
  host=${addr%:*}; port=${addr##*:}
  [ "$host" = 127.0.0.1 ] || die "smoke: web's port is published on '$host', not 127.0.0.1"
  reply=$(exec 3<>"/dev/tcp/127.0.0.1/$port" && head -n 1 <&3) || true
  [ "$reply" = orchard-ok ] || die "smoke: no answer from web on 127.0.0.1:$port (got '$reply')"
  docker compose -p "$project" -f "$tmp/compose.yaml" down -v --remove-orphans --timeout 5 >/dev/null 2>&1 \
    || die "smoke: docker compose down failed"
  [ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$project")" ] || die "smoke: containers left after down"
  [ -z "$(docker network ls -q --filter "label=com.docker.compose.project=$project")" ] || die "smoke: network left after down"
  log "smoke: compose up -d --wait (healthchecks, service name 'web' on a user network, 127.0.0.1:$port) and down work ($(( SECONDS - t0 )) s)"
}

# One set-up at a time: `npm test` starts this script in the background while the other parts and
# the unit tests run (scripts/test.sh), and the Docker tests run it again; the second waits for the
# first and then finds everything ready.
lock_setup() {
  mkdir -p "$docker_dir"
  exec 8>"$docker_dir/setup.lock"
  flock 8
}

case "${1:-}" in
  "")
    lock_setup
    ensure_daemon
    ensure_compose
    ensure_base_image
    quick_check
    ;;
  smoke)
    lock_setup
    ensure_daemon
    ensure_compose
    ensure_base_image
    smoke
    ;;
  stop) stop_daemon ;;
  status)
    if pid=$(our_dockerd_pid); then
      log "dockerd started by setup is running: pid $pid ($pidfile), log $daemon_log"
    elif daemon_answers; then
      log "a Docker daemon answers that setup did not start"
    else
      log "no Docker daemon answers"
    fi
    ;;
  *) echo "setup-docker.sh: unknown command '$1' (expected nothing, smoke, stop or status)" >&2; exit 2 ;;
esac
