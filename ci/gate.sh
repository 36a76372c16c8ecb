#!/usr/bin/env bash
# Gate a relay's CI on Paseo relay protocol conformance.
#
# Starts your relay with the command you give, waits until it answers GET /health, runs the
# relay-conformance suite against it, writes JSON, JUnit and HTML reports, stops the relay, and exits
# with the runner's code: 0 conformant (or deviating only as your expectations file says), 1 a
# scenario failed, 2 the gate or the runner could not do its job (bad arguments, relay never healthy).
#
# Usage: ci/gate.sh --relay-cmd "CMD" --url ws://127.0.0.1:PORT [options]
#        relay-conformance-gate ...   (the same, installed by the Debian package)
#   --relay-cmd CMD        shell command that starts your relay in the foreground (omit with --no-start)
#   --url URL              where the relay listens (ws:// or wss://; a private certificate needs
#                          -- --ca-file FILE or -- --insecure)
#   --no-start             the relay is already running at --url
#   --reports DIR          where reports go (default: conformance-reports)
#   --expectations FILE    known deviations: they do not fail the gate, new failures do
#   --runner PATH          the relay-conformance to run (default: the installed package's, or in a
#                          checkout, build it)
#   --health-timeout SEC   how long to wait for GET /health (default: 60)
#   --                     everything after is passed to `relay-conformance run` (e.g. --tag v2)
set -euo pipefail

relay_cmd="" url="" start=1 reports="conformance-reports" expectations="" runner="" health_timeout=60
extra=()
die() { echo "gate: $*" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --relay-cmd) relay_cmd="${2:?--relay-cmd needs a command}"; shift 2 ;;
    --url) url="${2:?--url needs a URL}"; shift 2 ;;
    --no-start) start=0; shift ;;
    --reports) reports="${2:?--reports needs a folder}"; shift 2 ;;
    --expectations) expectations="${2:?--expectations needs a file}"; shift 2 ;;
    --runner) runner="${2:?--runner needs a path}"; shift 2 ;;
    --health-timeout) health_timeout="${2:?--health-timeout needs seconds}"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$url" ] || die "--url is required, e.g. --url ws://127.0.0.1:8787"
((start == 0)) || [ -n "$relay_cmd" ] || die "--relay-cmd is required unless --no-start"

# Where the gate really is: relay-conformance-gate on PATH is a link to it.
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
. "$here/gate-runner.sh"

mkdir -p "$reports"
relay_log="$reports/relay.log"
relay_pid=""
stop_relay() {
  [ -n "$relay_pid" ] || return 0
  kill -TERM -- "-$relay_pid" 2>/dev/null || kill -TERM "$relay_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$relay_pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$relay_pid" 2>/dev/null || kill -KILL "$relay_pid" 2>/dev/null || true
}
trap stop_relay EXIT

if ((start)); then
  setsid bash -c "$relay_cmd" >"$relay_log" 2>&1 &
  relay_pid=$!
fi

health_url="$(echo "$url" | sed -E 's#^ws(s?)://#http\1://#; s#/+$##')/health"
deadline=$((SECONDS + health_timeout))
until curl -fsS -k -m 2 "$health_url" >/dev/null 2>&1; do
  if [ -n "$relay_pid" ] && ! kill -0 "$relay_pid" 2>/dev/null; then
    echo "gate: the relay exited before answering $health_url; its log:" >&2
    tail -n 50 "$relay_log" >&2
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    echo "gate: no answer from $health_url within ${health_timeout}s; the relay's log:" >&2
    [ -f "$relay_log" ] && tail -n 50 "$relay_log" >&2
    exit 2
  fi
  sleep 0.5
done

args=(run --url "$url" --json "$reports/report.json" --junit "$reports/junit.xml" --html "$reports/report.html")
[ -n "$expectations" ] && args+=(--expectations "$expectations")
set +e
"$runner" "${args[@]}" "${extra[@]}"
code=$?
set -e
echo "gate: reports in $reports/ (report.html, junit.xml, report.json); runner exit code $code" >&2
exit "$code"
