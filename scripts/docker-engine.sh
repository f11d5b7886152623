#!/usr/bin/env bash
# A Docker engine started by hand (nothing starts one on these machines, CI included):
#   scripts/docker-engine.sh start   start dockerd (or reuse the one already running), wait
#                                    until `docker info` answers, print the export line
#   scripts/docker-engine.sh stop    stop the dockerd this script started
#   scripts/docker-engine.sh status  exit 0 when it answers
#   scripts/docker-engine.sh env     print `export DOCKER_HOST=...` (eval "$(... env)")
# State (data root, exec root, pidfile, socket, log) lives under $NNROSETTA_DOCKER_DIR
# (default /tmp/nnrosetta-docker). Host networking only: --bridge=none, no iptables.
# Needs root (dockerd); set DOCKERD to use another binary.
set -euo pipefail
dir=${NNROSETTA_DOCKER_DIR:-/tmp/nnrosetta-docker}
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
log="$dir/dockerd.log"
host="unix://$sock"
dockerd_bin=${DOCKERD:-$(command -v dockerd || echo /usr/sbin/dockerd)}

answers() { DOCKER_HOST="$host" timeout 10 docker info >/dev/null 2>&1; }
running_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if answers; then
    echo "[docker-engine] reusing the engine at $host" >&2
    echo "export DOCKER_HOST=$host"
    return 0
  fi
  if pid=$(running_pid); then
    echo "[docker-engine] dockerd $pid is running but not answering yet; waiting" >&2
  else
    [ -x "$dockerd_bin" ] || { echo "[docker-engine] dockerd not found: run scripts/setup-system.sh" >&2; exit 1; }
    mkdir -p "$dir/data" "$dir/exec"
    rm -f "$sock" "$pidfile"
    t0=$(date +%s%N)
    # setsid: the engine outlives this script and the shell that ran it.
    setsid "$dockerd_bin" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
      -H "$host" --storage-driver "${NNROSETTA_DOCKER_STORAGE:-overlay2}" \
      --iptables=false --ip6tables=false --bridge=none \
      >"$log" 2>&1 </dev/null &
    echo "[docker-engine] started dockerd (log: $log)" >&2
  fi
  for _ in $(seq 1 120); do
    if answers; then
      if [ -n "${t0:-}" ]; then
        ms=$((($(date +%s%N) - t0) / 1000000))
        echo "[docker-engine] ready in $((ms / 1000)).$(printf %03d $((ms % 1000))) s" >&2
      fi
      echo "export DOCKER_HOST=$host"
      return 0
    fi
    sleep 0.5
  done
  echo "[docker-engine] dockerd did not answer within 60 s; last lines of $log:" >&2
  tail -20 "$log" >&2 || true
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    echo "[docker-engine] not running (no live pid in $pidfile)" >&2
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    if ! kill -0 "$pid" 2>/dev/null; then
      # dockerd leaves its default network namespace mounted; unmounted, the state dir can go
      umount "$dir/exec/netns/default" 2>/dev/null || true
      echo "[docker-engine] stopped dockerd $pid" >&2
      return 0
    fi
    sleep 0.5
  done
  echo "[docker-engine] dockerd $pid still running after 30 s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if answers; then echo "[docker-engine] answering at $host"; else echo "[docker-engine] not answering at $host" >&2; exit 1; fi ;;
  env) echo "export DOCKER_HOST=$host" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
