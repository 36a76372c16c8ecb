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
    switch (r.verdict) {
    case Verdict::pass: return p.green("✔");
    case Verdict::fail: return r.expected_failure ? p.yellow("✘ (expected)") : p.red("✘");
    case Verdict::error: return p.yellow("⚠ error");
    case Verdict::notrun: return p.dim("– not run");
    }
    return "?";
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
    out << "relay-conformance " << info.version << " against " << info.relay_url << "\n";
    for (auto const& [section, members] : sections) {
        out << "\n" << section << "\n";
        for (auto const* r : members) {
            out << "  " << mark(*r, p) << " " << r->scenario->id << p.dim(" — " + r->scenario->title) << "\n";
            if (r->failure && !(r->verdict == Verdict::fail && r->expected_failure)) print_failure(out, *r, requirements, p);
        }
    }
    auto const s = summarize(results);
    out << "\n";
    for (auto const& id : info.unexpected_passes)
        out << p.yellow("unexpected pass: " + id + " is listed as an expected failure but passed; remove it from the expectations file") << "\n";
    for (auto const& id : info.stale_expectations)
        out << p.yellow("stale expectation: no selected scenario is called " + id) << "\n";
    char took[32];
    std::snprintf(took, sizeof took, "%.1f s", info.duration_ms / 1000);
    out << s.passed << " passed, " << s.failed << " failed\n";
    out << p.dim(std::to_string(s.errors) + " errors, " + std::to_string(s.notrun) + " not run, " +
                 std::to_string(s.expected_failures) + " expected failures, " + std::to_string(info.unexpected_passes.size()) +
                 " unexpected passes, " + took)
        << "\n";
}

}  // namespace conformance::reporters
