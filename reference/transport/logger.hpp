// One line per event on stderr, for a person at a terminal; stdout is kept for the bound URL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relay::transport {

enum class LogLevel { error, warn, info, debug };

std::optional<LogLevel> parse_log_level(std::string_view name);

class Logger {
public:
    explicit Logger(LogLevel level) : level_(level) {}

    bool enabled(LogLevel level) const { return level <= level_; }
    void log(LogLevel level, std::string_view line) const;

private:
    LogLevel level_;
};

}  // namespace relay::transport
