// The trace's two spellings of an event: a line for a person and a JSON object for tools
// (docs/daemon-development.md, "Trace"). Both come without the newline.
#pragma once

#include "trace_event.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace relay::trace {

// How much of a payload a preview shows.
inline constexpr std::size_t preview_bytes = 64;

// At most `max_bytes` of `bytes` as printable ASCII: printable characters as they are, \\ \n \r \t,
// and \xNN for every other byte. `truncated` tells whether bytes were left out.
std::string printable(std::string_view bytes, std::size_t max_bytes, bool& truncated);

std::string text_line(double t_ms, Event const& event);
std::string json_line(double t_ms, Event const& event);

}  // namespace relay::trace
