// The trace's outputs (--trace, --trace-json): every protocol event, optionally for one serverId or
// connection id, as a readable line on stderr and/or a JSON line in a file.
#pragma once

#include "trace_event.hpp"

#include <cstdio>
#include <string>

namespace relay::trace {

struct TraceOptions {
    bool text = false;           // readable lines on stderr (stdout's first line is the URL, read by tools)
    std::string json_path;       // JSON lines to this file
    std::string server_id;       // only this serverId's events; empty: every session
    std::string connection_id;   // only events of or about this connection id; empty: all

    bool enabled() const { return text || !json_path.empty(); }
};

class TraceWriter : public Sink {
public:
    // Throws std::runtime_error naming the file if the JSON file cannot be opened.
    explicit TraceWriter(TraceOptions options);
    ~TraceWriter() override;
    TraceWriter(TraceWriter const&) = delete;
    TraceWriter& operator=(TraceWriter const&) = delete;

    void event(double t_ms, Event const& event) override;

private:
    bool shown(Event const& event) const;

    TraceOptions options_;
    std::FILE* json_ = nullptr;
};

}  // namespace relay::trace
