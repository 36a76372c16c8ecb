# `cmake --install` and the Debian package (`cpack -G DEB` in the build folder). Included last from the
# top-level CMakeLists.txt.
#
# The layout is fixed rather than taken from GNUInstallDirs: an installed relay-conformance finds its data
# at <its folder>/../share/relay-conformance (conformance/main.cpp, data_path) and reference-relay beside
# itself, and the gate finds the runner at ../../../bin from its own folder (ci/gate.sh).
set(relay_data share/relay-conformance)
set(relay_doc share/doc/relay-conformance)

install(TARGETS reference-relay relay-conformance RUNTIME DESTINATION bin)
install(DIRECTORY scenarios/ DESTINATION ${relay_data}/scenarios)
# The runner reads the requirement texts from protocol.md, so it is data: images that drop
# /usr/share/doc (Ubuntu's minimal ones do) must keep it.
install(FILES docs/protocol.md DESTINATION ${relay_data})
# Profiles (docs/scenario-format.md, Profiles): each profile.json names its requirements document and
# scenario folder relative to this folder, as in the source tree.
install(FILES profiles/profile.schema.json DESTINATION ${relay_data}/profiles)
install(FILES profiles/paseo/profile.json DESTINATION ${relay_data}/profiles/paseo)
install(FILES profiles/localfirst/profile.json DESTINATION ${relay_data}/profiles/localfirst)
install(DIRECTORY profiles/localfirst/scenarios/ DESTINATION ${relay_data}/profiles/localfirst/scenarios)
install(FILES docs/protocol.md DESTINATION ${relay_data}/docs)
# Client checks (check-client): paseo's client_requirements and client_scenarios, the test daemons left out.
install(FILES docs/client-protocol.md DESTINATION ${relay_data}/docs)
install(DIRECTORY client-scenarios/ DESTINATION ${relay_data}/client-scenarios PATTERN tests EXCLUDE)
install(DIRECTORY docs/profiles/ DESTINATION ${relay_data}/docs/profiles OPTIONAL)
install(PROGRAMS ci/gate.sh ci/gate-client.sh DESTINATION ${relay_data}/ci)
install(FILES ci/gate-runner.sh DESTINATION ${relay_data}/ci)
install(FILES ci/report.schema.json ci/junit.xsd DESTINATION ${relay_data}/ci)
# The gate on PATH. A link, not a copy: the gate finds the runner relative to where the link resolves.
file(CREATE_LINK ../${relay_data}/ci/gate.sh ${PROJECT_BINARY_DIR}/relay-conformance-gate SYMBOLIC)
file(CREATE_LINK ../${relay_data}/ci/gate-client.sh ${PROJECT_BINARY_DIR}/relay-conformance-gate-client SYMBOLIC)
install(FILES ${PROJECT_BINARY_DIR}/relay-conformance-gate ${PROJECT_BINARY_DIR}/relay-conformance-gate-client DESTINATION bin)

# The documentation keeps the source tree's shape, so its relative links still resolve.
install(FILES README.md DESTINATION ${relay_doc})
install(DIRECTORY docs/ DESTINATION ${relay_doc}/docs)
install(FILES ci/expectations/README.md DESTINATION ${relay_doc}/ci/expectations)
install(FILES ci/github-actions.yml ci/github-actions-daemon.yml ci/gitlab-ci.yml DESTINATION ${relay_doc}/ci)

# The relay as a system service (deploy/systemd/): the unit where Debian's packages keep theirs, and
# its options in /etc/default as a conffile, so dpkg keeps an administrator's edits on upgrade. In the
# package only: both paths lie outside any prefix `cmake --install` is given.
install(FILES deploy/systemd/reference-relay.service DESTINATION /lib/systemd/system
  COMPONENT service EXCLUDE_FROM_ALL)
install(FILES deploy/systemd/reference-relay.default DESTINATION /etc/default RENAME reference-relay
  COMPONENT service EXCLUDE_FROM_ALL)
file(WRITE ${PROJECT_BINARY_DIR}/conffiles "/etc/default/reference-relay\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/conffiles)
# Components only so that `cmake --install` can leave the service out; the package holds them all.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)

# Installing and packaging take the two binaries only: `cpack` would otherwise build every test first,
# which triples the build of the GitHub action and the GitLab template (action.yml, ci/gitlab-ci.yml).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CPACK_PACKAGE_NAME relay-conformance)
set(CPACK_PACKAGE_VENDOR "relay-conformance maintainers")
set(CPACK_PACKAGE_CONTACT "relay-conformance maintainers <maintainers@users.noreply.b-seed-d7c81340.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Paseo relay protocol conformance suite and reference relay")
set(CPACK_PACKAGE_DESCRIPTION "relay-conformance replays recorded traces of the official Paseo relay against \
any relay and reports, requirement by requirement, where it differs; relay-conformance-gate runs it in CI. \
reference-relay behaves like the official relay, for local development and tests.")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Runtime libraries (Boost.URL 1.81, OpenSSL 3, libstdc++) as dpkg-shlibdeps finds them in the binaries;
# curl is what the gate polls GET /health with.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS curl)
# Stripped: a build with debug information (-DCMAKE_BUILD_TYPE=RelWithDebInfo) packages 2 MB, not 41.
set(CPACK_STRIP_FILES ON)
include(CPack)

# The package end to end: build it, unpack it into a fresh root, run the library with what it installed.
if(BUILD_TESTING)
  add_test(NAME package.deb COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/ci/tests/check_package.py
    ${CMAKE_CPACK_COMMAND} ${PROJECT_BINARY_DIR})
  set_tests_properties(package.deb PROPERTIES LABELS package TIMEOUT 400)
endif()
