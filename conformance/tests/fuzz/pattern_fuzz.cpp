// The runner's matchers (conformance/matcher/pattern, conformance/interpreter/event_matching) on any
// pattern the loader accepts and any value a relay could send. The pattern goes through the loader
// first, in a frame's json, a close reason and an HTTP body and header, because the runner only ever
// matches patterns that passed it; then a frame, a close frame and an HTTP response carrying the value
// are matched and described as an expect step would. Only UnknownVariable may escape a match: the
// interpreter turns it into a scenario error.
//
// Input: a matcher vector as scenarios/matcher-vectors.json holds them: {"pattern", "value", "subset", "vars"}.
#include "interpreter/event_matching.hpp"
#include "load_text.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace {

using namespace conformance;
using matcher::Json;

std::string scenario_around(Json const& pattern, bool subset) {
    auto frame = Json{{"json", pattern}};
    if (subset) frame["subset"] = true;
    Json scenario = {{"id", "fuzz"}, {"title", "fuzz"}, {"requirements", {"V2-CTRL-1"}}, {"level", "MUST"}, {"tags", {"v2"}},
                     {"sockets", {{"a", Json::object()}}},
                     {"steps", {{{"open", "a"}}, {{"expect", "a"}, {"frame", frame}}, {{"expect", "a"}, {"close", {{"reason", pattern}}}},
                                {{"http", Json::object()}, {"response", {{"status", 200}, {"body", pattern}, {"headers", {{"x-fuzz", pattern}}}}}}}}};
    return Json{{"section", "FUZZ"}, {"scenarios", {scenario}}}.dump();
}

void match_all(scenario::Scenario const& loaded, Json const& value, matcher::Variables const& vars) {
    auto const text = value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false, Json::error_handler_t::replace);
    auto const& frame = std::get<scenario::ExpectStep>(loaded.steps[1].action).alternatives.front();
    auto const& close = std::get<scenario::ExpectStep>(loaded.steps[2].action).alternatives.front();
    auto const& http = std::get<scenario::HttpStep>(loaded.steps[3].action).response;
    client::WireEvent frame_event{};
    frame_event.kind = client::WireEvent::Kind::frame;
    frame_event.payload = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    client::WireEvent close_event{};
    close_event.kind = client::WireEvent::Kind::close;
    close_event.code = 1000;
    close_event.reason = text;
    client::HttpResponse const response{200, "OK", {{"x-fuzz", text}}, text};
    interpreter::match_event(frame, frame_event, vars);
    interpreter::match_event(close, close_event, vars);
    interpreter::match_http(http, response, vars);
    interpreter::describe(frame, 1000);
    interpreter::describe(close, 1000);
    interpreter::describe(http);
    interpreter::describe(frame_event);
    interpreter::describe(response);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const vector = Json::parse(data, data + size, nullptr, false);
    if (!vector.is_object() || !vector.contains("pattern") || !vector.contains("value")) return 0;
    auto const& pattern = vector["pattern"];
    bool const subset = vector.value("subset", Json(false)) == true;
    matcher::Variables vars;
    if (auto given = vector.find("vars"); given != vector.end() && given->is_object())
        for (auto const& [name, value] : given->items()) vars[name] = value;
    std::vector<scenario::Scenario> loaded;
    try {
        loaded = fuzz::load_text(scenario_around(pattern, subset));
    } catch (scenario::LoadError const&) {
        return 0;
    }
    try {
        match_all(loaded.front(), vector["value"], vars);
        matcher::match(pattern, vector["value"], subset, vars);
        matcher::substitute_json(pattern, vars);
    } catch (matcher::UnknownVariable const&) {
    }
    return 0;
}
