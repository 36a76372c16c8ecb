#include "test_support.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include <sys/wait.h>
#include <unistd.h>

namespace relay::testing {

std::string unique_id(std::string_view prefix) {
    static std::atomic<int> n{0};
    return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

TempFile::TempFile(std::string_view prefix) {
    auto name = "/tmp/" + std::string(prefix) + "-XXXXXX";
    int fd = ::mkstemp(name.data());
    if (fd < 0) throw std::runtime_error("cannot create a file in /tmp");
    ::close(fd);
    path = name;
}

TempFile::~TempFile() { ::unlink(path.c_str()); }

TempDir::TempDir(std::string_view prefix) {
    auto name = "/tmp/" + std::string(prefix) + "-XXXXXX";
    if (!::mkdtemp(name.data())) throw std::runtime_error("cannot create a folder in /tmp");
    path = name;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

std::pair<int, std::string> run_command(std::string const& command, int limit_seconds) {
    auto const bounded = "timeout " + std::to_string(limit_seconds) + " " + command + " 2>&1";
    std::FILE* pipe = ::popen(bounded.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string output;
    char chunk[4096];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) output.append(chunk, n);
    int const status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace relay::testing
