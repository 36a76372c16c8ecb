// The runner's scenario loader (conformance/scenario/loader) on any file: JSON parsing with repeated
// keys noted, validation against scenarios/scenario.schema.json (scenario/schema_validator), then the
// model built from what passed. A file it cannot use must end in LoadError; any other exception, or
// a crash, is a bug: the CLI catches only LoadError around the loader.
//
// Input: a scenario file's bytes.
#include "load_text.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    try {
        conformance::fuzz::load_text({reinterpret_cast<char const*>(data), size});
    } catch (conformance::scenario::LoadError const&) {
    }
    return 0;
}
