// --record DIR: each session's conversation, as the trace sees it, written as a scenario file that
// both runners replay (docs/daemon-development.md, "Record"). A session's file is written when its
// last socket ends, or when the relay stops; payloads are redacted to their type and size unless
// --record-payloads. Nothing here changes what the relay does.
#pragma once

#include "session_log.hpp"
#include "trace/trace_event.hpp"
#include "transport/logger.hpp"

#include <chrono>
#include <map>
#include <string>
#include <unordered_map>

namespace relay::record {

struct RecordOptions {
    std::string dir;        // one scenario file per session in this folder; empty: not recording
    bool payloads = false;  // keep payloads as they were instead of their type and size
    // The relay's watchdog delays: they tell which client's open a watchdog timer came from.
    std::chrono::milliseconds watchdog_nudge{10'000};
    std::chrono::milliseconds watchdog_reset{5'000};
};

class Recorder : public trace::Sink {
public:
    // Creates the folder if it is missing; throws std::runtime_error naming it if it cannot be written.
    Recorder(RecordOptions options, transport::Logger const& log);

    void event(double t_ms, trace::Event const& event) override;
    // The relay is stopping: writes every session still open; what follows (the shutdown's closes) is
    // not part of any conversation.
    void finish();

private:
    struct Live {
        SessionLog log;
        std::size_t open_sockets = 0;
    };
    struct Where {
        std::string session;
        std::size_t socket;  // index into the session's sockets
    };

    void opened(trace::Subject const& subject, double t_ms);
    void observe(Where const& where, trace::Event const& event, double t_ms);
    void ended(core::SocketId id);
    void write(SessionLog const& log, bool at_shutdown);

    RecordOptions options_;
    transport::Logger const& log_;
    std::map<std::string, Live> sessions_;  // by version and serverId, as the core keys them
    std::unordered_map<core::SocketId, Where> sockets_;
    std::map<std::string, int> written_;  // files written per name stem, so numbers go on from there
    bool finished_ = false;
};

}  // namespace relay::record
