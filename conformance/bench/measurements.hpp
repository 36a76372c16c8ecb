// What the bench measures besides counting frames: per-frame latency and process CPU/RSS from /proc.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <sys/types.h>

namespace conformance::bench {

// Keeps every sample (microseconds): exact percentiles, and 4 bytes a frame is cheap at bench scales.
class LatencyRecorder {
public:
    void reserve(std::size_t n) { samples_.reserve(n); }
    void record(std::uint32_t micros) { samples_.push_back(micros); }
    std::size_t count() const { return samples_.size(); }

    struct Summary {
        std::uint32_t p50 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
    };
    Summary summarize();  // reorders the samples

private:
    std::vector<std::uint32_t> samples_;
};

struct ProcessSample {
    double cpu_seconds = 0;  // user + system
    std::uint64_t rss_bytes = 0;
};

// nullopt if the process is gone or /proc cannot be read.
std::optional<ProcessSample> sample_process(pid_t pid);

}  // namespace conformance::bench
