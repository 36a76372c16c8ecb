# Sourced by ci/gate.sh and ci/gate-client.sh: sets $runner to the relay-conformance the gate runs,
# unless --runner gave one. Needs $here (the gate's real folder, links resolved) and die().
if [ -z "$runner" ]; then
  if [ -x "$here/../.ci/setup" ]; then
    # A checkout: build the runner.
    "$here/../.ci/setup" >&2 || die "building relay-conformance failed"
    runner="$here/../build/relay-conformance"
  else
    # Installed as <prefix>/share/relay-conformance/ci/ (cmake/packaging.cmake).
    runner="$here/../../../bin/relay-conformance"
  fi
fi
[ -x "$runner" ] || die "no runner at $runner; pass --runner, build this checkout or install the package"
