// A client scenario's socket pattern against the WebSocket handshake request a client under test made
// (docs/scenario-format.md, "Client scenarios"): the path, the profile's query fields (percent-decoded)
// and headers, each a value pattern.
#pragma once

#include "matcher/pattern.hpp"
#include "scenario/model.hpp"

#include <map>
#include <string>
#include <string_view>

namespace conformance::matcher {

// A handshake request as the runner, playing the relay, read it.
struct HandshakeRequest {
    std::string target;                          // path and query, as sent
    std::map<std::string, std::string> headers;  // lower-case names
};

// The target's path, as sent.
std::string request_path(std::string_view target);

// The target's query parameters, names and values percent-decoded ('+' read as a space, as
// URLSearchParams reads it); of a parameter given twice, the first counts.
std::map<std::string, std::string> query_parameters(std::string_view target);

// `default_path`: the profile's, for a pattern that names none.
MatchResult match_request(scenario::SocketPattern const& pattern, std::string const& default_path, HandshakeRequest const& request,
                          Variables const& vars);

// The pattern for a person, with the values `vars` already gives:
// `a handshake for "/ws" with connectionId=absent role="server" serverId=(captured as ${serverId})`.
std::string describe(scenario::SocketPattern const& pattern, std::string const& default_path, Variables const& vars = {});

}  // namespace conformance::matcher
