// Which open sockets a fault applies to, named the way the trace and the log name them.
#pragma once

#include "core/protocol.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace relay::faults {

struct SocketSelector {
    std::optional<core::Version> version;
    std::optional<std::string> server_id;
    std::optional<std::string> role;  // v2: control, data, client; v1: server, client; "server" also takes v2 control and data
    std::optional<std::string> connection_id;
    std::optional<core::SocketId> socket;  // the number the trace and the log give it

    bool names_nothing() const { return !version && !server_id && !role && !connection_id && !socket; }
};

// control, data or client for v2; server or client for v1 (as in the trace).
std::string role_name(core::Admission const& admission);

bool matches(SocketSelector const& selector, core::SocketId id, core::Admission const& admission);

// Reads the selector's fields of a request body; throws std::invalid_argument naming a bad one.
SocketSelector selector_from_json(nlohmann::json const& body);
nlohmann::json to_json(SocketSelector const& selector);
// One open socket as the admin API lists it.
nlohmann::json socket_json(core::SocketId id, core::Admission const& admission);

}  // namespace relay::faults
