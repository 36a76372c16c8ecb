#include "metrics.hpp"

#include "process_stats.hpp"

#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>

namespace relay::admin {

namespace {

// The labels of each core::SocketKind, in its order.
constexpr std::array<std::string_view, core::socket_kinds> socket_labels{
    R"(version="v1",role="server")", R"(version="v1",role="client")", R"(version="v2",role="control")",
    R"(version="v2",role="data")", R"(version="v2",role="client")"};
constexpr std::array<std::string_view, core::control_messages> control_labels{
    R"(type="sync")", R"(type="connected")", R"(type="disconnected")", R"(type="pong")"};

// The exposition text, one metric family at a time: its # HELP and # TYPE lines, then its samples.
class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        name_ = name;
        text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    void sample(std::uint64_t value, std::string_view labels = {}) { line(labels, std::to_string(value)); }
    void sample(double value, std::string_view labels = {}) {
        std::array<char, 32> digits{};
        auto const end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
        line(labels, std::string(digits.data(), end));
    }
    // A family of one sample, left without one where the system does not say.
    template <class T>
    void single(std::string_view name, std::string_view type, std::string_view help, std::optional<T> value) {
        family(name, type, help);
        if (value) sample(*value);
    }
    std::string take() { return std::move(text_); }

private:
    void line(std::string_view labels, std::string const& value) {
        text_.append(name_);
        if (!labels.empty()) text_.append("{").append(labels).append("}");
        text_.append(" ").append(value).append("\n");
    }

    std::string text_;
    std::string_view name_;
};

std::array<std::size_t, core::socket_kinds> sockets_by_kind(core::Census const& c) {
    return {c.v1_servers, c.v1_clients, c.controls, c.data, c.clients};
}

// The closes the core asked for and those the transport sent on its own, by code.
std::map<std::uint16_t, std::uint64_t> closes_sent(transport::Hub const& hub) {
    auto closes = hub.relay().counters().closes;
    for (auto const& [code, count] : hub.counters().closes) closes[code] += count;
    return closes;
}

}  // namespace

std::string render_metrics(transport::Hub const& hub) {
    auto const& core = hub.relay().counters();
    auto const census = hub.relay().census();
    Exposition out;

    out.family("relay_sockets", "gauge", "WebSockets open now, by protocol version and role.");
    auto const open = sockets_by_kind(census);
    for (std::size_t kind = 0; kind < core::socket_kinds; ++kind) out.sample(std::uint64_t{open[kind]}, socket_labels[kind]);
    out.family("relay_sessions", "gauge", "Sessions (protocol version and serverId) with a socket open.");
    out.sample(std::uint64_t{census.sessions});
    out.family("relay_connections", "gauge", "v2 connection ids within the open sessions.");
    out.sample(std::uint64_t{census.connections});
    out.family("relay_pending_frames", "gauge", "Frames kept now for v2 connection ids without a data socket.");
    out.sample(std::uint64_t{census.pending_frames});
    out.family("relay_sockets_opened_total", "counter", "WebSockets opened, by protocol version and role.");
    for (std::size_t kind = 0; kind < core::socket_kinds; ++kind) out.sample(core.sockets_opened[kind], socket_labels[kind]);

    out.family("relay_frames_received_total", "counter", "Messages read from sockets.");
    out.sample(core.frames_received);
    out.family("relay_bytes_received_total", "counter", "Payload bytes of the messages read from sockets.");
    out.sample(core.bytes_received);
    out.family("relay_frames_forwarded_total", "counter",
               "Peer messages sent to a socket, once per socket; the relay's own control messages are apart.");
    out.sample(core.frames_forwarded);
    out.family("relay_bytes_forwarded_total", "counter", "Payload bytes of the forwarded messages.");
    out.sample(core.bytes_forwarded);
    out.family("relay_control_messages_total", "counter", "Control messages the relay sent itself, by type, once per socket.");
    for (std::size_t type = 0; type < core::control_messages; ++type) out.sample(core.control[type], control_labels[type]);
    out.family("relay_frames_buffered_total", "counter", "Messages kept for a v2 connection id without a data socket.");
    out.sample(core.frames_buffered);
    out.family("relay_frames_dropped_total", "counter",
               "Messages that reached nobody: the oldest kept beyond the 200 per connection id (cap), or none to send to (no_peer).");
    out.sample(core.dropped_cap, R"(reason="cap")");
    out.sample(core.dropped_no_peer, R"(reason="no_peer")");

    out.family("relay_closes_sent_total", "counter", "Close frames the relay sent, by close code.");
    for (auto const& [code, count] : closes_sent(hub)) out.sample(count, "code=\"" + std::to_string(code) + "\"");
    out.family("relay_messages_too_big_total", "counter", "Messages over --max-message-bytes (their senders were closed with 1009).");
    out.sample(hub.counters().messages_too_big);
    out.family("relay_watchdog_total", "counter", "v2 watchdog actions: a fresh sync to the controls (nudge), then closing them with 1011 (reset).");
    out.sample(core.watchdog_nudges, R"(action="nudge")");
    out.sample(core.watchdog_resets, R"(action="reset")");
    out.family("relay_accept_errors_total", "counter", "TCP accepts that failed, as when out of file descriptors.");
    out.sample(hub.counters().accept_errors);
    out.family("relay_upgrades_refused_total", "counter", "WebSocket upgrades refused with 503 at the --max-sockets ceiling.");
    out.sample(std::uint64_t{hub.ceiling().refused()});
    out.family("relay_ready", "gauge", "1 while the relay takes new sockets as usual, 0 while it drains before a shutdown.");
    out.sample(std::uint64_t{hub.ready() ? 1u : 0u});

    auto const process = process_stats();
    out.single("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", process.cpu_seconds);
    out.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", process.resident_bytes);
    out.single("process_open_fds", "gauge", "Open file descriptors.", process.open_files);
    out.single("process_max_fds", "gauge", "The limit on open file descriptors.", process.max_files);
    out.single("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.",
               process.start_time_seconds);
    return out.take();
}

}  // namespace relay::admin
