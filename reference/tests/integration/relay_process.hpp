// Starts the real reference-relay binary on an ephemeral loopback port and stops it again.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace relay::testing {

class RelayProcess {
public:
    // Starts `binary --port 0 args...` and waits (bounded) for the ws:// URL on its first stdout line,
    // and for as many more lines as `stdout_lines` says (the admin URL is the second).
    explicit RelayProcess(std::vector<std::string> args = {}, std::string binary = REFERENCE_RELAY_BINARY,
                          std::size_t stdout_lines = 1);
    ~RelayProcess();
    RelayProcess(RelayProcess const&) = delete;
    RelayProcess& operator=(RelayProcess const&) = delete;

    std::string const& url() const { return url_; }
    std::string const& stdout_line(std::size_t index) const { return stdout_lines_.at(index); }
    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string const& log_path() const { return log_path_; }
    std::string log() const;

    // Sends SIGTERM and waits for the exit status; -1 if it did not exit within the deadline.
    int terminate(std::chrono::milliseconds deadline = std::chrono::seconds(10));

private:
    pid_t pid_ = -1;
    std::string url_;
    std::vector<std::string> stdout_lines_;
    unsigned short port_ = 0;
    std::string log_path_;
};

}  // namespace relay::testing
