#include "client_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace conformance {

namespace {

void replace_all(std::string& text, std::string const& what, std::string const& with) {
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) text.replace(at, what.size(), with);
}

// A file of its own in /tmp for the client's output: its descriptor, and its path in `path`.
int create_output_file(std::filesystem::path& path) {
    char name[] = "/tmp/relay-conformance-client-XXXXXX";
    int const fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error(std::string("cannot create a file for the client's output: ") + std::strerror(errno));
    path = name;
    return fd;
}

// Only the end of a chatty client's output is read.
constexpr std::streamoff tail_bytes = 64 * 1024;

}  // namespace

std::string client_command(std::string const& command, std::string const& url, unsigned short port) {
    auto out = command;
    replace_all(out, "{url}", url);
    replace_all(out, "{port}", std::to_string(port));
    return out;
}

ClientProcess::ClientProcess(std::string const& command, std::string const& url, unsigned short port) {
    int const output = create_output_file(output_file_);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output, STDERR_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);  // a group of its own, named after the shell
    auto line = client_command(command, url, port);
    std::string shell = "/bin/sh", dash_c = "-c";
    char* argv[] = {shell.data(), dash_c.data(), line.data(), nullptr};
    int const rc = posix_spawn(&pid_, shell.c_str(), &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(output);
    if (rc != 0) throw std::runtime_error("cannot start /bin/sh -c " + line + ": " + std::strerror(rc));
}

ClientProcess::~ClientProcess() {
    kill();
    std::error_code ignored;
    std::filesystem::remove(output_file_, ignored);
}

void ClientProcess::reap(bool wait) {
    if (reaped_ || pid_ <= 0) return;
    int status = 0;
    if (waitpid(pid_, &status, wait ? 0 : WNOHANG) == pid_) reaped_ = true;
}

void ClientProcess::terminate() {
    if (pid_ > 0) ::kill(-pid_, SIGTERM);
}

bool ClientProcess::ended() {
    reap(false);
    return reaped_ && ::kill(-pid_, 0) != 0 && errno == ESRCH;
}

void ClientProcess::kill() {
    if (pid_ <= 0) return;
    if (!ended()) ::kill(-pid_, SIGKILL);
    reap(true);
}

std::vector<std::string> ClientProcess::last_lines(std::size_t count) const {
    std::ifstream in(output_file_, std::ios::binary | std::ios::ate);
    auto const size = std::streamoff(in.tellg());
    if (size <= 0) return {};
    in.seekg(std::max<std::streamoff>(0, size - tail_bytes));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    if (lines.size() > count) lines.erase(lines.begin(), lines.end() - std::ptrdiff_t(count));
    return lines;
}

}  // namespace conformance
