#include "selection.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fnmatch.h>
#include <fstream>

namespace conformance {

using Json = nlohmann::ordered_json;

bool glob_match(std::string const& pattern, std::string const& text) { return fnmatch(pattern.c_str(), text.c_str(), 0) == 0; }

namespace {

bool contains(std::vector<std::string> const& list, std::string const& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

bool any_of(std::vector<std::string> const& wanted, std::vector<std::string> const& have) {
    return std::any_of(wanted.begin(), wanted.end(), [&](auto const& w) { return contains(have, w); });
}

bool any_matches(std::vector<std::string> const& globs, std::vector<std::string> const& have) {
    return std::any_of(globs.begin(), globs.end(),
                       [&](auto const& g) { return std::any_of(have.begin(), have.end(), [&](auto const& h) { return glob_match(g, h); }); });
}

bool excluded(scenario::Scenario const& s, std::vector<std::string> const& excludes) {
    for (auto const& e : excludes) {
        if (e.rfind("tag:", 0) == 0 && contains(s.tags, e.substr(4))) return true;
        if (e.rfind("req:", 0) == 0 && any_matches({e.substr(4)}, s.requirements)) return true;
        if (e.find(':') == std::string::npos && glob_match(e, s.id)) return true;
    }
    return false;
}

}  // namespace

std::vector<scenario::Scenario const*> select(std::vector<scenario::Scenario> const& all, Selectors const& sel) {
    std::vector<scenario::Scenario const*> out;
    for (auto const& s : all) {
        bool const by_id = std::any_of(sel.ids.begin(), sel.ids.end(), [&](auto const& g) { return glob_match(g, s.id); });
        if (!sel.ids.empty() && !by_id) continue;
        if (!sel.tags.empty() && !any_of(sel.tags, s.tags)) continue;
        if (!sel.requirements.empty() && !any_matches(sel.requirements, s.requirements)) continue;
        if (excluded(s, sel.excludes)) continue;
        bool const long_asked = sel.include_long || by_id || contains(sel.tags, "long");
        if (contains(s.tags, "long") && !long_asked) continue;
        out.push_back(&s);
    }
    return out;
}

Expectations read_expectations(std::filesystem::path const& file) {
    std::ifstream in(file);
    if (!in) throw ExpectationsError(file.string() + ": cannot be read");
    auto doc = Json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("expected_failures") || !doc["expected_failures"].is_object())
        throw ExpectationsError(file.string() + ": expected {\"relay\": \"...\", \"expected_failures\": {\"scenario-id\": \"why\"}}");
    Expectations e;
    e.relay = doc.value("relay", std::string());
    for (auto const& [id, why] : doc["expected_failures"].items())
        e.expected_failures[id] = why.is_string() ? why.get<std::string>() : why.dump();
    return e;
}

void write_expectations(std::filesystem::path const& file, std::string const& relay,
                        std::vector<interpreter::ScenarioResult> const& results) {
    Json doc;
    doc["relay"] = relay;
    doc["expected_failures"] = Json::object();
    for (auto const& r : results) {
        if (r.verdict != interpreter::Verdict::fail) continue;
        auto why = r.failure ? r.failure->requirement + ": expected " +
                                   (r.failure->expected.empty() ? std::string("?") : r.failure->expected.front()) + ", got " +
                                   r.failure->actual
                             : std::string("fails");
        doc["expected_failures"][r.scenario->id] = why.size() > 300 ? why.substr(0, 300) + "…" : why;
    }
    std::ofstream(file) << doc.dump(2) << "\n";
}

}  // namespace conformance
