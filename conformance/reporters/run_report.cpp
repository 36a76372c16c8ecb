#include "reporters/run_report.hpp"

#include <algorithm>
#include <cmath>

namespace conformance::reporters {

using interpreter::Verdict;
using Json = nlohmann::ordered_json;

Summary summarize(std::vector<interpreter::ScenarioResult> const& results) {
    Summary s;
    for (auto const& r : results) {
        ++s.total;
        if (r.expected_failure) {
            ++s.expected_failures;
            continue;
        }
        switch (r.verdict) {
        case Verdict::pass: ++s.passed; break;
        case Verdict::nonstrict: ++s.nonstrict; break;
        case Verdict::fail: ++s.failed; break;
        case Verdict::blocked: ++s.blocked; break;
        case Verdict::error: ++s.errors; break;
        case Verdict::notrun: ++s.notrun; break;
        case Verdict::flaky: ++s.flaky; break;
        }
    }
    return s;
}

bool fails_run(interpreter::ScenarioResult const& r, bool strict) {
    if (r.expected_failure) return false;
    switch (r.verdict) {
    case Verdict::pass:
    case Verdict::notrun: return false;
    case Verdict::nonstrict: return strict;
    default: return true;
    }
}

Headline headline(Summary const& s, std::string const& clients, bool judging_clients) {
    Headline h;
    h.compatible = s.failed + s.blocked + s.errors + s.flaky + s.notrun == 0;
    h.strict = h.compatible && s.nonstrict == 0;
    auto const count = [](std::size_t n, char const* what) { return std::to_string(n) + " " + what; };
    // A relay run judges a relay for the profile's clients; check-client judges a client for the relay.
    auto const partner = judging_clients ? "the " + clients + " relay" : clients + " clients";
    auto const official = judging_clients ? "the official client" : "the official relay";
    auto const dependents = judging_clients ? "the relay and its peers do not depend on" : "no client depends on";
    if (h.strict) {
        h.text = "Compatible with " + partner + ", and strictly: no difference from " + official + " in " + count(s.passed, "scenarios");
    } else if (h.compatible) {
        h.text = "Compatible with " + partner + ", not strictly: " + count(s.nonstrict, "scenarios") + " differ from " + official +
                 " only in details " + dependents;
    } else {
        std::string why;
        for (auto const& [n, what] : {std::pair{s.failed, "failed"}, std::pair{s.blocked, "blocked"}, std::pair{s.flaky, "flaky"},
                                      std::pair{s.errors, "could not be run"}, std::pair{s.notrun, "not run"}})
            if (n) why += (why.empty() ? "" : ", ") + count(n, what);
        h.text = "NOT compatible with " + partner + ": " + why;
    }
    if (s.expected_failures) h.text += " (" + count(s.expected_failures, "known deviations expected") + ")";
    return h;
}

Json json_report(RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                 std::vector<Requirement> const& requirements) {
    auto const s = summarize(results);
    Json report;
    report["tool"] = "relay-conformance";
    report["version"] = info.version;
    report["protocol_commit"] = info.protocol_commit;
    report["profile"] = info.profile;
    report["relay_url"] = info.relay_url;
    report["started_at"] = info.started_at;
    report["duration_ms"] = info.duration_ms;
    auto const h = headline(s, info.clients, info.judging_clients);
    report["verdict"] = {{"compatible", h.compatible}, {"strict", h.strict}, {"strict_mode", info.strict}, {"headline", h.text}};
    report["timing"] = {{"latency_ms", std::round(info.latency_ms * 10) / 10},
                        {"latency_source", info.latency_given ? "given" : "calibrated"},
                        {"time_scale", info.time_scale},
                        {"repeat", info.repeat}};
    report["summary"] = {{"total", s.total},       {"passed", s.passed}, {"nonstrict", s.nonstrict},
                         {"failed", s.failed},     {"blocked", s.blocked}, {"errors", s.errors},
                         {"notrun", s.notrun},     {"flaky", s.flaky},   {"expected_failures", s.expected_failures},
                         {"unexpected_passes", info.unexpected_passes.size()}};
    report["unexpected_passes"] = info.unexpected_passes;
    report["stale_expectations"] = info.stale_expectations;
    report["scenarios"] = Json::array();
    for (auto const& r : results) {
        auto const& sc = *r.scenario;
        Json j;
        j["id"] = interpreter::display_id(r);
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
        if (r.verdict == Verdict::blocked && r.failure) j["blocked_by"] = r.failure->requirement;
        if (!r.nonstrict.empty()) {
            j["nonstrict"] = Json::array();
            for (auto const& d : r.nonstrict) j["nonstrict"].push_back({{"step", d.step}, {"requirement", d.requirement}, {"detail", d.detail}});
        }
        if (!r.runs.empty()) {
            j["runs"] = Json::array();
            for (auto v : r.runs) j["runs"].push_back(interpreter::to_string(v));
            j["passes"] = std::count_if(r.runs.begin(), r.runs.end(), interpreter::compatible);
        }
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
        if (!r.client_output.empty()) j["client_output"] = r.client_output;
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
