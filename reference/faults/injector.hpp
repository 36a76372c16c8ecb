// Carries out faults (docs/daemon-development.md, "Fault injection") through the transport: closes and
// resets go to the hub's sockets, standing faults into the StandingFaults the hub consults. The core's
// protocol rules are never touched: it only hears of sockets ending, as it would of real ones.
#pragma once

#include "command.hpp"
#include "standing_faults.hpp"
#include "transport/hub.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace relay::faults {

class Injector {
public:
    // Hands the hub the standing faults to consult; `startup_max_message_bytes` is what clearing the
    // cap restores.
    Injector(transport::Hub& hub, transport::Logger const& log, std::size_t startup_max_message_bytes);
    Injector(Injector const&) = delete;
    Injector& operator=(Injector const&) = delete;

    // Carries the command out and logs it as one line naming `origin` (who asked: the admin API, or a
    // profile with its seed). Returns what it did: the sockets a one-shot fault acted on
    // (`{"sockets":[...]}`), or the id of a standing one (`{"id":"delay-1"}`).
    nlohmann::json apply(Command const& command, std::string const& origin);

    // The open sockets a selector takes, in opening order, as GET /sockets lists them.
    nlohmann::json sockets(SocketSelector const& where = {}) const;
    // One of them, `pick` modulo their number: how a profile chooses its victim.
    struct Picked {
        core::SocketId id;
        core::Admission admission;
    };
    std::optional<Picked> pick(SocketSelector const& where, std::uint64_t pick) const;
    // The standing faults in force, and the profile if one runs (GET /faults).
    nlohmann::json standing();
    // Ends one standing fault: delay-N, or every one of a kind (delay, max-message-bytes,
    // refuse-upgrades). What a delay or pause held goes out at once, in order. False for no such id.
    bool clear(std::string const& id);
    void clear_all();

    // A fault profile reports itself here, for GET /faults.
    void show_profile(nlohmann::json status) { profile_ = std::move(status); }

private:
    std::vector<core::SocketId> matching(SocketSelector const& where) const;
    nlohmann::json close_each(SocketSelector const& where, std::uint16_t code, std::string const& reason);
    nlohmann::json drop_each(SocketSelector const& where);
    void cap(std::size_t bytes);
    bool end(std::string const& id);

    transport::Hub& hub_;
    transport::Logger const& log_;
    StandingFaults standing_;
    std::size_t const startup_max_message_bytes_;
    std::optional<std::size_t> lowered_cap_;
    std::optional<nlohmann::json> profile_;
};

}  // namespace relay::faults
