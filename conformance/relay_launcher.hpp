// Starts the reference relay for a run that names no --url, and stops it afterwards.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace conformance {

class RelayLauncher {
public:
    // Starts `binary --port 0 [extra_args]` and reads its ws:// URL from the first stdout line (10 s at
    // most). Throws std::runtime_error with a one-line reason.
    explicit RelayLauncher(std::filesystem::path const& binary, std::vector<std::string> extra_args = {});
    ~RelayLauncher();
    RelayLauncher(RelayLauncher const&) = delete;
    RelayLauncher& operator=(RelayLauncher const&) = delete;

    std::string const& url() const { return url_; }
    pid_t pid() const { return pid_; }
    bool running();
    // Whether it has exited, or does so within `wait`.
    bool exits_within(std::chrono::milliseconds wait);
    // The end of what the relay wrote to stderr, for when it died.
    std::string stderr_tail() const;

private:
    pid_t pid_ = -1;
    int exit_status_ = -1;
    std::string url_;
    std::filesystem::path stderr_file_;
};

}  // namespace conformance
