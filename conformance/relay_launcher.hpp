// Starts the reference relay for a run that names no --url, and stops it afterwards.
#pragma once

#include <filesystem>
#include <string>

#include <sys/types.h>

namespace conformance {

class RelayLauncher {
public:
    // Starts `binary --port 0` and reads its ws:// URL from the first stdout line (10 s at most).
    // Throws std::runtime_error with a one-line reason.
    explicit RelayLauncher(std::filesystem::path const& binary);
    ~RelayLauncher();
    RelayLauncher(RelayLauncher const&) = delete;
    RelayLauncher& operator=(RelayLauncher const&) = delete;

    std::string const& url() const { return url_; }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::string url_;
};

}  // namespace conformance
