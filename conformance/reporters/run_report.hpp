// A finished run as the reporters see it: every scenario's result and what the run was.
#pragma once

#include "interpreter/result.hpp"
#include "requirements.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace conformance::reporters {

struct RunInfo {
    std::string relay_url;
    std::string version;
    std::string protocol_commit;
    std::string started_at;  // ISO 8601, UTC
    double duration_ms = 0;
    std::vector<std::string> unexpected_passes;    // listed as expected failures, but passed
    std::vector<std::string> stale_expectations;   // listed, but no such scenario was selected
};

struct Summary {
    std::size_t total = 0, passed = 0, failed = 0, errors = 0, notrun = 0, expected_failures = 0;
};

Summary summarize(std::vector<interpreter::ScenarioResult> const& results);

// The JSON report (docs/reports.md); the HTML report is rendered from it.
nlohmann::ordered_json json_report(RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                                   std::vector<Requirement> const& requirements);

nlohmann::json requirements_json(std::vector<Requirement> const& requirements);

}  // namespace conformance::reporters
