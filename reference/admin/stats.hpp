// GET /stats on the admin port (docs/daemon-development.md, "Fault injection"): what the relay holds
// now, read from the structures that hold it, for tests and people watching a relay under load.
#pragma once

#include "transport/hub.hpp"

#include <nlohmann/json.hpp>

namespace relay::admin {

// Sockets (live, and by role as the core knows them), sessions, connection ids, the frames kept for
// them, watchdog timers not yet due, the socket ceiling and its refusals, and the process's resident
// memory and open files.
nlohmann::json relay_stats(transport::Hub const& hub);

}  // namespace relay::admin
