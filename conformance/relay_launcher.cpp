#include "relay_launcher.hpp"

#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace conformance {

RelayLauncher::RelayLauncher(std::filesystem::path const& binary) {
    if (!std::filesystem::exists(binary))
        throw std::runtime_error("no reference relay at " + binary.string() + "; build it (.ci/setup) or pass --url or --relay-binary");
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("cannot create a pipe");
    int devnull = open("/dev/null", O_WRONLY);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, devnull, STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string path = binary.string(), port_flag = "--port", port = "0", level_flag = "--log-level", level = "warn";
    char* argv[] = {path.data(), port_flag.data(), port.data(), level_flag.data(), level.data(), nullptr};
    int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(devnull);
    if (rc != 0) throw std::runtime_error("cannot start " + path + ": " + std::strerror(rc));

    auto const until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (url_.empty() || url_.back() != '\n') {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
        pollfd p{out[0], POLLIN, 0};
        char c;
        if (left <= 0 || poll(&p, 1, int(left)) <= 0 || read(out[0], &c, 1) != 1) {
            close(out[0]);
            throw std::runtime_error(path + " did not print its URL; run it by hand to see why");
        }
        url_ += c;
    }
    close(out[0]);
    url_.pop_back();
}

RelayLauncher::~RelayLauncher() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

}  // namespace conformance
