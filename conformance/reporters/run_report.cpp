#include "reporters/run_report.hpp"

namespace conformance::reporters {

using interpreter::Verdict;
using Json = nlohmann::ordered_json;

Summary summarize(std::vector<interpreter::ScenarioResult> const& results) {
    Summary s;
    for (auto const& r : results) {
        ++s.total;
        switch (r.verdict) {
        case Verdict::pass: ++s.passed; break;
        case Verdict::fail: r.expected_failure ? ++s.expected_failures : ++s.failed; break;
        case Verdict::error: ++s.errors; break;
        case Verdict::notrun: ++s.notrun; break;
        }
    }
    return s;
}

Json json_report(RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                 std::vector<Requirement> const& requirements) {
    auto const s = summarize(results);
    Json report;
    report["tool"] = "relay-conformance";
    report["version"] = info.version;
    report["protocol_commit"] = info.protocol_commit;
    report["relay_url"] = info.relay_url;
    report["started_at"] = info.started_at;
    report["duration_ms"] = info.duration_ms;
    report["summary"] = {{"total", s.total},   {"passed", s.passed}, {"failed", s.failed},
                         {"errors", s.errors}, {"notrun", s.notrun}, {"expected_failures", s.expected_failures},
                         {"unexpected_passes", info.unexpected_passes.size()}};
    report["unexpected_passes"] = info.unexpected_passes;
    report["stale_expectations"] = info.stale_expectations;
    report["scenarios"] = Json::array();
    for (auto const& r : results) {
        auto const& sc = *r.scenario;
        Json j;
        j["id"] = sc.id;
        j["title"] = sc.title;
        j["file"] = sc.file;
        j["section"] = sc.section;
        j["requirements"] = sc.requirements;
        j["level"] = sc.level == scenario::Level::must ? "MUST" : "SHOULD";
        j["tags"] = sc.tags;
        j["verdict"] = interpreter::to_string(r.verdict);
        j["expected_failure"] = r.expected_failure;
        if (r.expected_failure) j["expected_reason"] = r.expected_reason;
        j["duration_ms"] = r.duration_ms;
        if (r.failure) {
            auto const& f = *r.failure;
            auto const* req = find_requirement(requirements, f.requirement);
            j["failure"] = {{"requirement", f.requirement}, {"requirement_text", req ? req->text : ""},
                            {"step", f.step},               {"step_text", f.step_text},
                            {"socket", f.socket},           {"expected", f.expected},
                            {"actual", f.actual},           {"message", f.message}};
        }
        j["steps"] = Json::array();
        for (auto const& step : r.steps)
            j["steps"].push_back({{"index", step.index}, {"text", step.text}, {"outcome", step.outcome}, {"elapsed_ms", step.elapsed_ms}});
        j["wire_log"] = Json::array();
        for (auto const& w : r.wire_log)
            j["wire_log"].push_back({{"t_ms", std::round(w.t_ms * 10) / 10}, {"socket", w.socket}, {"direction", w.direction},
                                     {"kind", w.kind}, {"text", w.text}});
        report["scenarios"].push_back(std::move(j));
    }
    return report;
}

nlohmann::json requirements_json(std::vector<Requirement> const& requirements) {
    auto out = nlohmann::json::array();
    for (auto const& r : requirements) out.push_back({{"id", r.id}, {"level", r.level}, {"text", r.text}});
    return out;
}

}  // namespace conformance::reporters
