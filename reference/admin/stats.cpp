#include "stats.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace relay::admin {

using nlohmann::json;

namespace {

// Resident set size, from the second field of /proc/self/statm (in pages); null where there is none.
json resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) return nullptr;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Every descriptor the process holds: the listeners, the sockets and whatever else is open.
json open_files() {
    std::error_code ec;
    std::size_t count = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++count;
    if (ec) return nullptr;
    return count - 1;  // less the descriptor that reads the folder
}

}  // namespace

json relay_stats(transport::Hub const& hub) {
    auto const census = hub.relay().census();
    auto const& ceiling = hub.ceiling();
    return {
        {"sockets", ceiling.live()},
        {"by_role",
         {{"v1_server", census.v1_servers},
          {"v1_client", census.v1_clients},
          {"control", census.controls},
          {"data", census.data},
          {"client", census.clients}}},
        {"sessions", census.sessions},
        {"connections", census.connections},
        {"pending_frames", census.pending_frames},
        {"pending_bytes", census.pending_bytes},
        {"timers", hub.pending_timers()},
        {"max_sockets", ceiling.max() == 0 ? json(nullptr) : json(ceiling.max())},
        {"refused_upgrades", ceiling.refused()},
        {"rss_bytes", resident_bytes()},
        {"open_files", open_files()},
    };
}

}  // namespace relay::admin
