// Vocabulary shared by the relay core and its transport: who a socket is, what travels, and the
// actions the core asks the transport to carry out.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace relay::core {

enum class Version { v1, v2 };
enum class Role { server, client };

using SocketId = std::uint64_t;

// A WebSocket message. The payload is shared so that fan-out and buffering never copy it.
struct Frame {
    std::shared_ptr<std::string const> payload;
    bool binary = false;

    static Frame text(std::string s) { return {std::make_shared<std::string const>(std::move(s)), false}; }
    static Frame bytes(std::string s) { return {std::make_shared<std::string const>(std::move(s)), true}; }
};

// Who a socket is, as decided by the router from its query string.
struct Admission {
    Version version = Version::v1;
    Role role = Role::client;
    std::string server_id;
    std::string connection_id;  // trimmed; empty means none given
};

// Close codes and reasons the official relay sends.
namespace close_code {
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;
}  // namespace close_code

struct SendAction {
    SocketId to;
    Frame frame;
};

struct CloseAction {
    SocketId socket;
    std::uint16_t code;
    std::string reason;
};

// Handed back to Relay::timer_fired when the delay has passed.
struct TimerToken {
    std::string session_key;
    std::string connection_id;
    int stage = 0;
};

struct StartTimerAction {
    std::chrono::milliseconds delay;
    TimerToken token;
};

using Action = std::variant<SendAction, CloseAction, StartTimerAction>;
using Actions = std::vector<Action>;

char const* to_string(Version v);
char const* to_string(Role r);

}  // namespace relay::core
