#include "recorder.hpp"

#include "scenario_builder.hpp"
#include "scenario_text.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace relay::record {
namespace {

namespace fs = std::filesystem;
using trace::EventKind;

// `text` in lower case with every character outside [a-z0-9] and `keep` turned into one dash, at most
// `max` characters: names for files, ids and sockets that any shell and the id pattern take.
std::string slug(std::string_view text, std::string_view keep, std::size_t max) {
    std::string out;
    for (unsigned char c : text) {
        auto const lower = char(std::tolower(c));
        bool const plain = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || keep.find(lower) != keep.npos;
        if (plain)
            out += lower;
        else if (!out.empty() && out.back() != '-')
            out += '-';
        if (out.size() == max) break;
    }
    while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
    return out;
}

// control, data-<id>, client-<id> (v2); server, client (v1); a second socket of the same name gets -2.
std::string socket_name(trace::Subject const& s, SessionLog const& log) {
    std::string base = s.role;
    if (!s.connection_id.empty()) {
        auto id = slug(s.connection_id, "_.", 32);
        base += "-" + (id.empty() ? std::string("id") : id);
    }
    auto taken = [&log](std::string const& name) {
        for (auto const& socket : log.sockets)
            if (socket.name == name) return true;
        return false;
    };
    auto name = base;
    for (int n = 2; taken(name); ++n) name = base + "-" + std::to_string(n);
    return name;
}

std::string session_key(trace::Subject const& s) { return std::string(core::to_string(s.version)) + " " + s.server_id; }

Payload payload_of(core::Frame const& frame, bool keep) {
    return {frame.binary, frame.payload->size(), keep ? frame.payload : nullptr};
}

std::string utc_now() {
    auto const now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

}  // namespace

Recorder::Recorder(RecordOptions options, transport::Logger const& log) : options_(std::move(options)), log_(log) {
    std::error_code ec;
    fs::create_directories(options_.dir, ec);
    if (!ec && ::access(options_.dir.c_str(), W_OK) != 0) ec = std::error_code(errno, std::generic_category());
    if (ec) throw std::runtime_error("cannot record into " + options_.dir + ": " + ec.message());
}

void Recorder::event(double t_ms, trace::Event const& event) {
    if (finished_) return;
    auto const& subject = *event.subject;
    if (event.kind == EventKind::open) return opened(subject, t_ms);
    if (event.kind == EventKind::watchdog) {
        auto it = sessions_.find(session_key(subject));
        if (it == sessions_.end()) return;
        it->second.log.observations.push_back({.what = What::watchdog, .t_ms = t_ms, .about = subject.connection_id,
                                               .reset = event.detail == "reset"});
        return;
    }
    auto it = sockets_.find(subject.socket);
    if (it == sockets_.end()) return;
    observe(it->second, event, t_ms);
    if (event.kind == EventKind::close_received || event.kind == EventKind::end) ended(subject.socket);
}

void Recorder::opened(trace::Subject const& subject, double t_ms) {
    auto& live = sessions_[session_key(subject)];
    auto& log = live.log;
    if (live.open_sockets == 0) {
        log.version = subject.version;
        log.server_id = subject.server_id;
    }
    ++live.open_sockets;
    log.sockets.push_back({socket_name(subject, log), subject.role, subject.connection_id});
    sockets_[subject.socket] = {session_key(subject), log.sockets.size() - 1};
    log.observations.push_back({.what = What::open, .socket = log.sockets.size() - 1, .t_ms = t_ms});
}

void Recorder::observe(Where const& where, trace::Event const& event, double t_ms) {
    auto& observations = sessions_.at(where.session).log.observations;
    Observation o{.socket = where.socket, .t_ms = t_ms};
    switch (event.kind) {
    case EventKind::frame_in:
        o.what = What::send;
        // A control's input is protocol (a ping must stay a ping); it is redacted below if it was ignored.
        o.payload = payload_of(*event.frame, options_.payloads || event.subject->is_control());
        break;
    case EventKind::buffered:
    case EventKind::dropped:
    case EventKind::ignored: {
        // Reported right after the frame it is about.
        auto& sent = observations.back();
        sent.effect = event.kind == EventKind::buffered ? Effect::buffered
                    : event.kind == EventKind::dropped  ? Effect::dropped
                                                        : Effect::ignored;
        if (sent.effect == Effect::ignored && !options_.payloads) sent.payload.bytes = nullptr;
        return;
    }
    case EventKind::frame_out:
        o.what = What::deliver;
        o.payload = payload_of(*event.frame, options_.payloads);
        break;
    case EventKind::control_out:
        // The relay's own messages are protocol, not payload: always kept.
        o.what = What::deliver;
        o.payload = payload_of(*event.frame, true);
        o.control = true;
        o.nudge = event.nudge;
        break;
    case EventKind::close_sent:
        o.what = What::relay_close;
        o.code = event.code;
        o.reason = event.detail;
        o.about = event.about;
        break;
    case EventKind::close_received:
        o.what = What::peer_close;
        o.code = event.code;
        o.reason = event.detail;
        break;
    case EventKind::end: o.what = What::peer_drop; break;
    default: return;  // flushed: the frames it announces follow as deliveries
    }
    observations.push_back(std::move(o));
}

void Recorder::ended(core::SocketId id) {
    auto where = sockets_.find(id);
    auto session = sessions_.find(where->second.session);
    sockets_.erase(where);
    if (--session->second.open_sockets > 0) return;
    write(session->second.log, false);
    sessions_.erase(session);
}

void Recorder::finish() {
    finished_ = true;
    for (auto const& [key, live] : sessions_) write(live.log, true);
    sessions_.clear();
    sockets_.clear();
}

void Recorder::write(SessionLog const& log, bool at_shutdown) {
    auto stem = slug(log.server_id, ".", 48);
    if (stem.empty()) stem = "session";
    // Numbers go on past files already there, from this run or an earlier one.
    auto& n = written_[stem];
    fs::path path;
    do path = fs::path(options_.dir) / (stem + "-" + std::to_string(++n) + ".json");
    while (fs::exists(path));
    BuildOptions const build{.id = "recorded-" + path.stem().string(),
                             .recorded_at = utc_now(),
                             .payloads = options_.payloads,
                             .at_shutdown = at_shutdown,
                             .watchdog_nudge = options_.watchdog_nudge,
                             .watchdog_reset = options_.watchdog_reset};
    auto const text = scenario_file_text("RECORDED", build_scenario(log, build));
    // Written whole under another name first: runners and tools only collect *.json.
    auto const partial = path.string() + ".partial";
    std::ofstream out(partial, std::ios::binary);
    out << text;
    out.close();
    std::error_code ec;
    if (out) fs::rename(partial, path, ec);
    if (!out || ec) {
        log_.log(transport::LogLevel::error, "cannot write the recording " + path.string() + ": " +
                                                 (ec ? ec.message() : std::string(std::strerror(errno))));
        fs::remove(partial, ec);
        return;
    }
    log_.log(transport::LogLevel::info, std::string("recorded ") + core::to_string(log.version) + " serverId " +
                                            log.server_id + " (" + std::to_string(log.sockets.size()) + " sockets) in " +
                                            path.string());
}

}  // namespace relay::record
