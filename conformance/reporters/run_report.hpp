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
    bool strict = false;           // --strict: NON-STRICT differences fail the run
    double latency_ms = 0;         // the run's calibrated (or given) latency
    bool latency_given = false;    // --latency instead of calibration
    double time_scale = 1;
    unsigned repeat = 1;
    std::string profile = "paseo";  // the protocol profile run (--profile)
    std::string clients = "Paseo";  // whose clients the headline speaks of (the profile's)
    bool judging_clients = false;   // check-client: the headline speaks of the client under test
};

struct Summary {
    std::size_t total = 0, passed = 0, nonstrict = 0, failed = 0, blocked = 0, errors = 0, notrun = 0, flaky = 0,
                expected_failures = 0;
};

Summary summarize(std::vector<interpreter::ScenarioResult> const& results);

// Whether a result fails the run: a client would notice (or, strict, any difference), and the
// expectations file does not list it.
bool fails_run(interpreter::ScenarioResult const& result, bool strict);

// The line a relay author wants first: whether Paseo clients work with this relay, and how strictly
// it matches the official relay.
struct Headline {
    bool compatible = false;
    bool strict = false;
    std::string text;
};

Headline headline(Summary const& summary, std::string const& clients = "Paseo", bool judging_clients = false);

// The JSON report (docs/reports.md); the HTML report is rendered from it.
nlohmann::ordered_json json_report(RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                                   std::vector<Requirement> const& requirements);

nlohmann::json requirements_json(std::vector<Requirement> const& requirements);

}  // namespace conformance::reporters
