// Reads a file while the relay writes it, the way a tool would follow it: its log, or its --trace-json.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace relay::testing {

// The file's whole lines, waited for as they are written.
class LineFollower {
public:
    explicit LineFollower(std::string path);
    ~LineFollower();
    LineFollower(LineFollower const&) = delete;
    LineFollower& operator=(LineFollower const&) = delete;

    // The next line after the last one found for which `wanted` holds, waiting for the relay to write it
    // until the deadline; nullopt if it did not.
    std::optional<std::string> next(std::function<bool(std::string const&)> const& wanted, std::chrono::milliseconds deadline);
    // Every line written so far.
    std::vector<std::string> const& lines();

private:
    void read_new_lines();

    std::string path_;
    int changes_ = -1;  // an inotify descriptor watching the file, so waits need no sleeping
    std::size_t offset_ = 0;
    std::string partial_;
    std::vector<std::string> lines_;
    std::size_t cursor_ = 0;
};

// A relay's --trace-json file, event by event.
class TraceFollower {
public:
    explicit TraceFollower(std::string path) : lines_(std::move(path)) {}

    // The next event after the last one found that has every given field with the given value (null:
    // the field is absent), waiting for the relay to write it until the deadline; null if it did not.
    nlohmann::json next(nlohmann::json const& fields, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    // Every event written so far.
    std::vector<nlohmann::json> const& events();

private:
    LineFollower lines_;
    std::vector<nlohmann::json> events_;
};

// Whether `event` has every field of `fields` with its value; a null value asks for the field's absence.
bool has_fields(nlohmann::json const& event, nlohmann::json const& fields);

}  // namespace relay::testing
