#include "relay_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace relay::testing {

namespace {

std::string read_line(int fd, std::chrono::milliseconds deadline) {
    std::string line;
    auto const until = std::chrono::steady_clock::now() + deadline;
    while (line.empty() || line.back() != '\n') {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("reference-relay printed no URL within the deadline");
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, int(left.count())) <= 0) continue;
        char c;
        if (read(fd, &c, 1) != 1) throw std::runtime_error("reference-relay exited before printing its URL");
        line += c;
    }
    line.pop_back();
    return line;
}

}  // namespace

RelayProcess::RelayProcess(std::vector<std::string> args, std::string binary, std::size_t stdout_lines) {
    char log_template[] = "/tmp/reference-relay-log-XXXXXX";
    int log_fd = mkstemp(log_template);
    if (log_fd < 0) throw std::runtime_error("cannot create a log file in /tmp");
    log_path_ = log_template;
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");

    std::vector<std::string> argv_strings{binary, "--port", "0", "--log-level", "debug"};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(log_fd);
    if (rc != 0) throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));

    while (stdout_lines_.size() < stdout_lines) stdout_lines_.push_back(read_line(out[0], std::chrono::seconds(10)));
    url_ = stdout_lines_.front();
    close(out[0]);
    port_ = static_cast<unsigned short>(std::stoi(url_.substr(url_.rfind(':') + 1)));
}

RelayProcess::~RelayProcess() {
    if (pid_ > 0 && terminate(std::chrono::seconds(5)) == -1) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (!log_path_.empty()) unlink(log_path_.c_str());
}

int RelayProcess::terminate(std::chrono::milliseconds deadline) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    auto const until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

std::string RelayProcess::log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace relay::testing
