#include "logger.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace relay::transport {

std::optional<LogLevel> parse_log_level(std::string_view name) {
    if (name == "error") return LogLevel::error;
    if (name == "warn") return LogLevel::warn;
    if (name == "info") return LogLevel::info;
    if (name == "debug") return LogLevel::debug;
    return std::nullopt;
}

void Logger::log(LogLevel level, std::string_view line) const {
    if (!enabled(level)) return;
    static constexpr char const* names[] = {"error", "warn", "info", "debug"};
    auto now = std::chrono::system_clock::now();
    auto seconds = std::chrono::system_clock::to_time_t(now);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, int(millis), names[int(level)], int(line.size()), line.data());
}

}  // namespace relay::transport
