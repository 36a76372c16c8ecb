// Drives the relay core directly and makes its actions easy to assert on.
#pragma once

#include "core/relay.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relay::core::fixture {

struct Sent {
    SocketId to;
    std::string payload;
    bool binary;
    bool operator==(Sent const&) const = default;
};

struct Closed {
    SocketId socket;
    std::uint16_t code;
    std::string reason;
    bool operator==(Closed const&) const = default;
};

inline void PrintTo(Sent const& s, std::ostream* os) {
    *os << "send to " << s.to << (s.binary ? " binary " : " text ") << s.payload;
}
inline void PrintTo(Closed const& c, std::ostream* os) {
    *os << "close " << c.socket << " " << c.code << " " << c.reason;
}

// What one event made the relay do, split by kind.
struct Outcome {
    std::vector<Sent> sent;
    std::vector<Closed> closed;
    std::vector<StartTimerAction> timers;

    explicit Outcome(Actions const& actions) {
        for (auto const& a : actions) {
            if (auto const* s = std::get_if<SendAction>(&a))
                sent.push_back({s->to, *s->frame.payload, s->frame.binary});
            else if (auto const* c = std::get_if<CloseAction>(&a))
                closed.push_back({c->socket, c->code, c->reason});
            else
                timers.push_back(std::get<StartTimerAction>(a));
        }
    }
    bool empty() const { return sent.empty() && closed.empty() && timers.empty(); }
};

class RelayTest : public ::testing::Test {
protected:
    static constexpr std::int64_t now = 1'700'000'000'123;

    Relay relay{RelayOptions{}, [this] { return "conn_" + std::to_string(++assigned_ids_); }, [] { return now; }};

    Outcome open(SocketId id, Version v, Role role, std::string server_id, std::string connection_id = {}) {
        return Outcome(relay.opened(id, Admission{v, role, std::move(server_id), std::move(connection_id)}));
    }
    Outcome v1(SocketId id, Role role, std::string server_id = "srv") { return open(id, Version::v1, role, server_id); }
    Outcome control(SocketId id, std::string server_id = "srv") { return open(id, Version::v2, Role::server, server_id); }
    Outcome data(SocketId id, std::string cid, std::string server_id = "srv") {
        return open(id, Version::v2, Role::server, server_id, cid);
    }
    Outcome client(SocketId id, std::string cid, std::string server_id = "srv") {
        return open(id, Version::v2, Role::client, server_id, cid);
    }
    Outcome text(SocketId from, std::string s) { return Outcome(relay.received(from, Frame::text(std::move(s)))); }
    Outcome binary(SocketId from, std::string s) { return Outcome(relay.received(from, Frame::bytes(std::move(s)))); }
    Outcome close(SocketId id) { return Outcome(relay.closed(id)); }
    Outcome fire(TimerToken const& token) { return Outcome(relay.timer_fired(token)); }

private:
    int assigned_ids_ = 0;
};

}  // namespace relay::core::fixture
