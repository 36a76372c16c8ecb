#include "process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

namespace relay::admin {

namespace {

// Resident set size, from the second field of /proc/self/statm (in pages).
std::optional<std::size_t> resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) return std::nullopt;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::optional<std::size_t> open_files() {
    std::error_code ec;
    std::size_t count = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++count;
    if (ec) return std::nullopt;
    return count - 1;  // less the descriptor that reads the folder
}

std::optional<std::size_t> max_files() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
    return static_cast<std::size_t>(limit.rlim_cur);
}

// The boot time, from the btime line of /proc/stat: process start times are counted from it.
std::optional<double> boot_time_seconds() {
    std::ifstream stat("/proc/stat");
    for (std::string line; std::getline(stat, line);)
        if (line.starts_with("btime ")) return std::stod(line.substr(6));
    return std::nullopt;
}

std::optional<double> cpu_seconds() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return std::nullopt;
    auto seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Field 22 of /proc/self/stat, starttime, is in clock ticks since boot; it is read after the command
// name, which may hold spaces and ends at the last ')'.
std::optional<double> start_time_seconds() {
    std::ifstream file("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto const name_end = text.rfind(')');
    auto const boot = boot_time_seconds();
    if (name_end == std::string::npos || !boot) return std::nullopt;
    std::istringstream fields(text.substr(name_end + 1));
    std::string field;
    for (int number = 3; number <= 22 && fields >> field; ++number) {}
    if (!fields) return std::nullopt;
    return *boot + std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

ProcessStats process_stats() {
    return {cpu_seconds(), resident_bytes(), open_files(), max_files(), start_time_seconds()};
}

}  // namespace relay::admin
