#include "reporters/junit_report.hpp"

#include <cstdio>
#include <map>

namespace conformance::reporters {

using interpreter::Verdict;

namespace {

// XML 1.0 allows no control characters but tab, newline and carriage return, even escaped.
std::string xml(std::string_view text) {
    std::string out;
    for (char c : text) {
        auto const u = static_cast<unsigned char>(c);
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", u);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string seconds(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
    return buf;
}

std::string failure_text(interpreter::ScenarioResult const& r, std::vector<Requirement> const& requirements) {
    auto const& f = *r.failure;
    auto const* req = find_requirement(requirements, f.requirement);
    std::string text = f.requirement + (req ? " (" + req->level + ") " + req->text : "") + "\nstep " + std::to_string(f.step) +
                       ": " + f.step_text + "\n";
    for (auto const& e : f.expected) text += "expected: " + e + "\n";
    if (!f.actual.empty()) text += "actual:   " + f.actual + "\n";
    if (!f.message.empty()) text += f.message + "\n";
    text += "wire log:\n";
    auto const from = r.wire_log.size() > 20 ? r.wire_log.size() - 20 : 0;
    for (auto i = from; i < r.wire_log.size(); ++i) {
        auto const& w = r.wire_log[i];
        text += "  +" + seconds(w.t_ms) + "s " + w.socket + (w.direction == "out" ? " > " : " < ") + w.kind + " " + w.text + "\n";
    }
    if (!r.client_output.empty()) text += "the client's last lines:\n";
    for (auto const& line : r.client_output) text += "  " + line + "\n";
    return text;
}

}  // namespace

void write_junit(std::ostream& out, RunInfo const& info, std::vector<interpreter::ScenarioResult> const& results,
                 std::vector<Requirement> const& requirements) {
    std::map<std::string, std::vector<interpreter::ScenarioResult const*>> sections;
    for (auto const& r : results) sections[r.scenario->section].push_back(&r);
    struct Counts {
        std::size_t failures = 0, errors = 0, skipped = 0;
    };
    auto const count = [&](auto const& members) {
        Counts c;
        for (auto const* r : members) {
            c.errors += r->verdict == Verdict::error && !r->expected_failure;
            c.failures += fails_run(*r, info.strict) && r->verdict != Verdict::error;
            c.skipped += r->verdict == Verdict::notrun || r->expected_failure;
        }
        return c;
    };
    std::vector<interpreter::ScenarioResult const*> all;
    for (auto const& r : results) all.push_back(&r);
    auto const total = count(all);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites name=\"relay-conformance\" tests=\"" << results.size() << "\" failures=\"" << total.failures
        << "\" errors=\"" << total.errors << "\" skipped=\"" << total.skipped << "\" time=\"" << seconds(info.duration_ms) << "\">\n";
    for (auto const& [section, members] : sections) {
        auto const c = count(members);
        double time = 0;
        for (auto const* r : members) time += r->duration_ms;
        out << "  <testsuite name=\"" << xml(section) << "\" tests=\"" << members.size() << "\" failures=\"" << c.failures
            << "\" errors=\"" << c.errors << "\" skipped=\"" << c.skipped << "\" time=\"" << seconds(time) << "\" timestamp=\""
            << xml(info.started_at.substr(0, 19)) << "\">\n";
        out << "    <properties>\n      <property name=\"relay_url\" value=\"" << xml(info.relay_url) << "\"/>\n"
            << "      <property name=\"suite_version\" value=\"" << xml(info.version) << "\"/>\n"
            << "      <property name=\"protocol_commit\" value=\"" << xml(info.protocol_commit) << "\"/>\n"
            << "      <property name=\"profile\" value=\"" << xml(info.profile) << "\"/>\n    </properties>\n";
        for (auto const* r : members) {
            out << "    <testcase name=\"" << xml(interpreter::display_id(*r)) << "\" classname=\"" << xml(section) << "\" time=\""
                << seconds(r->duration_ms) << "\"";
            if (r->verdict == Verdict::pass) {
                out << "/>\n";
                continue;
            }
            out << ">\n";
            std::string differences;
            for (auto const& d : r->nonstrict)
                differences += "non-strict (" + d.requirement + ", step " + std::to_string(d.step) + "): " + d.detail + "\n";
            if (r->expected_failure) {
                out << "      <skipped message=\"" << xml("expected: " + r->expected_reason) << "\"/>\n";
            } else if (r->verdict == Verdict::notrun) {
                out << "      <skipped message=\"not run: the relay stopped answering\"/>\n";
            } else if (r->verdict == Verdict::error) {
                auto const message = r->failure ? r->failure->message : std::string("error");
                out << "      <error type=\"runner\" message=\"" << xml(message) << "\">"
                    << (r->failure ? xml(failure_text(*r, requirements)) : "") << "</error>\n";
            } else if (r->verdict == Verdict::nonstrict && info.strict) {
                out << "      <failure type=\"NON-STRICT\" message=\"" << xml(r->nonstrict.front().detail) << "\">" << xml(differences)
                    << "</failure>\n";
            } else if (r->failure) {
                auto const& f = *r->failure;
                auto const type = r->verdict == Verdict::blocked ? "blocked by " + f.requirement
                                  : r->verdict == Verdict::flaky  ? std::string("flaky")
                                                                  : f.requirement;
                out << "      <failure type=\"" << xml(type) << "\" message=\""
                    << xml(type + ", step " + std::to_string(f.step) + ": " + f.actual) << "\">" << xml(failure_text(*r, requirements))
                    << "</failure>\n";
            }
            if (!differences.empty()) out << "      <system-out>" << xml(differences) << "</system-out>\n";
            out << "    </testcase>\n";
        }
        out << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
}

}  // namespace conformance::reporters
