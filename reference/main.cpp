// reference-relay: the Paseo relay protocol (v1 and v2) with the official relay's observable
// behaviour, for local development and as the yardstick of the conformance suite.
#include "admin/fault_cli.hpp"
#include "admin/fault_injection.hpp"
#include "core/relay.hpp"
#include "record/recorder.hpp"
#include "trace/trace.hpp"
#include "trace/trace_writer.hpp"
#include "transport/hub.hpp"
#include "transport/listener.hpp"
#include "transport/logger.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include <sys/resource.h>

namespace net = boost::asio;
using namespace relay;

namespace {

std::int64_t unix_millis() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Every WebSocket is an open file, and many systems start processes with a soft limit of 1,024 open
// files while allowing far more: take all that the hard limit allows. Returns the limit in force.
rlim_t raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur;
}

std::string ws_url(net::ip::tcp::endpoint const& endpoint) {
    auto host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) host = "[" + host + "]";
    return "ws://" + host + ":" + std::to_string(endpoint.port());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"reference-relay: a local Paseo relay (protocol v1 and v2) that behaves like the official one.\n"
                 "Prints its ws:// URL as the first line on stdout; logs (and --trace lines) go to stderr.\n"
                 "SIGINT/SIGTERM close every WebSocket with 1001 \"Relay shutting down\" (after --drain-seconds) and exit 0."};
    std::string host = "127.0.0.1";
    unsigned short port = 8787;
    std::string log_level = "info";
    transport::TransportOptions transport_options;
    app.add_option("--host", host, "Address to listen on")->envname("RELAY_HOST")->capture_default_str();
    app.add_option("--port", port, "TCP port; 0 picks a free one")->envname("RELAY_PORT")->capture_default_str();
    app.add_option("--log-level", log_level, "error, warn, info (one line per socket event) or debug")
        ->envname("RELAY_LOG_LEVEL")
        ->check(CLI::IsMember({"error", "warn", "info", "debug"}))
        ->capture_default_str();
    app.add_option("--max-message-bytes", transport_options.max_message_bytes,
                   "Largest message accepted; a larger one closes its sender with 1009")
        ->envname("RELAY_MAX_MESSAGE_BYTES")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--max-queue-bytes", transport_options.max_queue_bytes,
                   "Bytes queued for one slow reader before the sockets feeding it stop being read")
        ->envname("RELAY_MAX_QUEUE_BYTES")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    // Off by default: the official relay has no such ceiling, and conformant clients never meet one.
    app.add_option("--max-sockets", transport_options.max_sockets,
                   "At most this many WebSockets at once; further upgrades get 503 until one ends (0: no limit)")
        ->envname("RELAY_MAX_SOCKETS")
        ->capture_default_str();
    // The drain (docs/deploy.md): time for a load balancer polling /ready to take the relay out first.
    unsigned drain_seconds = 0;
    app.add_option("--drain-seconds", drain_seconds,
                   "On SIGTERM/SIGINT, answer GET /ready with 503 but keep serving this long before closing every "
                   "socket with 1001; a second signal ends the drain at once")
        ->envname("RELAY_DRAIN_SECONDS")
        ->check(CLI::Range(0u, 86'400u))
        ->capture_default_str();
    // The watchdog's delays (docs/protocol.md V2-WD-1, V2-WD-2); shorter ones make tests of it fast.
    core::RelayOptions relay_options;
    auto nudge_ms = relay_options.watchdog_nudge.count();
    auto reset_ms = relay_options.watchdog_reset.count();
    std::int64_t const max_timer_ms = 86'400'000;  // a day; far from the steady clock's range
    app.add_option("--watchdog-nudge-ms", nudge_ms,
                   "Milliseconds after a v2 client opens without a data socket until the controls get a fresh sync")
        ->envname("RELAY_WATCHDOG_NUDGE_MS")
        ->check(CLI::Range(std::int64_t{1}, max_timer_ms))
        ->capture_default_str();
    app.add_option("--watchdog-reset-ms", reset_ms,
                   "Milliseconds after that sync until the controls are closed with 1011 if still no data socket")
        ->envname("RELAY_WATCHDOG_RESET_MS")
        ->check(CLI::Range(std::int64_t{1}, max_timer_ms))
        ->capture_default_str();
    // The trace (docs/daemon-development.md, "Trace"): off unless asked for, and then only watching.
    trace::TraceOptions trace_options;
    app.add_flag("--trace", trace_options.text, "Print every protocol event on stderr, one readable line each")
        ->envname("RELAY_TRACE");
    app.add_option("--trace-json", trace_options.json_path, "Write every protocol event to FILE, one JSON object a line")
        ->option_text("FILE (Env:RELAY_TRACE_JSON)")
        ->envname("RELAY_TRACE_JSON");
    app.add_option("--trace-server-id", trace_options.server_id, "Trace only the sessions of this serverId")
        ->option_text("ID (Env:RELAY_TRACE_SERVER_ID)")
        ->envname("RELAY_TRACE_SERVER_ID");
    app.add_option("--trace-connection-id", trace_options.connection_id,
                   "Trace only this v2 connection id: its client and data sockets, and control messages about it")
        ->option_text("ID (Env:RELAY_TRACE_CONNECTION_ID)")
        ->envname("RELAY_TRACE_CONNECTION_ID");
    // Recording (docs/daemon-development.md, "Record"): each session as a scenario file both runners replay.
    record::RecordOptions record_options;
    app.add_option("--record", record_options.dir,
                   "Write each session to DIR as a scenario file (payloads redacted to type and size) when it ends")
        ->option_text("DIR (Env:RELAY_RECORD)")
        ->envname("RELAY_RECORD");
    app.add_flag("--record-payloads", record_options.payloads, "With --record: keep the payloads as they were")
        ->envname("RELAY_RECORD_PAYLOADS");
    // Fault injection (docs/daemon-development.md, "Fault injection"): off unless asked for.
    admin::FaultOptions fault_options;
    fault_options.add_flags(app);
    admin::FaultCli fault_cli(app);
    app.footer("Exit codes: 0 after a clean shutdown, 1 if the address cannot be bound, 2 on bad arguments.\n"
               "Example: reference-relay --port 0 --log-level debug\n"
               "Watchdog ten times faster (run the scenarios with --time-scale 0.1):\n"
               "  reference-relay --port 0 --watchdog-nudge-ms 1000 --watchdog-reset-ms 500\n"
               "Every frame of one daemon, as lines on stderr and JSON lines in a file:\n"
               "  reference-relay --port 0 --trace --trace-json trace.jsonl --trace-server-id my-daemon\n"
               "Each session as a scenario, to replay with relay-conformance run --scenarios recorded:\n"
               "  reference-relay --port 0 --record recorded");
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (fault_cli.chosen()) return fault_cli.run();
    if (auto problem = fault_options.problem()) {
        std::cerr << "reference-relay: " << *problem << "\n";
        return 2;
    }

    if (!trace_options.enabled() && (!trace_options.server_id.empty() || !trace_options.connection_id.empty())) {
        std::cerr << "reference-relay: --trace-server-id and --trace-connection-id filter a trace; add --trace or --trace-json FILE\n";
        return 2;
    }
    if (record_options.payloads && record_options.dir.empty()) {
        std::cerr << "reference-relay: --record-payloads keeps the payloads of a recording; add --record DIR\n";
        return 2;
    }
    relay_options.watchdog_nudge = std::chrono::milliseconds(nudge_ms);
    relay_options.watchdog_reset = std::chrono::milliseconds(reset_ms);
    record_options.watchdog_nudge = relay_options.watchdog_nudge;
    record_options.watchdog_reset = relay_options.watchdog_reset;
    transport::Logger logger(*transport::parse_log_level(log_level));
    auto const open_files = raise_open_file_limit();
    boost::system::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) {
        std::cerr << "reference-relay: --host " << host << " is not an IP address; use e.g. 127.0.0.1 or ::1\n";
        return 2;
    }

    net::io_context ioc{1};
    core::Relay relay(relay_options, core::random_connection_id, unix_millis);
    // The trace's sinks: its writer (--trace, --trace-json) and the recorder (--record). With neither
    // the hub gets no trace, and each place that would report to it tests a null pointer.
    std::unique_ptr<trace::TraceWriter> trace_writer;
    std::unique_ptr<record::Recorder> recorder;
    try {
        if (trace_options.enabled()) trace_writer = std::make_unique<trace::TraceWriter>(trace_options);
        if (!record_options.dir.empty()) recorder = std::make_unique<record::Recorder>(record_options, logger);
    } catch (std::runtime_error const& e) {
        std::cerr << "reference-relay: " << e.what() << "\n";
        return 2;
    }
    // The recorder first: a session's file is written before the trace shows its last socket's end.
    std::vector<trace::Sink*> sinks;
    if (recorder) sinks.push_back(recorder.get());
    if (trace_writer) sinks.push_back(trace_writer.get());
    std::unique_ptr<trace::Trace> trace;
    if (!sinks.empty()) trace = std::make_unique<trace::Trace>(relay, sinks);
    transport::Hub hub(ioc, relay, logger, transport_options, trace.get());
    std::shared_ptr<transport::Listener> listener;
    try {
        listener = std::make_shared<transport::Listener>(ioc, net::ip::tcp::endpoint(address, port), hub);
    } catch (boost::system::system_error const& e) {
        std::cerr << "reference-relay: cannot listen on " << host << ":" << port << ": " << e.code().message()
                  << "; choose another --port (0 picks a free one)\n";
        return 1;
    }
    std::unique_ptr<admin::FaultInjection> fault_injection;
    if (fault_options.wanted()) {
        try {
            fault_injection = std::make_unique<admin::FaultInjection>(ioc, hub, logger, fault_options,
                                                                      transport_options.max_message_bytes);
        } catch (boost::system::system_error const& e) {
            std::cerr << "reference-relay: cannot listen on " << fault_options.admin_host << ":" << fault_options.admin_port
                      << " for --admin-port: " << e.code().message() << "; choose another (0 picks a free one)\n";
            return 1;
        }
    }
    // Caught from before the URL is printed: whoever read it may signal at once, and a signal with no
    // wait yet is queued for the first async_wait below rather than ending the process.
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    // The admin URL is the second line, written with the first: a reader that stops after the first
    // line may close the pipe, and a later write would then kill the relay.
    auto const admin_url = fault_injection ? fault_injection->admin_url() : std::nullopt;
    std::cout << ws_url(listener->local_endpoint()) + (admin_url ? "\n" + *admin_url : "") << std::endl;
    if (admin_url) {
        auto const what = fault_options.read_only ? "admin API (read-only) at " : "fault injection: admin API at ";
        logger.log(transport::LogLevel::info, what + *admin_url);
    }
    logger.log(transport::LogLevel::info, "open-file limit " + std::to_string(open_files) +
                                              ": about that many sockets at once (ulimit -Hn raises it)");
    if (core::RelayOptions const official; relay_options.watchdog_nudge != official.watchdog_nudge ||
                                           relay_options.watchdog_reset != official.watchdog_reset)
        logger.log(transport::LogLevel::info,
                   "watchdog: nudge " + std::to_string(nudge_ms) + " ms after a client opens, reset " +
                       std::to_string(reset_ms) + " ms after the nudge (the official relay: " +
                       std::to_string(official.watchdog_nudge.count()) + " and " +
                       std::to_string(official.watchdog_reset.count()) + ")");
    listener->run();

    net::steady_timer shutdown_deadline(ioc);
    net::steady_timer drain(ioc);
    auto signal_name = [](int signal) { return std::string(signal == SIGINT ? "SIGINT" : "SIGTERM"); };
    auto shut_down = [&](std::string const& why) {
        logger.log(transport::LogLevel::info, why + ", closing every socket with 1001");
        drain.cancel();
        // Later signals are ignored, to the end: Asio would restore the default action, which ends the
        // process with 143, when `signals` is destroyed on the way out.
        signals.clear();
        std::signal(SIGINT, SIG_IGN);
        std::signal(SIGTERM, SIG_IGN);
        listener->stop();
        if (fault_injection) fault_injection->stop();
        // Sessions still open are written as they were: the shutdown's closes are no part of them.
        if (recorder) recorder->finish();
        // Sockets get a bounded time to finish their closing handshakes.
        shutdown_deadline.expires_after(std::chrono::seconds(3));
        shutdown_deadline.async_wait([&](boost::system::error_code) { ioc.stop(); });
        hub.shutdown([&] { ioc.stop(); });
    };
    signals.async_wait([&](boost::system::error_code, int signal) {
        if (drain_seconds == 0) return shut_down("received " + signal_name(signal));
        logger.log(transport::LogLevel::info, "received " + signal_name(signal) + ", draining for " +
                                                  std::to_string(drain_seconds) +
                                                  " s: /ready answers 503; SIGTERM again to stop at once");
        hub.drain();
        drain.expires_after(std::chrono::seconds(drain_seconds));
        drain.async_wait([&](boost::system::error_code ec) {
            if (!ec) shut_down("drained");
        });
        signals.async_wait([&](boost::system::error_code ec, int again) {
            if (!ec) shut_down("received " + signal_name(again) + " again");
        });
    });
    // One pass: wait for something to happen, handle everything that is ready, then send what the
    // pass queued, one system call per socket, and resume the reads that waited for the pass to end.
    while (ioc.run_one() > 0) {
        ioc.poll();
        hub.batcher().end_pass();
    }
    return 0;
}
