// The report for a person at a terminal: scenarios grouped by requirement section with ✔/✘, every
// failure with its requirement, step, expected, actual and recent wire log, then a summary line.
#pragma once

#include "reporters/run_report.hpp"

#include <ostream>

namespace conformance::reporters {

void print_console(std::ostream& out, RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                   std::vector<Requirement> const& requirements, bool colour);

}  // namespace conformance::reporters
