// MessagePack for `msgpack` sends and frame matchers (docs/scenario-format.md): the value a binary
// payload holds, and the bytes a value is sent as. pyharness does the same (relay_harness/msgpack_codec.py);
// scenarios/msgpack-vectors.json holds cases both must agree on.
#pragma once

#include "matcher/pattern.hpp"

#include <optional>
#include <string>

namespace conformance::matcher {

// The payload decoded as one MessagePack value (no bytes left over), if it is one JSON can hold: maps
// with string keys, valid UTF-8 strings, no byte strings or extension types. Floats of either width
// are numbers.
std::optional<Json> msgpack_value(std::string const& payload);

// nlohmann's encoding: the smallest form of each value, a float as float 32 when that holds it exactly,
// map keys in sorted order.
std::string msgpack_bytes(Json const& value);

}  // namespace conformance::matcher
