#include "command.hpp"

#include <stdexcept>

namespace relay::faults {

namespace {

using nlohmann::json;

// Codes an endpoint may send in a close frame (RFC 6455 7.4, and the IANA registry's 1012 to 1014).
bool sendable_close_code(std::uint64_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

std::uint64_t unsigned_field(json const& body, char const* name, std::uint64_t fallback) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_number_unsigned()) throw std::invalid_argument(std::string(name) + " must be a whole number >= 0");
    return it->get<std::uint64_t>();
}

std::optional<milliseconds> duration_field(json const& body, char const* name) {
    if (!body.contains(name) || body[name].is_null()) return std::nullopt;
    auto const ms = unsigned_field(body, name, 0);
    if (ms == 0 || ms > 86'400'000) throw std::invalid_argument(std::string(name) + " must be 1 to 86400000 milliseconds");
    return milliseconds(ms);
}

std::string string_field(json const& body, char const* name, std::string fallback) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_string()) throw std::invalid_argument(std::string(name) + " must be a string");
    return it->get<std::string>();
}

std::uint16_t close_code_field(json const& body, std::uint16_t fallback) {
    auto const code = unsigned_field(body, "code", fallback);
    if (!sendable_close_code(code))
        throw std::invalid_argument("code " + std::to_string(code) + " cannot be sent in a close frame; use 1000-1003, 1007-1014 or 3000-4999");
    return static_cast<std::uint16_t>(code);
}

std::string close_reason_field(json const& body, std::string fallback) {
    auto reason = string_field(body, "reason", std::move(fallback));
    if (reason.size() > 123) throw std::invalid_argument("reason must be at most 123 bytes (RFC 6455 5.5)");
    return reason;
}

SocketSelector named_sockets(json const& body, char const* what) {
    auto where = selector_from_json(body);
    if (where.names_nothing())
        throw std::invalid_argument(std::string("name the sockets to ") + what +
                                    ": server_id, version, role, connection_id or socket (restart takes them all)");
    return where;
}

std::string selector_text(SocketSelector const& where) {
    std::string out;
    auto add = [&out](char const* name, std::string const& value) { out += std::string(out.empty() ? "" : " ") + name + "=" + value; };
    if (where.version) add("version", core::to_string(*where.version));
    if (where.server_id) add("serverId", *where.server_id);
    if (where.role) add("role", *where.role);
    if (where.connection_id) add("connectionId", *where.connection_id);
    if (where.socket) add("socket", std::to_string(*where.socket));
    return out.empty() ? "every socket" : out;
}

std::string lasting_text(std::optional<milliseconds> lasting) {
    return lasting ? " for " + std::to_string(lasting->count()) + " ms" : " until cleared";
}

}  // namespace

std::optional<Command> command_from_json(std::string_view kind, json const& body) {
    if (!body.is_object()) throw std::invalid_argument("the body must be a JSON object");
    if (kind == "close-control") {
        auto server_id = string_field(body, "server_id", "");
        if (server_id.empty()) throw std::invalid_argument("server_id is required: whose control sockets to close");
        return CloseControls{server_id, close_code_field(body, core::close_code::internal_error),
                             close_reason_field(body, "Control unresponsive")};
    }
    if (kind == "close") {
        if (!body.contains("code")) throw std::invalid_argument("code is required: the close code to send");
        return CloseSockets{named_sockets(body, "close"), close_code_field(body, 1000), close_reason_field(body, "")};
    }
    if (kind == "drop") return DropSockets{named_sockets(body, "drop")};
    if (kind == "restart") {
        auto it = body.find("reset");
        if (it != body.end() && !it->is_boolean()) throw std::invalid_argument("reset must be true or false");
        return Restart{it != body.end() && it->get<bool>()};
    }
    if (kind == "delay") {
        bool const pause = body.value("pause", false);
        auto delay = duration_field(body, "ms");
        if (pause == delay.has_value()) throw std::invalid_argument("give either ms (a delay) or \"pause\": true");
        return DelayDelivery{selector_from_json(body), delay, duration_field(body, "for_ms")};
    }
    if (kind == "max-message-bytes") {
        auto const bytes = unsigned_field(body, "bytes", 0);
        if (bytes == 0) throw std::invalid_argument("bytes is required: the new message-size cap, at least 1");
        return CapMessages{static_cast<std::size_t>(bytes)};
    }
    if (kind == "refuse-upgrades") {
        RefuseUpgrades refuse;
        refuse.status = static_cast<unsigned>(unsigned_field(body, "status", refuse.status));
        if (refuse.status < 400 || refuse.status > 599) throw std::invalid_argument("status must be an HTTP error status, 400-599");
        refuse.body = string_field(body, "body", refuse.body);
        refuse.lasting = duration_field(body, "for_ms");
        return refuse;
    }
    return std::nullopt;
}

std::string describe(Command const& command) {
    struct Describe {
        std::string operator()(CloseControls const& c) const {
            return "close-control serverId=" + c.server_id + ": " + std::to_string(c.code) + " " + c.reason;
        }
        std::string operator()(CloseSockets const& c) const {
            return "close " + selector_text(c.where) + ": " + std::to_string(c.code) + " " + c.reason;
        }
        std::string operator()(DropSockets const& c) const { return "drop " + selector_text(c.where) + " (TCP reset)"; }
        std::string operator()(Restart const& c) const {
            return std::string("restart: every socket ") + (c.reset ? "reset" : "closed with 1001 Relay shutting down");
        }
        std::string operator()(DelayDelivery const& c) const {
            return (c.delay ? "delay " + std::to_string(c.delay->count()) + " ms" : std::string("pause")) + " to " +
                   selector_text(c.where) + lasting_text(c.lasting);
        }
        std::string operator()(CapMessages const& c) const {
            return "max-message-bytes " + std::to_string(c.max_message_bytes);
        }
        std::string operator()(RefuseUpgrades const& c) const {
            return "refuse-upgrades with " + std::to_string(c.status) + lasting_text(c.lasting);
        }
    };
    return std::visit(Describe{}, command);
}

}  // namespace relay::faults
