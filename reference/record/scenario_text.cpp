#include "scenario_text.hpp"

namespace relay::record {
namespace {

using Json = nlohmann::ordered_json;

// Bytes from the network may be invalid UTF-8: replaced rather than thrown on.
std::string scalar(Json const& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

// One line: compact, but with the spaces the library's files have.
std::string inline_text(Json const& value) {
    if (value.is_object()) {
        std::string out = "{";
        for (auto it = value.begin(); it != value.end(); ++it)
            out += (it == value.begin() ? "" : ", ") + scalar(it.key()) + ": " + inline_text(it.value());
        return out + "}";
    }
    if (value.is_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < value.size(); ++i) out += (i ? ", " : "") + inline_text(value[i]);
        return out + "]";
    }
    return scalar(value);
}

// An object's members one a line; a scenario's sockets and steps one a line too.
std::string block(Json const& value, std::string const& indent) {
    std::string out;
    std::size_t n = 0;
    for (auto it = value.begin(); it != value.end(); ++it, ++n) {
        out += indent + scalar(it.key()) + ": ";
        auto const& member = it.value();
        if (it.key() == "sockets") {
            out += "{\n" + block(member, indent + "  ") + indent + "}";
        } else if (it.key() == "steps") {
            out += "[\n";
            for (std::size_t i = 0; i < member.size(); ++i)
                out += indent + "  " + inline_text(member[i]) + (i + 1 < member.size() ? ",\n" : "\n");
            out += indent + "]";
        } else {
            out += inline_text(member);
        }
        out += n + 1 < value.size() ? ",\n" : "\n";
    }
    return out;
}

}  // namespace

std::string scenario_file_text(std::string const& section, Json const& scenario) {
    return "{\n  \"section\": " + scalar(section) + ",\n  \"scenarios\": [\n    {\n" + block(scenario, "      ") +
           "    }\n  ]\n}\n";
}

}  // namespace relay::record
