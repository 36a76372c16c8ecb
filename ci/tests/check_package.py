#!/usr/bin/python3
"""The Debian package end to end, for CTest (label `package`): builds it with CPack, checks its metadata
(every shared library the binaries load is a dependency; /etc/default/reference-relay is a conffile), unpacks
it into a fresh root, checks that the systemd unit starts the installed relay with options it accepts and, from a folder
outside the repository, lists the library and runs all of it with the unpacked runner, which starts the
unpacked reference relay itself. Nothing may come from the source tree: the runner must find its
scenarios, schema and protocol.md beside itself.

Usage: check_package.py CPACK BUILD_DIR
"""
import pathlib
import re
import subprocess
import sys
import tempfile

RUN_TIMEOUT_S = 180
INSTALLED = [
    "usr/bin/relay-conformance", "usr/bin/reference-relay", "usr/bin/relay-conformance-gate",
    "usr/share/relay-conformance/scenarios/scenario.schema.json", "usr/share/relay-conformance/protocol.md",
    "usr/share/relay-conformance/ci/gate.sh", "usr/share/relay-conformance/ci/report.schema.json",
    "usr/share/relay-conformance/ci/junit.xsd", "usr/share/doc/relay-conformance/README.md",
    "usr/share/doc/relay-conformance/docs/ci.md", "usr/share/doc/relay-conformance/ci/expectations/README.md",
    "lib/systemd/system/reference-relay.service", "etc/default/reference-relay",
    "usr/bin/relay-conformance-gate-client", "usr/share/relay-conformance/ci/gate-client.sh",
    "usr/share/relay-conformance/ci/gate-runner.sh",
    "usr/share/relay-conformance/client-scenarios/client-scenario.schema.json",
    "usr/share/relay-conformance/client-scenarios/daemon/control.json", "usr/share/relay-conformance/docs/client-protocol.md",
]


class PackageError(Exception):
    pass


def check(condition, message):
    if not condition:
        raise PackageError(message)


def run(command, cwd=None, timeout=RUN_TIMEOUT_S):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    check(done.returncode == 0, f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def build_package(cpack, build_dir, out):
    run([cpack, "-G", "DEB", "--config", build_dir / "CPackConfig.cmake", "-B", out], timeout=300)
    debs = list(out.glob("*.deb"))
    check(len(debs) == 1, f"cpack made {len(debs)} .deb files in {out}, not 1")
    return debs[0]


def owning_packages(library):
    """The installed Debian packages that ship `library` (a NEEDED name such as libssl.so.3)."""
    listing = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True, text=True, timeout=60).stdout
    return {line.split(":")[0] for line in listing.splitlines()}


def needed_libraries(binary):
    dump = run(["objdump", "-p", binary])
    return set(re.findall(r"^\s*NEEDED\s+(\S+)$", dump, re.M))


def check_metadata(deb, root):
    info = run(["dpkg-deb", "-I", deb])
    fields = dict(re.findall(r"^ (\w[\w-]*): (.*)$", info, re.M))
    check(fields.get("Package") == "relay-conformance", f"Package is {fields.get('Package')!r}")
    check(fields.get("Version"), "the package has no Version")
    depends = {d.split()[0] for d in fields.get("Depends", "").split(", ") if d}
    check("curl" in depends, f"curl (the gate's health check) is not in Depends: {sorted(depends)}")
    for binary in ("relay-conformance", "reference-relay"):
        for library in needed_libraries(root / "usr/bin" / binary):
            check(owning_packages(library) & depends,
                  f"{binary} loads {library} (from {sorted(owning_packages(library))}), which Depends lacks: {sorted(depends)}")
    conffiles = run(["dpkg-deb", "--info", deb, "conffiles"]).split()
    check(conffiles == ["/etc/default/reference-relay"], f"conffiles are {conffiles}, not /etc/default/reference-relay")
    print(f"metadata: {fields['Package']} {fields['Version']} Depends: {fields['Depends']}")


def check_installed_runner(root, outside):
    runner = root / "usr/bin/relay-conformance"
    # Run from elsewhere, it finds the Paseo profile and its scenarios under the package's share folder.
    listed = run([runner, "list"], cwd=outside)
    check("v2-ctrl-sync-on-open" in listed, f"the unpacked runner lists no scenario of the package: {listed[:200]!r}")
    listed = run([runner, "list", "--coverage"], cwd=outside)
    selected = re.search(r"^(\d+) of (\d+) scenarios selected$", listed, re.M)
    check(selected and int(selected[1]) > 40, f"the unpacked runner lists no library:\n{listed}")
    check(re.search(r"^\s*V2-WD-1\b", listed, re.M), f"coverage names no requirement of protocol.md:\n{listed}")
    listed = run([runner, "list", "--client", "--coverage"], cwd=outside)
    check("daemon-control-request" in listed and re.search(r"^\s*DAEMON-1\b", listed, re.M),
          f"the unpacked runner lists no client scenario or requirement:\n{listed[:400]}")
    report = run([runner, "run"], cwd=outside)
    summary = re.search(r"(\d+) passed, (\d+) failed", report)
    check(summary and int(summary[1]) == int(selected[1]) and summary[2] == "0",
          f"the unpacked runner did not pass all {selected[1]} scenarios:\n{report}")
    print(f"installed runner: {summary[0]}")


def check_service(root):
    """The unit runs the installed relay with the installed options, which the relay accepts."""
    unit = (root / "lib/systemd/system/reference-relay.service").read_text()
    check(re.search(r"^ExecStart=/usr/bin/reference-relay$", unit, re.M), "the unit does not start /usr/bin/reference-relay")
    check(re.search(r"^EnvironmentFile=-?/etc/default/reference-relay$", unit, re.M),
          "the unit does not read /etc/default/reference-relay")
    settings = dict(re.findall(r"^(RELAY_\w+)=(.*)$", (root / "etc/default/reference-relay").read_text(), re.M))
    done = subprocess.run([root / "usr/bin/reference-relay", "--help"], capture_output=True, text=True, timeout=60,
                          env={**settings, "PATH": "/usr/bin:/bin"})
    check(done.returncode == 0, f"reference-relay --help with /etc/default/reference-relay exited {done.returncode}: {done.stderr}")
    print(f"service: unit and options ({', '.join(sorted(settings))})")


def main(cpack, build_dir):
    with tempfile.TemporaryDirectory(prefix="relay-conformance-package-") as tmp:
        tmp = pathlib.Path(tmp)
        deb = build_package(cpack, pathlib.Path(build_dir), tmp / "out")
        root = tmp / "root"
        run(["dpkg-deb", "-x", deb, root])
        for path in INSTALLED:
            check((root / path).exists(), f"the package lacks /{path}")
        check_metadata(deb, root)
        check_service(root)
        outside = tmp / "elsewhere"
        outside.mkdir()
        check_installed_runner(root, outside)


if __name__ == "__main__":
    try:
        main(*sys.argv[1:3])
    except PackageError as e:
        sys.exit(f"check_package: {e}")
