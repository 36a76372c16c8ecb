#include "file_follower.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace relay::testing {

bool has_fields(nlohmann::json const& event, nlohmann::json const& fields) {
    for (auto const& [key, value] : fields.items()) {
        auto it = event.find(key);
        if (value.is_null() ? it != event.end() : it == event.end() || *it != value) return false;
    }
    return true;
}

LineFollower::LineFollower(std::string path) : path_(std::move(path)) {
    changes_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (changes_ < 0 || inotify_add_watch(changes_, path_.c_str(), IN_MODIFY) < 0)
        throw std::runtime_error("cannot watch " + path_ + " for changes");
}

LineFollower::~LineFollower() {
    if (changes_ >= 0) close(changes_);
}

void LineFollower::read_new_lines() {
    std::ifstream in(path_, std::ios::binary);
    in.seekg(std::streamoff(offset_));
    std::string fresh{std::istreambuf_iterator<char>(in), {}};
    offset_ += fresh.size();
    partial_ += fresh;
    for (auto end = partial_.find('\n'); end != std::string::npos; end = partial_.find('\n')) {
        lines_.push_back(partial_.substr(0, end));
        partial_.erase(0, end + 1);
    }
}

std::optional<std::string> LineFollower::next(std::function<bool(std::string const&)> const& wanted,
                                              std::chrono::milliseconds deadline) {
    auto const until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        // The watch was set before this read, so a write after it still wakes the poll below.
        read_new_lines();
        for (; cursor_ < lines_.size(); ++cursor_)
            if (wanted(lines_[cursor_])) return lines_[cursor_++];
        auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd p{changes_, POLLIN, 0};
        if (poll(&p, 1, int(left.count())) > 0) {
            char drained[4096];
            while (read(changes_, drained, sizeof drained) > 0) {
            }
        }
    }
}

std::vector<std::string> const& LineFollower::lines() {
    read_new_lines();
    return lines_;
}

nlohmann::json TraceFollower::next(nlohmann::json const& fields, std::chrono::milliseconds deadline) {
    auto const line = lines_.next([&](std::string const& text) { return has_fields(nlohmann::json::parse(text), fields); },
                                  deadline);
    return line ? nlohmann::json::parse(*line) : nlohmann::json(nullptr);
}

std::vector<nlohmann::json> const& TraceFollower::events() {
    auto const& lines = lines_.lines();
    while (events_.size() < lines.size()) events_.push_back(nlohmann::json::parse(lines[events_.size()]));
    return events_;
}

}  // namespace relay::testing
