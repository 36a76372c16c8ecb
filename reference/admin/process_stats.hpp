// What the operating system says of this process (Linux /proc): CPU time, memory, descriptors, start
// time, for GET /stats and GET /metrics. Each is empty where the system does not say.
#pragma once

#include <cstddef>
#include <optional>

namespace relay::admin {

struct ProcessStats {
    std::optional<double> cpu_seconds;         // user and system
    std::optional<std::size_t> resident_bytes;
    std::optional<std::size_t> open_files;     // every descriptor: listeners, sockets and the rest
    std::optional<std::size_t> max_files;      // the soft limit on them
    std::optional<double> start_time_seconds;  // since the Unix epoch
};

ProcessStats process_stats();

}  // namespace relay::admin
