// Reads a relay's --trace-json file while the relay writes it, the way a tool would follow it.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace relay::testing {

class TraceFollower {
public:
    explicit TraceFollower(std::string path);
    ~TraceFollower();
    TraceFollower(TraceFollower const&) = delete;
    TraceFollower& operator=(TraceFollower const&) = delete;

    // The next event after the last one found that has every given field with the given value (null:
    // the field is absent), waiting for the relay to write it until the deadline; null if it did not.
    nlohmann::json next(nlohmann::json const& fields, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    // Every event written so far.
    std::vector<nlohmann::json> const& events();

private:
    void read_new_lines();

    std::string path_;
    int changes_ = -1;  // an inotify descriptor watching the file, so waits need no sleeping
    std::size_t offset_ = 0;
    std::string partial_;
    std::vector<nlohmann::json> events_;
    std::size_t cursor_ = 0;
};

// Whether `event` has every field of `fields` with its value; a null value asks for the field's absence.
bool has_fields(nlohmann::json const& event, nlohmann::json const& fields);

}  // namespace relay::testing
