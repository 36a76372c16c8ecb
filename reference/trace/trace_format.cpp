#include "trace_format.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

namespace relay::trace {
namespace {

char const* json_name(EventKind kind) {
    switch (kind) {
    case EventKind::open: return "open";
    case EventKind::frame_in: return "frame_in";
    case EventKind::frame_out: return "frame_out";
    case EventKind::control_out: return "control_out";
    case EventKind::buffered: return "buffered";
    case EventKind::dropped: return "dropped";
    case EventKind::ignored: return "ignored";
    case EventKind::flushed: return "flushed";
    case EventKind::close_sent: return "close_sent";
    case EventKind::close_received: return "close_received";
    case EventKind::end: return "end";
    case EventKind::watchdog: return "watchdog";
    }
    return "unknown";
}

// The watchdog's name is already in its subject ("watchdog <id>: nudge").
char const* text_name(EventKind kind) {
    switch (kind) {
    case EventKind::watchdog: return "";
    case EventKind::frame_in: return "frame in";
    case EventKind::frame_out: return "frame out";
    case EventKind::control_out: return "control out";
    case EventKind::close_sent: return "close sent";
    case EventKind::close_received: return "close received";
    case EventKind::end: return "end without close";
    default: return json_name(kind);
    }
}

// Ids and close reasons are shown whole: they are short, and a cut id would be mistaken for another.
std::string printable_whole(std::string_view text) {
    bool truncated = false;
    return printable(text, text.size(), truncated);
}

std::string subject_text(Subject const& s) {
    std::string text = std::string(core::to_string(s.version)) + " " + printable_whole(s.server_id) + " ";
    if (s.socket == 0) return text + "watchdog " + printable_whole(s.connection_id);
    text += s.role;
    if (!s.connection_id.empty()) text += " " + printable_whole(s.connection_id);
    return text + " #" + std::to_string(s.socket);
}

// `quote` marks where the payload's first bytes end, for those that begin or end with spaces.
std::string preview_text(core::Frame const& frame, bool quote) {
    bool truncated = false;
    auto shown = printable(*frame.payload, preview_bytes, truncated);
    if (quote) shown = "\"" + shown + "\"";
    return truncated ? shown + "..." : shown;
}

std::string details_text(Event const& e) {
    switch (e.kind) {
    case EventKind::frame_in:
    case EventKind::frame_out:
        return std::string(e.frame->binary ? "binary " : "text ") + std::to_string(e.frame->payload->size()) + " B " +
               preview_text(*e.frame, true);
    case EventKind::control_out:
        return e.message + (e.nudge ? " (watchdog nudge) " : " ") + preview_text(*e.frame, false);
    case EventKind::buffered: return std::to_string(e.count) + " kept";
    case EventKind::flushed: return std::to_string(e.count) + (e.count == 1 ? " frame" : " frames");
    case EventKind::close_sent:
    case EventKind::close_received: return std::to_string(e.code) + " \"" + printable_whole(e.detail) + "\"";
    case EventKind::end: return "(" + e.detail + ")";
    case EventKind::watchdog: return e.detail;
    default: return {};
    }
}

void add_frame(nlohmann::ordered_json& j, core::Frame const& frame) {
    bool truncated = false;
    j["type"] = frame.binary ? "binary" : "text";
    j["size"] = frame.payload->size();
    j["preview"] = printable(*frame.payload, preview_bytes, truncated);
    j["truncated"] = truncated;
}

}  // namespace

std::string printable(std::string_view bytes, std::size_t max_bytes, bool& truncated) {
    static constexpr char hex[] = "0123456789abcdef";
    truncated = bytes.size() > max_bytes;
    std::string out;
    for (unsigned char c : bytes.substr(0, max_bytes)) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                out += char(c);
            } else {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            }
        }
    }
    return out;
}

std::string text_line(double t_ms, Event const& e) {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%10.3f ", t_ms);
    std::string const name = text_name(e.kind);
    auto const details = details_text(e);
    auto const separator = name.empty() || details.empty() ? "" : " ";
    return stamp + subject_text(*e.subject) + ": " + name + separator + details;
}

std::string json_line(double t_ms, Event const& e) {
    auto const& s = *e.subject;
    nlohmann::ordered_json j;
    j["t_ms"] = std::round(t_ms * 1000) / 1000;
    j["event"] = json_name(e.kind);
    j["version"] = core::to_string(s.version);
    j["server_id"] = s.server_id;
    if (s.socket != 0) {
        j["role"] = s.role;
        j["socket"] = s.socket;
    }
    if (!s.connection_id.empty()) j["connection_id"] = s.connection_id;
    switch (e.kind) {
    case EventKind::frame_in:
    case EventKind::frame_out: add_frame(j, *e.frame); break;
    case EventKind::control_out:
        j["message"] = e.message;
        if (!e.about.empty()) j["about"] = e.about;
        j["nudge"] = e.nudge;
        add_frame(j, *e.frame);
        break;
    case EventKind::buffered: j["kept"] = e.count; break;
    case EventKind::flushed: j["count"] = e.count; break;
    case EventKind::close_sent:
    case EventKind::close_received:
        j["code"] = e.code;
        j["reason"] = e.detail;
        if (!e.about.empty()) j["about"] = e.about;
        break;
    case EventKind::end: j["error"] = e.detail; break;
    case EventKind::watchdog: j["stage"] = e.detail; break;
    default: break;
    }
    // Ids and reasons are bytes from the network: invalid UTF-8 is replaced rather than thrown on.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace relay::trace
