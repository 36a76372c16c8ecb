// The faults that stay in force until cleared or until their time is up: delivery delays and pauses,
// and refused upgrades. Plain data that the transport consults (a null pointer there when fault
// injection is off) and the Injector changes.
#pragma once

#include "command.hpp"
#include "core/http_router.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace relay::faults {

using Clock = std::chrono::steady_clock;

// How long the transport holds a frame or close back: until a time, or with none until `rule` is cleared.
struct Hold {
    std::uint64_t rule;
    std::optional<Clock::time_point> until;
};

class StandingFaults {
public:
    struct DelayRule {
        std::uint64_t number;
        DelayDelivery fault;
        std::optional<Clock::time_point> ends;
    };
    struct Refusal {
        RefuseUpgrades fault;
        std::optional<Clock::time_point> ends;
    };

    // For the transport.
    bool delaying() const { return !delays_.empty(); }
    std::optional<Hold> hold_for(core::SocketId id, core::Admission const& admission, Clock::time_point now);
    std::optional<core::HttpReply> upgrade_refusal(Clock::time_point now);

    // For the Injector. Each returns the fault's id, as GET /faults lists it.
    std::string add_delay(DelayDelivery fault, Clock::time_point now);
    std::string refuse_upgrades(RefuseUpgrades fault, Clock::time_point now);
    // The delay rules in force, after forgetting those whose time is up.
    std::vector<DelayRule> const& delays(Clock::time_point now);
    std::optional<Refusal> const& refusal(Clock::time_point now);
    // Forgets the rule (delay-N); returns its number, or nullopt if there is no such rule.
    std::optional<std::uint64_t> remove_delay(std::string const& id);
    void remove_delays();
    void remove_refusal();

private:
    void forget_expired(Clock::time_point now);

    std::vector<DelayRule> delays_;
    std::optional<Refusal> refusal_;
    std::uint64_t last_rule_ = 0;
};

std::string delay_id(std::uint64_t rule);

}  // namespace relay::faults
