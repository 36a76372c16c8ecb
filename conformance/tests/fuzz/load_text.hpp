// Loads a scenario file given as text, through the runner's loader, which reads only files: the text
// goes to a scratch file of this process's own (removed at exit), checked against the library's schema.
#pragma once

#include "scenario/loader.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace conformance::fuzz {

struct ScratchFile {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("relay-conformance-fuzz." + std::to_string(getpid()) + ".json");
    ~ScratchFile() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

// Throws LoadError as load_file does.
inline std::vector<scenario::Scenario> load_text(std::string_view text) {
    static scenario::Json const schema = [] {
        std::ifstream in(SCENARIOS_DIR "/scenario.schema.json");
        return scenario::Json::parse(in);
    }();
    static ScratchFile const file;
    {
        std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
        out.write(text.data(), std::streamsize(text.size()));
        if (!out) std::abort();
    }
    return scenario::load_file(file.path, schema);
}

}  // namespace conformance::fuzz
