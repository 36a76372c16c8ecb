#!/usr/bin/env bash
# Gate a Paseo daemon's CI on its relay-client behaviour (docs/client-protocol.md).
#
# Runs `relay-conformance check-client`: for every daemon (or app) scenario (client-scenarios/) the
# runner plays the relay on a fresh loopback port, starts your daemon with the command you give ({url}
# replaced by the relay's ws://127.0.0.1:PORT, {port} by PORT), checks what the daemon does, and stops
# it (SIGTERM to its process group, SIGKILL 3 s later). Writes JSON, JUnit and HTML reports and exits
# with the runner's code: 0 conformant (or deviating only as your expectations file says), 1 a
# scenario failed, was blocked or flaky, 2 the gate or the runner could not do its job (bad arguments,
# no runner).
#
# Usage: ci/gate-client.sh --client-cmd "CMD {url}" [options]
#   --client-cmd CMD       shell command that starts your daemon in the foreground, pointed at {url}
#   --kind KIND            the client under test: daemon (default) or app (the scenarios tagged so)
#   --reports DIR          where reports go (default: conformance-reports)
#   --expectations FILE    known deviations: they do not fail the gate, new failures do
#   --strict               NON-STRICT differences (details no relay depends on) fail the gate too
#   --runner PATH          the relay-conformance to run (default: the installed package's, or in a
#                          checkout, build it)
#   --                     everything after is passed to `relay-conformance check-client`
#                          (e.g. --include-long, --jobs 4, --requirement DAEMON-8)
set -euo pipefail

client_cmd="" kind="daemon" reports="conformance-reports" expectations="" strict=0 runner=""
extra=()
die() { echo "gate-client: $*" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --client-cmd) client_cmd="${2:?--client-cmd needs a command}"; shift 2 ;;
    --kind) kind="${2:?--kind needs daemon or app}"; shift 2 ;;
    --reports) reports="${2:?--reports needs a folder}"; shift 2 ;;
    --expectations) expectations="${2:?--expectations needs a file}"; shift 2 ;;
    --strict) strict=1; shift ;;
    --runner) runner="${2:?--runner needs a path}"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$client_cmd" ] || die "--client-cmd is required, e.g. --client-cmd \"./my-daemon --relay {url}\""
case "$client_cmd" in
  *"{url}"*|*"{port}"*) ;;
  *) die "--client-cmd must name {url} (or {port}): the runner listens on a fresh port per scenario" ;;
esac
case "$kind" in daemon|app) ;; *) die "--kind is daemon or app, not $kind" ;; esac
[ -z "$expectations" ] || [ -f "$expectations" ] || die "no expectations file at $expectations"

# Where the gate really is (it may be called through a link).
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
. "$here/gate-runner.sh"

mkdir -p "$reports"
args=(check-client --client-cmd "$client_cmd" --kind "$kind"
      --json "$reports/report.json" --junit "$reports/junit.xml" --html "$reports/report.html")
[ -n "$expectations" ] && args+=(--expectations "$expectations")
((strict)) && args+=(--strict)
set +e
"$runner" "${args[@]}" "${extra[@]}"
code=$?
set -e
echo "gate-client: reports in $reports/ (report.html, junit.xml, report.json); runner exit code $code" >&2
exit "$code"
