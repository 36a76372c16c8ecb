#include "stats.hpp"

#include "process_stats.hpp"

namespace relay::admin {

using nlohmann::json;

namespace {

template <class T>
json or_null(std::optional<T> const& value) {
    return value ? json(*value) : json(nullptr);
}

}  // namespace

json relay_stats(transport::Hub const& hub) {
    auto const census = hub.relay().census();
    auto const& ceiling = hub.ceiling();
    auto const process = process_stats();
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
        {"rss_bytes", or_null(process.resident_bytes)},
        {"open_files", or_null(process.open_files)},
    };
}

}  // namespace relay::admin
