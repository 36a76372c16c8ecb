// JUnit XML: a testsuite per requirement section, a testcase per scenario (name = scenario id),
// <failure> for a deviation, <error> for a fault of the run, <skipped> for not run.
#pragma once

#include "reporters/run_report.hpp"

#include <ostream>

namespace conformance::reporters {

void write_junit(std::ostream& out, RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                 std::vector<Requirement> const& requirements);

}  // namespace conformance::reporters
