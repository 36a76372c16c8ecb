// The client under test of check-client --client-cmd: `/bin/sh -c CMD` with {url} and {port}
// substituted, in a process group of its own, its stdout and stderr kept for the scenario's report.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace conformance {

// CMD with every {url} and {port} replaced.
std::string client_command(std::string const& command, std::string const& url, unsigned short port);

class ClientProcess {
public:
    // Starts the client. Throws std::runtime_error with a one-line reason.
    ClientProcess(std::string const& command, std::string const& url, unsigned short port);
    ~ClientProcess();  // SIGKILL to the group if anything of it is left
    ClientProcess(ClientProcess const&) = delete;
    ClientProcess& operator=(ClientProcess const&) = delete;

    void terminate();  // SIGTERM to the group
    bool ended();      // the shell has exited and nothing of its group is left
    void kill();       // SIGKILL to the group; reaps the shell

    // The last `count` lines the client wrote to stdout and stderr.
    std::vector<std::string> last_lines(std::size_t count = 20) const;

    // How long the client has after SIGTERM before SIGKILL.
    static constexpr int grace_seconds = 3;

private:
    void reap(bool wait);

    pid_t pid_ = -1;  // the shell; also the process group's id
    bool reaped_ = false;
    std::filesystem::path output_file_;
};

}  // namespace conformance
