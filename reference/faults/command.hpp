// The faults one can inject, as data: what to do and to which sockets. The admin API reads them from
// JSON, fault profiles draw them, and the Injector carries them out.
#pragma once

#include "selector.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relay::faults {

using std::chrono::milliseconds;

// The watchdog's close (V2-WD-2), now: every control socket of a v2 session.
struct CloseControls {
    std::string server_id;
    std::uint16_t code = core::close_code::internal_error;
    std::string reason = "Control unresponsive";
};

// A close frame to every selected socket; the core hears of each close when its handshake ends.
struct CloseSockets {
    SocketSelector where;
    std::uint16_t code = 1000;
    std::string reason;
};

// A TCP reset (no close frame) for every selected socket; the core hears of it as of any dropped connection.
struct DropSockets {
    SocketSelector where;
};

// Every socket closed with 1001 or reset, and the core's state forgotten, as if the relay restarted.
struct Restart {
    bool reset = false;
};

// What the relay sends to the selected sockets waits `delay`, or, without one, until resumed.
struct DelayDelivery {
    SocketSelector where;
    std::optional<milliseconds> delay;   // none: paused
    std::optional<milliseconds> lasting;  // none: until cleared
};

struct CapMessages {
    std::size_t max_message_bytes = 0;
};

// WebSocket upgrades are answered with this status and body instead of 101.
struct RefuseUpgrades {
    unsigned status = 503;
    std::string body = "Relay unavailable (fault injection)";
    std::optional<milliseconds> lasting;  // none: until cleared
};

using Command = std::variant<CloseControls, CloseSockets, DropSockets, Restart, DelayDelivery, CapMessages, RefuseUpgrades>;

// The command `kind` names (the admin API's path: close-control, close, drop, restart, delay,
// max-message-bytes, refuse-upgrades), from its JSON body. Returns nullopt for an unknown kind and
// throws std::invalid_argument, in one line, for a bad body.
std::optional<Command> command_from_json(std::string_view kind, nlohmann::json const& body);

// What a command does, for the log: e.g. `drop role=data connectionId=c1 (TCP reset)`.
std::string describe(Command const& command);

}  // namespace relay::faults
