#include "reporters/html_report.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace conformance::reporters {

using ReportJson = nlohmann::json;

namespace {

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string text_of(ReportJson const& j, char const* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string shorten(std::string text, std::size_t max) {
    if (text.size() > max) text = text.substr(0, max) + "…";
    return text;
}

constexpr char const* style = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
header .meta{opacity:.8;font-size:12px}main{padding:16px 24px;max-width:1200px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}.card{background:#fff;border-radius:8px;padding:10px 16px;
box-shadow:0 1px 2px #0002;min-width:110px}.card b{display:block;font-size:22px}
.headline{font-size:18px;font-weight:600;margin:12px 0 4px}.pass{color:#137333}.nonstrict{color:#b06000}.fail{color:#c5221f}.error{color:#b06000}.notrun{color:#5f6368}.expected{color:#8430ce}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 24px}th,td{padding:6px 8px;border-bottom:1px solid #e3e6ea;
text-align:left;vertical-align:top}th{background:#eef0f3;font-weight:600}
details.scenario{background:#fff;border-radius:8px;margin:8px 0;box-shadow:0 1px 2px #0002}
details.scenario>summary{padding:8px 12px;cursor:pointer;list-style:none}details.scenario>summary::before{content:"▸ "}
details.scenario[open]>summary::before{content:"▾ "}.body{padding:0 12px 12px}
.failure{border-left:4px solid #c5221f;background:#fce8e6;padding:8px 12px;margin:8px 0;white-space:pre-wrap}
.failure.error{border-color:#b06000;background:#fef7e0}code,pre{font:12px ui-monospace,monospace}
.filters{margin:8px 0}.filters label{margin-right:12px}svg text{font:11px ui-monospace,monospace}
.tag{display:inline-block;background:#eef0f3;border-radius:4px;padding:0 5px;margin-right:3px;font-size:11px}
)";

constexpr char const* script = R"(
window.addEventListener('error',function(e){document.body.dataset.scriptErrors=(document.body.dataset.scriptErrors||'')+e.message+';';});
function applyFilter(){var only=document.getElementById('only-failing').checked;
document.querySelectorAll('details.scenario').forEach(function(d){
d.style.display=(only&&d.dataset.verdict==='pass')?'none':'';});}
document.getElementById('only-failing').addEventListener('change',applyFilter);
document.body.dataset.ready='1';
)";

std::string verdict_label(ReportJson const& s) {
    auto verdict = text_of(s, "verdict");
    if (s.value("expected_failure", false)) return "<span class=\"expected\">✘ expected " + escape(verdict) + "</span>";
    if (verdict == "pass") return "<span class=\"pass\">✔ pass</span>";
    if (verdict == "nonstrict") return "<span class=\"nonstrict\">✔ non-strict</span>";
    if (verdict == "fail") return "<span class=\"fail\">✘ fail</span>";
    if (verdict == "blocked") return "<span class=\"fail\">✘ blocked by " + escape(text_of(s, "blocked_by")) + "</span>";
    if (verdict == "flaky") return "<span class=\"fail\">~ flaky</span>";
    if (verdict == "error") return "<span class=\"error\">⚠ error</span>";
    return "<span class=\"notrun\">– not run</span>";
}

// NON-STRICT differences and, with --repeat, every run's verdict.
std::string grade_box(ReportJson const& s) {
    std::ostringstream out;
    if (s.contains("runs")) {
        out << "<p class=\"meta\">" << escape(text_of(s, "passes")) << " of " << s["runs"].size() << " runs passed:";
        for (auto const& v : s["runs"]) out << " " << escape(v.get<std::string>());
        out << "</p>";
    }
    if (!s.contains("nonstrict")) return out.str();
    out << "<ul class=\"differences\">";
    for (auto const& d : s["nonstrict"])
        out << "<li><span class=\"nonstrict\">non-strict</span> " << escape(text_of(d, "requirement")) << ", step "
            << escape(text_of(d, "step")) << ": " << escape(text_of(d, "detail")) << "</li>";
    out << "</ul>";
    return out.str();
}

// The relay's lane on the left, one lane per socket to its right, one arrow per wire event in time
// order; a failing scenario ends with a dashed arrow for what was expected at that step.
std::string sequence_diagram(ReportJson const& scenario) {
    auto const& log = scenario.contains("wire_log") ? scenario["wire_log"] : ReportJson::array();
    if (log.empty()) return "<p><i>No wire activity was recorded.</i></p>";
    std::vector<std::string> sockets;
    for (auto const& e : log) {
        auto name = text_of(e, "socket");
        if (std::find(sockets.begin(), sockets.end(), name) == sockets.end()) sockets.push_back(name);
    }
    ReportJson const* failure = scenario.contains("failure") && !scenario["failure"].is_null() ? &scenario["failure"] : nullptr;
    int const lane_gap = 240, row = 22, relay_x = 110;
    int top = 34;
    int const rows = int(log.size()) + (failure ? 1 : 0);
    int const height = top + rows * row + 16;
    int const width = relay_x + int(sockets.size()) * lane_gap + 40;
    std::ostringstream svg;
    svg << "<svg role=\"img\" aria-label=\"sequence diagram\" width=\"" << width << "\" height=\"" << height
        << "\" viewBox=\"0 0 " << width << " " << height << "\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" "
        << "refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
        << "<path d=\"M0,0L10,5L0,10z\" fill=\"context-stroke\"/></marker></defs>";
    auto lane_x = [&](std::string const& name) {
        return relay_x + lane_gap * (1 + int(std::find(sockets.begin(), sockets.end(), name) - sockets.begin()));
    };
    auto lane = [&](int x, std::string const& name) {
        svg << "<line x1=\"" << x << "\" y1=\"" << top - 10 << "\" x2=\"" << x << "\" y2=\"" << height - 6
            << "\" stroke=\"#9aa0a6\" stroke-dasharray=\"4 3\"/><text x=\"" << x << "\" y=\"14\" "
            << "text-anchor=\"middle\" font-weight=\"bold\">" << escape(shorten(name, 24)) << "</text>";
    };
    lane(relay_x, "relay");
    for (auto const& name : sockets) lane(lane_x(name), name);
    auto arrow = [&](int socket_x, bool outgoing, std::string const& colour, std::string const& label, bool dashed) {
        int const from = outgoing ? socket_x : relay_x, to = outgoing ? relay_x : socket_x;
        int const label_x = std::min(from, to) + 6;
        auto const room = std::size_t(std::max(8, (std::abs(to - from) - 12) / 7));
        svg << "<line x1=\"" << from << "\" y1=\"" << top << "\" x2=\"" << to << "\" y2=\"" << top << "\" stroke=\""
            << colour << "\"" << (dashed ? " stroke-dasharray=\"5 3\"" : "") << " marker-end=\"url(#arrow)\"/>"
            << "<text x=\"" << label_x << "\" y=\"" << (top - 4) << "\" fill=\"" << colour << "\">"
            << escape(shorten(label, room)) << "</text>";
    };
    for (auto const& e : log) {
        auto const kind = text_of(e, "kind");
        auto const colour = kind == "close" || kind == "ended" || kind == "drop" ? "#c5221f"
                            : kind == "http" || kind == "open"                    ? "#1a73e8"
                                                                                  : "#3c4043";
        svg << "<text x=\"4\" y=\"" << (top + 4) << "\" fill=\"#5f6368\">+" << escape(text_of(e, "t_ms")) << " ms</text>";
        arrow(lane_x(text_of(e, "socket")), text_of(e, "direction") == "out", colour, kind + " " + text_of(e, "text"), false);
        top += row;
    }
    if (failure) {
        auto const& expected = (*failure)["expected"];
        auto const first = expected.is_array() && !expected.empty() ? expected[0] : ReportJson(text_of(*failure, "message"));
        auto const socket = failure->contains("socket") ? text_of(*failure, "socket") : sockets.front();
        arrow(lane_x(std::find(sockets.begin(), sockets.end(), socket) == sockets.end() ? sockets.front() : socket), false,
              "#c5221f", "expected: " + (first.is_string() ? first.get<std::string>() : first.dump()), true);
    }
    svg << "</svg>";
    return svg.str();
}

std::string failure_box(ReportJson const& scenario) {
    if (!scenario.contains("failure") || scenario["failure"].is_null()) return {};
    auto const& f = scenario["failure"];
    std::ostringstream out;
    out << "<div class=\"failure" << (text_of(scenario, "verdict") == "error" ? " error" : "") << "\">";
    out << "<b>" << escape(text_of(f, "requirement")) << "</b> " << escape(text_of(f, "requirement_text")) << "\n";
    out << "<b>step " << escape(text_of(f, "step")) << ":</b> <code>" << escape(text_of(f, "step_text")) << "</code>\n";
    if (f.contains("expected"))
        for (auto const& alt : f["expected"]) out << "<b>expected:</b> " << escape(alt.is_string() ? alt.get<std::string>() : alt.dump()) << "\n";
    out << "<b>actual:</b> " << escape(text_of(f, "actual"));
    if (!text_of(f, "message").empty()) out << "\n" << escape(text_of(f, "message"));
    if (scenario.contains("client_output") && !scenario["client_output"].empty()) {
        out << "\n<b>the client's last lines:</b>";
        for (auto const& line : scenario["client_output"]) out << "\n  " << escape(line.get<std::string>());
    }
    out << "</div>";
    return out.str();
}

std::string steps_table(ReportJson const& scenario) {
    if (!scenario.contains("steps") || scenario["steps"].empty()) return {};
    std::ostringstream out;
    out << "<table><tr><th>#</th><th>step</th><th>outcome</th></tr>";
    for (auto const& step : scenario["steps"]) {
        auto const outcome = text_of(step, "outcome");
        auto const cls = outcome == "ok" ? "pass" : outcome == "fail" ? "fail" : outcome == "error" ? "error" : "notrun";
        out << "<tr><td>" << escape(text_of(step, "index")) << "</td><td><code>" << escape(text_of(step, "text"))
            << "</code></td><td class=\"" << cls << "\">" << escape(outcome) << "</td></tr>";
    }
    out << "</table>";
    return out.str();
}

std::string coverage_table(ReportJson const& report, ReportJson const& requirements) {
    std::map<std::string, std::vector<ReportJson const*>> by_requirement;
    for (auto const& s : report["scenarios"])
        for (auto const& r : s["requirements"]) by_requirement[r.get<std::string>()].push_back(&s);
    std::ostringstream out;
    out << "<table><tr><th>requirement</th><th>level</th><th>text</th><th>scenarios</th></tr>";
    for (auto const& req : requirements) {
        auto const id = text_of(req, "id");
        out << "<tr><td><b>" << escape(id) << "</b></td><td>" << escape(text_of(req, "level")) << "</td><td>"
            << escape(text_of(req, "text")) << "</td><td>";
        auto it = by_requirement.find(id);
        if (it == by_requirement.end()) out << "<span class=\"notrun\">not covered by this run</span>";
        else
            for (auto const* s : it->second)
                out << "<a href=\"#" << escape(text_of(*s, "id")) << "\">" << verdict_label(*s) << " "
                    << escape(text_of(*s, "id")) << "</a><br>";
        out << "</td></tr>";
    }
    out << "</table>";
    return out.str();
}

}  // namespace

std::string render_html_report(ReportJson const& report, ReportJson const& requirements) {
    auto const& summary = report.contains("summary") ? report["summary"] : ReportJson::object();
    std::ostringstream out;
    out << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>relay-conformance: "
        << escape(text_of(report, "relay_url")) << "</title><style>" << style << "</style></head><body>";
    // Paseo's page names the protocol commit its traces come from; another profile's names the profile.
    auto const profile = text_of(report, "profile");
    bool const paseo = profile.empty() || profile == "paseo";
    out << "<header><h1>" << (paseo ? std::string("Paseo") : escape(profile)) << " relay conformance</h1><div class=\"meta\">"
        << escape(text_of(report, "relay_url")) << " · relay-conformance " << escape(text_of(report, "version"));
    if (paseo) out << " · protocol at getpaseo/paseo " << escape(shorten(text_of(report, "protocol_commit"), 12));
    else out << " · profile " << escape(profile);
    out << " · " << escape(text_of(report, "started_at")) << "</div></header><main>";
    auto const& verdict = report.contains("verdict") ? report["verdict"] : ReportJson::object();
    auto const& timing = report.contains("timing") ? report["timing"] : ReportJson::object();
    out << "<p class=\"headline " << (verdict.value("strict", false) ? "pass" : verdict.value("compatible", false) ? "nonstrict" : "fail")
        << "\" id=\"headline\">" << escape(text_of(verdict, "headline")) << "</p><div class=\"meta\">latency "
        << escape(text_of(timing, "latency_ms")) << " ms (" << escape(text_of(timing, "latency_source")) << "), time scale "
        << escape(text_of(timing, "time_scale")) << (verdict.value("strict_mode", false) ? ", --strict" : "") << "</div>";
    out << "<div class=\"cards\">";
    for (auto const& [key, label, cls] : {std::tuple{"passed", "passed", "pass"}, std::tuple{"nonstrict", "non-strict", "nonstrict"},
                                          std::tuple{"failed", "failed", "fail"}, std::tuple{"blocked", "blocked", "fail"},
                                          std::tuple{"flaky", "flaky", "fail"}, std::tuple{"errors", "errors", "error"},
                                          std::tuple{"notrun", "not run", "notrun"},
                                          std::tuple{"expected_failures", "expected", "expected"}}) {
        out << "<div class=\"card\"><b class=\"" << cls << "\">" << escape(text_of(summary, key)) << "</b>" << label << "</div>";
    }
    out << "</div>";
    out << "<h2>Scenarios</h2><div class=\"filters\"><label><input type=\"checkbox\" id=\"only-failing\"> only what did not pass</label></div>";
    for (auto const& s : report["scenarios"]) {
        auto const verdict = text_of(s, "verdict");
        out << "<details class=\"scenario\" id=\"" << escape(text_of(s, "id")) << "\" data-verdict=\"" << escape(verdict) << "\""
            << (verdict == "pass" || s.value("expected_failure", false) ? "" : " open") << "><summary>" << verdict_label(s)
            << " <b>" << escape(text_of(s, "id")) << "</b> — " << escape(text_of(s, "title")) << " <span class=\"meta\">";
        for (auto const& r : s["requirements"]) out << "<span class=\"tag\">" << escape(r.get<std::string>()) << "</span>";
        out << "</span></summary><div class=\"body\">" << grade_box(s) << failure_box(s) << sequence_diagram(s) << steps_table(s)
            << "</div></details>";
    }
    if (!requirements.empty()) out << "<h2>Requirements</h2>" << coverage_table(report, requirements);
    out << "</main><script>" << script << "</script></body></html>\n";
    return out.str();
}

}  // namespace conformance::reporters
