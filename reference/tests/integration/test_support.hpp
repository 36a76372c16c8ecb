// Small helpers the integration tests share: names, temporary files and folders, commands.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace relay::testing {

// `prefix` made unique to this process and call, for serverIds and connection ids no other test uses.
std::string unique_id(std::string_view prefix);

// A file in /tmp named after `prefix`, removed afterwards.
struct TempFile {
    explicit TempFile(std::string_view prefix);
    ~TempFile();
    TempFile(TempFile const&) = delete;
    TempFile& operator=(TempFile const&) = delete;
    std::string path;
};

// A folder in /tmp named after `prefix`, removed with what is in it.
struct TempDir {
    explicit TempDir(std::string_view prefix);
    ~TempDir();
    TempDir(TempDir const&) = delete;
    TempDir& operator=(TempDir const&) = delete;
    std::filesystem::path path;
};

// Runs a shell command under a time limit; its exit status and what it printed on stdout and stderr.
std::pair<int, std::string> run_command(std::string const& command, int limit_seconds = 20);

}  // namespace relay::testing
