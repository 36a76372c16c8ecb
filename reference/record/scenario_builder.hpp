// Turns one recorded session into a scenario of the library's format (docs/scenario-format.md) that
// both runners replay: the relay's inputs become open/send/close/drop steps, what it delivered becomes
// expect steps, in the order the relay saw them, with a wait wherever the next input comes on another
// socket before the last one showed on the wire.
#pragma once

#include "session_log.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace relay::record {

struct BuildOptions {
    std::string id;           // the scenario's id
    std::string recorded_at;  // when, for the note (UTC, ISO 8601)
    bool payloads = false;    // the payloads were kept (--record-payloads), for the note
    bool at_shutdown = false;  // written because the relay stopped while sockets were open
    // The recording relay's watchdog delays: which client's open started a timer that fired.
    std::chrono::milliseconds watchdog_nudge{10'000};
    std::chrono::milliseconds watchdog_reset{5'000};
};

nlohmann::ordered_json build_scenario(SessionLog const& log, BuildOptions const& options);

}  // namespace relay::record
