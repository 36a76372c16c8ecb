// Whether an event (or its absence) matches an expect step's alternative, and how both read to a person.
#pragma once

#include "client/wire.hpp"
#include "matcher/pattern.hpp"
#include "scenario/model.hpp"

#include <optional>
#include <string>

namespace conformance::interpreter {

// `event` is nullopt when nothing arrived before the deadline.
matcher::MatchResult match_event(scenario::EventMatcher const& expected, std::optional<client::WireEvent> const& event,
                                 matcher::Variables const& vars);

// Checks an HTTP response against an expectation; the result says why not.
matcher::MatchResult match_http(scenario::HttpExpectation const& expected, client::HttpResponse const& response,
                                matcher::Variables const& vars);

std::string describe(scenario::EventMatcher const& expected, std::uint32_t wait_ms);
std::string describe(scenario::HttpExpectation const& expected);
std::string describe(client::WireEvent const& event);
std::string describe(client::HttpResponse const& response);
std::string preview(std::string const& payload, bool binary, std::size_t max = 200);

}  // namespace conformance::interpreter
