#include "extension_answer.hpp"

#include <array>
#include <optional>

namespace relay::core {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The value of `name` among the ;-separated parameters (empty for a bare one), or nullopt.
std::optional<std::string_view> parameter(std::string_view parameters, std::string_view name) {
    while (!parameters.empty()) {
        auto const end = parameters.find(';');
        auto const item = trim(parameters.substr(0, end));
        auto const eq = item.find('=');
        if (trim(item.substr(0, eq)) == name) return eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
        if (end == std::string_view::npos) break;
        parameters.remove_prefix(end + 1);
    }
    return std::nullopt;
}

}  // namespace

std::string official_extension_answer(std::string_view offer, std::string_view negotiated) {
    if (negotiated.empty()) return {};
    auto const semicolon = negotiated.find(';');
    auto const granted = semicolon == std::string_view::npos ? std::string_view{} : negotiated.substr(semicolon + 1);
    std::string out(trim(negotiated.substr(0, semicolon)));
    static constexpr std::array<std::string_view, 4> order{"client_no_context_takeover", "server_no_context_takeover",
                                                           "client_max_window_bits", "server_max_window_bits"};
    for (auto const name : order) {
        auto value = parameter(granted, name);
        // Beast grants the client's window silently when it is the full one; the runtime names it.
        if (!value && name == "client_max_window_bits" && offer.find(name) != std::string_view::npos) value = "15";
        if (!value) continue;
        out += "; ";
        out += name;
        if (!value->empty()) out += "=" + std::string(*value);
    }
    return out;
}

}  // namespace relay::core
