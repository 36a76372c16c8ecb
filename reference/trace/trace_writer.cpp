#include "trace_writer.hpp"

#include "trace_format.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace relay::trace {

TraceWriter::TraceWriter(TraceOptions options) : options_(std::move(options)) {
    if (options_.json_path.empty()) return;
    json_ = std::fopen(options_.json_path.c_str(), "w");
    if (!json_) throw std::runtime_error("cannot write the trace to " + options_.json_path + ": " + std::strerror(errno));
}

TraceWriter::~TraceWriter() {
    if (json_) std::fclose(json_);
}

bool TraceWriter::shown(Event const& event) const {
    auto const& s = *event.subject;
    if (!options_.server_id.empty() && s.server_id != options_.server_id) return false;
    auto const& wanted = options_.connection_id;
    return wanted.empty() || s.connection_id == wanted || event.about == wanted;
}

void TraceWriter::event(double t_ms, Event const& event) {
    if (!shown(event)) return;
    // One write per line, so lines never interleave with the log's.
    if (options_.text) {
        auto line = text_line(t_ms, event) + "\n";
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
    if (json_) {
        auto line = json_line(t_ms, event) + "\n";
        std::fwrite(line.data(), 1, line.size(), json_);
        std::fflush(json_);  // tools follow the file while the relay runs
    }
}

}  // namespace relay::trace
