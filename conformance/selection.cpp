#include "selection.hpp"

#include <cerrno>
#include <cstring>

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
        if (!std::all_of(sel.required_tags.begin(), sel.required_tags.end(), [&](auto const& t) { return contains(s.tags, t); })) continue;
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
    auto const is_map = [&](char const* key) { return doc.contains(key) && doc[key].is_object(); };
    if (doc.is_discarded() || !doc.is_object() || !(is_map("expected_failures") || is_map("known_flaky")) ||
        (doc.contains("known_flaky") && !is_map("known_flaky")) || (doc.contains("expected_failures") && !is_map("expected_failures")))
        throw ExpectationsError(file.string() + ": expected {\"relay\": \"...\", \"expected_failures\": {\"scenario-id\": \"why\"}, "
                                                "\"known_flaky\": {\"scenario-id\": \"why\"}}");
    Expectations e;
    e.relay = doc.value("relay", std::string());
    auto const read = [&](char const* key, std::map<std::string, std::string>& into) {
        if (!doc.contains(key)) return;
        for (auto const& [id, why] : doc[key].items()) into[id] = why.is_string() ? why.get<std::string>() : why.dump();
    };
    read("expected_failures", e.expected_failures);
    read("known_flaky", e.known_flaky);
    return e;
}

void write_expectations(std::filesystem::path const& file, std::string const& relay,
                        std::vector<interpreter::ScenarioResult> const& results) {
    Json doc;
    doc["relay"] = relay;
    doc["expected_failures"] = Json::object();
    doc["known_flaky"] = Json::object();
    for (auto const& r : results) {
        using interpreter::Verdict;
        if (r.verdict != Verdict::fail && r.verdict != Verdict::blocked && r.verdict != Verdict::flaky) continue;
        auto why = r.failure ? r.failure->requirement + ": expected " +
                                   (r.failure->expected.empty() ? std::string("?") : r.failure->expected.front()) + ", got " +
                                   r.failure->actual
                             : std::string("fails");
        doc[r.verdict == Verdict::flaky ? "known_flaky" : "expected_failures"][r.scenario->id] =
            why.size() > 300 ? why.substr(0, 300) + "…" : why;
    }
    std::ofstream out(file);
    out << doc.dump(2) << "\n";
    out.close();
    if (!out) throw ExpectationsError("cannot write " + file.string() + ": " + std::strerror(errno));
}

}  // namespace conformance
