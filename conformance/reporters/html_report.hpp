// The HTML report: one self-contained file (no network, no external assets) rendered from the JSON
// report, with the summary, requirement coverage, and a sequence diagram of every scenario's trace.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace conformance::reporters {

// `report` is the JSON report (docs/reports.md); `requirements` is an array of {id, level, text}
// from docs/protocol.md, for the coverage table (may be empty).
std::string render_html_report(nlohmann::json const& report, nlohmann::json const& requirements);

}  // namespace conformance::reporters
