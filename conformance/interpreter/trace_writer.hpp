// Turns what a relay actually sent into scenario steps, for `record`: values the relay generates
// become captures and variables, so the trace replays against any relay.
#pragma once

#include "client/wire.hpp"
#include "matcher/pattern.hpp"
#include "scenario/model.hpp"

#include <map>
#include <optional>
#include <string>

namespace conformance::interpreter {

class TraceWriter {
public:
    explicit TraceWriter(std::string server_id);

    // Values captured by the scenario's own patterns keep their names in the trace.
    void know(std::string const& name, matcher::Json const& value);

    scenario::Json expect_step(std::string const& socket, std::optional<client::WireEvent> const& event, std::uint32_t waited_ms);
    scenario::Json http_expectation(client::HttpResponse const& response);

private:
    scenario::Json generalize(matcher::Json const& value, std::string const& key);
    std::string generalize_text(std::string const& text);

    std::string server_id_;
    std::map<std::string, std::string> names_;  // generated value -> variable name
    std::map<std::string, bool> captured_;      // variable name -> already captured in the trace
    int generated_ = 0;
};

}  // namespace conformance::interpreter
