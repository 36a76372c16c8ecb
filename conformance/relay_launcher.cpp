#include "relay_launcher.hpp"

#include <cerrno>
#include <chrono>
#include <fstream>
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

RelayLauncher::RelayLauncher(std::filesystem::path const& binary, std::vector<std::string> extra_args) {
    if (!std::filesystem::exists(binary))
        throw std::runtime_error("no reference relay at " + binary.string() + "; build it (.ci/setup) or pass --url or --relay-binary");
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("cannot create a pipe");
    // Its stderr goes to a file, so that a relay that dies mid-run can say why.
    char stderr_path[] = "/tmp/reference-relay-stderr-XXXXXX";
    int const errors = mkstemp(stderr_path);
    if (errors < 0) throw std::runtime_error(std::string("cannot create a file for the relay's stderr: ") + std::strerror(errno));
    stderr_file_ = stderr_path;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, errors, STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string path = binary.string();
    std::vector<std::string> args{path, "--port", "0", "--log-level", "warn"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(errors);
    if (rc != 0) throw std::runtime_error("cannot start " + path + ": " + std::strerror(rc));

    auto const until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (url_.empty() || url_.back() != '\n') {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
        pollfd p{out[0], POLLIN, 0};
        char c;
        if (left <= 0 || poll(&p, 1, int(left)) <= 0 || read(out[0], &c, 1) != 1) {
            close(out[0]);
            throw std::runtime_error(path + " did not print its URL; it said: " + stderr_tail());
        }
        url_ += c;
    }
    close(out[0]);
    url_.pop_back();
}

RelayLauncher::~RelayLauncher() {
    std::error_code ignored;
    std::filesystem::remove(stderr_file_, ignored);
    if (!running()) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        if (!running()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

bool RelayLauncher::running() {
    if (pid_ <= 0 || exit_status_ >= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exit_status_ = status;
    return false;
}

bool RelayLauncher::exits_within(std::chrono::milliseconds wait) {
    auto const until = std::chrono::steady_clock::now() + wait;
    while (running()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

std::string RelayLauncher::stderr_tail() const {
    std::ifstream in(stderr_file_, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (all.empty()) return "(nothing on stderr)";
    constexpr std::size_t keep = 2000;
    return all.size() > keep ? "…" + all.substr(all.size() - keep) : all;
}

}  // namespace conformance
