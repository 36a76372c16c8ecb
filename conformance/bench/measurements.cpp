#include "bench/measurements.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace conformance::bench {

LatencyRecorder::Summary LatencyRecorder::summarize() {
    Summary s;
    if (samples_.empty()) return s;
    auto at = [this](double q) {
        auto k = std::min(samples_.size() - 1, std::size_t(q * double(samples_.size())));
        std::nth_element(samples_.begin(), samples_.begin() + std::ptrdiff_t(k), samples_.end());
        return samples_[k];
    };
    s.p50 = at(0.50);
    s.p95 = at(0.95);
    s.p99 = at(0.99);
    s.p999 = at(0.999);
    s.max = *std::max_element(samples_.begin(), samples_.end());
    return s;
}

std::optional<ProcessSample> sample_process(pid_t pid) {
    auto const dir = "/proc/" + std::to_string(pid);
    std::ifstream stat(dir + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    // Fields after the command name, which may contain spaces, start after the last ')'.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    ProcessSample sample;
    sample.cpu_seconds = double(utime + stime) / double(sysconf(_SC_CLK_TCK));
    std::ifstream status(dir + "/status");
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) sample.rss_bytes = std::stoull(line.substr(6)) * 1024;
    return sample;
}

}  // namespace conformance::bench
