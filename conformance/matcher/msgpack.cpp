#include "matcher/msgpack.hpp"

namespace conformance::matcher {

namespace {

// Whether JSON can hold a decoded value: no byte strings or extension types (nlohmann's binary
// values), every string valid UTF-8.
bool json_like(Json const& value) {
    if (value.is_binary()) return false;
    if (value.is_string()) {
        try {
            (void)value.dump();
        } catch (Json::type_error const&) {
            return false;
        }
    }
    if (value.is_object())
        for (auto const& [key, item] : value.items())
            if (!json_like(Json(key)) || !json_like(item)) return false;
    if (value.is_array())
        for (auto const& item : value)
            if (!json_like(item)) return false;
    return true;
}

}  // namespace

std::optional<Json> msgpack_value(std::string const& payload) {
    auto decoded = Json::from_msgpack(payload, true, false);
    if (decoded.is_discarded() || !json_like(decoded)) return std::nullopt;
    return decoded;
}

std::string msgpack_bytes(Json const& value) {
    auto const bytes = Json::to_msgpack(value);
    return std::string(bytes.begin(), bytes.end());
}

}  // namespace conformance::matcher
