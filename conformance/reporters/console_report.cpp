#include "reporters/console_report.hpp"

#include <cstdio>
#include <map>

namespace conformance::reporters {

using interpreter::Verdict;

namespace {

struct Palette {
    bool on;
    std::string paint(char const* code, std::string const& text) const { return on ? "\033[" + std::string(code) + "m" + text + "\033[0m" : text; }
    std::string green(std::string const& t) const { return paint("32", t); }
    std::string red(std::string const& t) const { return paint("31", t); }
    std::string yellow(std::string const& t) const { return paint("33", t); }
    std::string dim(std::string const& t) const { return paint("2", t); }
};

std::string mark(interpreter::ScenarioResult const& r, Palette const& p) {
    if (r.expected_failure) return p.yellow(std::string(r.verdict == Verdict::flaky ? "~ flaky" : "✘") + " (expected)");
    switch (r.verdict) {
    case Verdict::pass: return p.green("✔");
    case Verdict::nonstrict: return p.yellow("✔ non-strict");
    case Verdict::fail: return p.red("✘");
    case Verdict::blocked: return p.red("✘ blocked by " + r.failure->requirement);
    case Verdict::error: return p.yellow("⚠ error");
    case Verdict::notrun: return p.dim("– not run");
    case Verdict::flaky: return p.red("~ flaky");
    }
    return "?";
}

std::string runs_line(interpreter::ScenarioResult const& r) {
    std::size_t passes = 0;
    std::string each;
    for (auto v : r.runs) {
        passes += interpreter::compatible(v);
        each += std::string(each.empty() ? "" : " ") + interpreter::to_string(v);
    }
    return std::to_string(passes) + "/" + std::to_string(r.runs.size()) + " runs passed: " + each;
}

void print_failure(std::ostream& out, interpreter::ScenarioResult const& r, std::vector<Requirement> const& requirements,
                   Palette const& p) {
    auto const& f = *r.failure;
    auto const* req = find_requirement(requirements, f.requirement);
    out << "      requirement: " << f.requirement << (req ? " (" + req->level + ") " + req->text : "") << "\n";
    out << "      step " << f.step << ": " << f.step_text << "\n";
    for (auto const& e : f.expected) out << "      expected: " << p.green(e) << "\n";
    if (!f.actual.empty()) out << "      actual:   " << p.red(f.actual) << "\n";
    if (!f.message.empty()) out << "      " << (r.verdict == Verdict::error ? "error: " : "why: ") << f.message << "\n";
    if (!r.client_output.empty()) out << "      the client's last lines:\n";
    for (auto const& line : r.client_output) out << "        " << p.dim(line) << "\n";
    std::vector<interpreter::WireEntry const*> recent;
    for (auto const& w : r.wire_log)
        if (f.socket.empty() || w.socket == f.socket) recent.push_back(&w);
    if (recent.empty()) return;
    out << "      recent wire log" << (f.socket.empty() ? "" : " of " + f.socket) << ":\n";
    for (auto i = recent.size() > 8 ? recent.size() - 8 : 0; i < recent.size(); ++i) {
        char t[32];
        std::snprintf(t, sizeof t, "%8.1f ms", recent[i]->t_ms);
        out << "        " << p.dim(t) << " " << recent[i]->socket << (recent[i]->direction == "out" ? " > " : " < ")
            << recent[i]->kind << " " << recent[i]->text << "\n";
    }
}

}  // namespace

void print_console(std::ostream& out, RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                   std::vector<Requirement> const& requirements, bool colour) {
    Palette const p{colour};
    std::map<std::string, std::vector<interpreter::ScenarioResult const*>> sections;
    for (auto const& r : results) sections[r.scenario->section].push_back(&r);
    auto const s = summarize(results);
    auto const h = headline(s, info.clients, info.judging_clients);
    out << (h.strict ? p.green(h.text) : h.compatible ? p.yellow(h.text) : p.red(h.text)) << "\n";
    char timing[160];
    std::snprintf(timing, sizeof timing, "latency %.0f ms (%s), time scale %g%s", info.latency_ms,
                  info.latency_given ? "given" : "calibrated", info.time_scale,
                  info.repeat > 1 ? (", each scenario " + std::to_string(info.repeat) + " times").c_str() : "");
    out << "relay-conformance " << info.version << " against " << info.relay_url << " (profile " << info.profile << ")" << p.dim(", " + std::string(timing)) << "\n";
    for (auto const& [section, members] : sections) {
        out << "\n" << section << "\n";
        for (auto const* r : members) {
            out << "  " << mark(*r, p) << " " << interpreter::display_id(*r) << p.dim(" — " + r->scenario->title) << "\n";
            if (r->runs.size() > 1 && r->verdict == Verdict::flaky) out << "      " << runs_line(*r) << "\n";
            if (r->failure && !r->expected_failure) print_failure(out, *r, requirements, p);
            for (auto const& d : r->nonstrict)
                out << "      " << p.yellow("non-strict") << " (" << d.requirement << ", step " << d.step << "): " << d.detail << "\n";
        }
    }
    out << "\n";
    for (auto const& id : info.unexpected_passes)
        out << p.yellow("unexpected pass: " + id + " is listed as an expected failure but passed; remove it from the expectations file") << "\n";
    for (auto const& id : info.stale_expectations)
        out << p.yellow("stale expectation: no selected scenario is called " + id) << "\n";
    char took[32];
    std::snprintf(took, sizeof took, "%.1f s", info.duration_ms / 1000);
    // The closing line CI tools read: what passes the run, and what fails it.
    std::size_t failing = 0;
    for (auto const& r : results) failing += fails_run(r, info.strict);
    out << (h.strict ? p.green(h.text) : h.compatible ? p.yellow(h.text) : p.red(h.text)) << "\n";
    out << p.dim(std::to_string(s.nonstrict) + " non-strict" + (info.strict ? " (failing: --strict)" : "") + ", " +
                 std::to_string(s.blocked) + " blocked, " + std::to_string(s.flaky) + " flaky, " + std::to_string(s.errors) +
                 " errors, " + std::to_string(s.notrun) + " not run, " + std::to_string(s.expected_failures) + " expected failures, " +
                 std::to_string(info.unexpected_passes.size()) + " unexpected passes, " + took)
        << "\n";
    out << s.total - failing - s.notrun << " passed, " << failing << " failed\n";
}

}  // namespace conformance::reporters
