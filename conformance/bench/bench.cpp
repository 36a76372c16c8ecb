#include "bench/bench.hpp"

#include "bench/bench_socket.hpp"
#include "bench/measurements.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <iomanip>
#include <iostream>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace conformance::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

namespace {

constexpr std::size_t frame_header_bytes = 16;  // send time (ns) and sequence number
constexpr std::size_t max_queued_per_socket = 4 * 1024 * 1024;
// Payloads this large are not copied per frame (see send_frame); below it, a copy costs less.
constexpr std::size_t shared_filler_bytes = 4 * 1024;
constexpr auto tick = std::chrono::milliseconds(1);

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

struct Target {
    tcp::endpoint endpoint;
    std::string host_header;
    std::string path;
};

std::optional<Target> resolve(std::string const& url, net::io_context& ioc, std::string& error) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "ws" || !parsed->has_port()) {
        error = "'" + url + "' is not a URL like ws://127.0.0.1:8787 (the bench speaks plain ws:// only)";
        return std::nullopt;
    }
    boost::system::error_code ec;
    auto results = tcp::resolver(ioc).resolve(std::string(parsed->host()), std::string(parsed->port()), ec);
    if (ec || results.empty()) {
        error = "cannot resolve " + std::string(parsed->host()) + ": " + ec.message();
        return std::nullopt;
    }
    std::string path(parsed->encoded_path());
    if (path.empty() || path == "/") path = "/ws";
    return Target{results.begin()->endpoint(), std::string(parsed->encoded_host_and_port()), path};
}

// Sockets beyond the soft limit fail to open; raise it as far as the hard limit allows.
std::string raise_fd_limit(std::size_t wanted) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < wanted + 64)
        return "the OS allows " + std::to_string(limit.rlim_cur) + " open files; " + std::to_string(wanted) +
               " sockets were asked for, which leaves under 64 to spare: some may fail (raise the hard limit: ulimit -Hn)";
    return {};
}

class Bench {
public:
    Bench(BenchOptions const& options, Target target) : options_(options), target_(std::move(target)) {}

    Json run();

private:
    enum class Kind { control, data, client };
    struct Peer {
        std::shared_ptr<BenchSocket> socket;
        Kind kind;
        unsigned pair;
        std::uint64_t sent = 0;       // frames this socket sent
        std::uint64_t last_seq = 0;   // highest sequence received, per its one sender
        bool received_any = false;
        bool opened = false;
        unsigned generation = 0;      // reconnect: each cycle uses a fresh connection id
    };
    struct Samples {
        std::optional<ProcessSample> before, steady_start, steady_end, after;
    };

    std::string query(Peer const& peer) const;
    void sample(std::optional<ProcessSample> Samples::*when);
    std::shared_ptr<BenchSocket> make_socket(std::size_t index, BenchSocket::Callbacks callbacks);
    // A loopback relay is reached from a distinct loopback address per socket (see BenchSocket::start).
    std::optional<net::ip::address> source_address(std::size_t index) const;
    std::chrono::milliseconds open_timeout() const {
        return std::chrono::milliseconds(std::int64_t(options_.open_timeout * 1000));
    }
    void setup_finished();
    void open_sockets();
    void launch_more();
    void on_opened(BenchSocket& socket);
    void on_ended(BenchSocket& socket, std::string const& why);
    void on_frame(BenchSocket& socket, std::string_view payload);
    void start_traffic();
    void on_tick();
    void send_frame(Peer& peer);
    void finish_traffic();
    void close_all();
    void reconnect_cycle(unsigned pair);
    void wait(std::chrono::duration<double> d, std::function<void()> then);

    BenchOptions options_;
    Target target_;
    std::string server_id_ = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(now_ns() % 1000000);
    net::io_context ioc_{1};
    DeferredReads deferred_reads_;
    net::steady_timer timer_{ioc_};
    std::vector<Peer> peers_;
    std::deque<std::size_t> to_open_;
    std::size_t in_flight_opens_ = 0, opened_ = 0, failed_ = 0, ended_ = 0;
    Clock::time_point setup_start_, setup_end_, send_start_, steady_start_, steady_end_;
    bool sending_ = false, measuring_ = false, setup_done_ = false;
    std::uint64_t expected_ = 0, delivered_ = 0, steady_delivered_ = 0, out_of_order_ = 0, backlogged_ticks_ = 0;
    std::uint64_t cycles_ = 0, cycle_failures_ = 0;
    std::vector<std::string> errors_;
    LatencyRecorder latency_;
    std::string payload_filler_;
    std::function<void()> after_setup_;
    Samples self_, relay_;
};

std::string Bench::query(Peer const& peer) const {
    auto q = target_.path + "?serverId=" + server_id_ + "&v=2&role=" + (peer.kind == Kind::client ? "client" : "server");
    if (peer.kind != Kind::control)
        q += "&connectionId=c" + std::to_string(peer.pair) + "-" + std::to_string(peer.generation);
    return q;
}

void Bench::sample(std::optional<ProcessSample> Samples::*when) {
    self_.*when = sample_process(::getpid());
    if (options_.relay_pid) relay_.*when = sample_process(*options_.relay_pid);
}

std::optional<net::ip::address> Bench::source_address(std::size_t index) const {
    auto const relay = target_.endpoint.address();
    if (!relay.is_v4() || !relay.is_loopback()) return std::nullopt;
    auto const n = static_cast<unsigned>(index % 65000 + 1);
    return net::ip::make_address_v4(net::ip::address_v4::bytes_type{127, 1, static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)});
}

std::shared_ptr<BenchSocket> Bench::make_socket(std::size_t index, BenchSocket::Callbacks callbacks) {
    auto socket = std::make_shared<BenchSocket>(ioc_, deferred_reads_, target_.endpoint, target_.host_header,
                                                query(peers_[index]), std::move(callbacks));
    socket->tag = int(index);
    return socket;
}

void Bench::setup_finished() {
    setup_done_ = true;
    setup_end_ = Clock::now();
    // With no socket open there is nothing to measure: the run ends now instead of after its duration.
    if (opened_ == 0) return close_all();
    after_setup_();
}

void Bench::wait(std::chrono::duration<double> d, std::function<void()> then) {
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(d));
    timer_.async_wait([then = std::move(then)](boost::system::error_code ec) {
        if (!ec) then();
    });
}

void Bench::open_sockets() {
    auto const clients = options_.scenario == "fanout" ? options_.fanout_clients : 1u;
    peers_.push_back({nullptr, Kind::control, 0});
    for (unsigned p = 0; p < options_.pairs; ++p) {
        peers_.push_back({nullptr, Kind::data, p});
        for (unsigned c = 0; c < clients; ++c) peers_.push_back({nullptr, Kind::client, p});
    }
    for (std::size_t i = 0; i < peers_.size(); ++i) to_open_.push_back(i);
    setup_start_ = Clock::now();
    launch_more();
}

void Bench::launch_more() {
    auto const elapsed = seconds_between(setup_start_, Clock::now());
    while (!to_open_.empty() && in_flight_opens_ < options_.batch) {
        auto const started = opened_ + failed_ + in_flight_opens_;
        if (options_.open_rate > 0 && double(started) >= elapsed * options_.open_rate + 1) {
            wait(std::chrono::duration<double>(1.0 / options_.open_rate), [this] { launch_more(); });
            return;
        }
        auto index = to_open_.front();
        to_open_.pop_front();
        auto& peer = peers_[index];
        peer.socket = make_socket(index, {[this](BenchSocket& s) { on_opened(s); },
                                          [this](BenchSocket& s, std::string_view p) { on_frame(s, p); },
                                          [this](BenchSocket& s, std::string const& why) { on_ended(s, why); }});
        ++in_flight_opens_;
        peer.socket->start(open_timeout(), source_address(index));
    }
}

void Bench::on_opened(BenchSocket& socket) {
    peers_[std::size_t(socket.tag)].opened = true;
    --in_flight_opens_;
    ++opened_;
    if (opened_ + failed_ == peers_.size()) return setup_finished();
    launch_more();
}

void Bench::on_ended(BenchSocket& socket, std::string const& why) {
    auto& peer = peers_[std::size_t(socket.tag)];
    if (!peer.opened) {
        --in_flight_opens_;
        ++failed_;
        if (errors_.size() < 5) errors_.push_back(why);
        if (opened_ + failed_ == peers_.size()) return setup_finished();
        return launch_more();
    }
    ++ended_;
    if (sending_ && errors_.size() < 5) errors_.push_back("a socket ended during traffic: " + why);
}

void Bench::on_frame(BenchSocket& socket, std::string_view payload) {
    auto& peer = peers_[std::size_t(socket.tag)];
    if (peer.kind == Kind::control || payload.size() < frame_header_bytes) return;
    std::int64_t sent_ns;
    std::uint64_t seq;
    std::memcpy(&sent_ns, payload.data(), 8);
    std::memcpy(&seq, payload.data() + 8, 8);
    auto const now = now_ns();
    ++delivered_;
    if (peer.received_any && seq <= peer.last_seq) ++out_of_order_;
    peer.received_any = true;
    peer.last_seq = seq;
    if (measuring_) {
        ++steady_delivered_;
        latency_.record(std::uint32_t(std::min<std::int64_t>((now - sent_ns) / 1000, UINT32_MAX)));
    }
    if (options_.scenario == "reconnect") {
        ++cycles_;
        reconnect_cycle(peer.pair);
    } else if (!sending_ && delivered_ >= expected_) {
        timer_.cancel();
        close_all();
    }
}

void Bench::send_frame(Peer& peer) {
    auto const seq = ++peer.sent;
    auto const sent_ns = now_ns();
    std::memcpy(payload_filler_.data(), &sent_ns, 8);
    std::memcpy(payload_filler_.data() + 8, &seq, 8);
    std::string_view const payload = payload_filler_;
    if (payload.size() < shared_filler_bytes) {
        peer.socket->send(Opcode::binary, payload);
    } else {
        // Only the stamp differs from frame to frame: the rest is written from the filler itself.
        peer.socket->send(Opcode::binary, payload.substr(0, frame_header_bytes), payload.substr(frame_header_bytes));
    }
    expected_ += peer.kind == Kind::data && options_.scenario == "fanout" ? options_.fanout_clients : 1;
}

void Bench::start_traffic() {
    payload_filler_.assign(std::max(options_.payload, frame_header_bytes), 'x');
    sending_ = true;
    send_start_ = Clock::now();
    steady_start_ = send_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.warmup));
    steady_end_ = steady_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.duration));
    latency_.reserve(std::size_t(options_.rate * options_.duration * options_.pairs * 2.2));
    on_tick();
}

void Bench::on_tick() {
    auto const now = Clock::now();
    if (!measuring_ && now >= steady_start_) {
        measuring_ = true;
        sample(&Samples::steady_start);
    }
    if (now >= steady_end_) return finish_traffic();
    auto const frames_due = seconds_between(send_start_, now) * options_.rate;
    bool backlogged = false;
    for (std::size_t index = 0; index < peers_.size(); ++index) {
        auto& peer = peers_[index];
        if (peer.kind == Kind::control || !peer.socket || !peer.socket->is_open()) continue;
        if (options_.scenario == "fanout" && peer.kind == Kind::client) continue;
        // Each socket is offset by its share of one frame interval, so that the sockets take turns
        // instead of all sending on the same tick.
        auto const due = std::uint64_t(frames_due + double(index) / double(peers_.size()));
        // A tick's frames for one socket leave in one system call.
        BenchSocket::Cork cork(*peer.socket);
        while (peer.sent < due) {
            // A relay that cannot keep up makes the bench send less, never queue without bound.
            if (peer.socket->queued_bytes() > max_queued_per_socket) {
                backlogged = true;
                break;
            }
            send_frame(peer);
        }
    }
    backlogged_ticks_ += backlogged;
    timer_.expires_at(now + tick);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) on_tick();
    });
}

void Bench::finish_traffic() {
    sending_ = false;
    measuring_ = false;
    steady_end_ = Clock::now();
    sample(&Samples::steady_end);
    if (delivered_ >= expected_) return close_all();
    // Frames still in flight count as delivered if they arrive within the drain timeout.
    wait(std::chrono::duration<double>(options_.drain_timeout), [this] { close_all(); });
}

void Bench::close_all() {
    timer_.cancel();
    for (auto& peer : peers_)
        if (peer.socket) peer.socket->drop();
}

void Bench::reconnect_cycle(unsigned pair) {
    if (Clock::now() >= steady_end_) return;
    // Drop this pair's sockets and open a fresh pair, under a new connection id so that the relay's
    // cascades from the old pair cannot reach the new one; the client's frame proves it works.
    for (std::size_t index = 0; index < peers_.size(); ++index) {
        auto& peer = peers_[index];
        if (peer.pair != pair || peer.kind == Kind::control) continue;
        peer.socket->drop();
        ++peer.generation;
        peer.socket = make_socket(index, {[this](BenchSocket& s) {
                                              auto& p = peers_[std::size_t(s.tag)];
                                              if (p.kind == Kind::client) send_frame(p);
                                          },
                                          [this](BenchSocket& s, std::string_view p) { on_frame(s, p); },
                                          [this](BenchSocket& s, std::string const& why) {
                                              if (peers_[std::size_t(s.tag)].socket.get() != &s || why.rfind("dropped", 0) == 0)
                                                  return;
                                              ++cycle_failures_;
                                              if (errors_.size() < 5) errors_.push_back("reconnect: " + why);
                                          }});
        peer.socket->start(open_timeout(), source_address(index));
    }
}

Json Bench::run() {
    sample(&Samples::before);
    after_setup_ = [this] {
        auto const& s = options_.scenario;
        if (s == "idle") {
            wait(std::chrono::duration<double>(options_.warmup), [this] {
                sample(&Samples::steady_start);
                steady_start_ = Clock::now();
                wait(std::chrono::duration<double>(options_.duration), [this] {
                    steady_end_ = Clock::now();
                    sample(&Samples::steady_end);
                    close_all();
                });
            });
        } else if (s == "reconnect") {
            sample(&Samples::steady_start);
            steady_start_ = send_start_ = Clock::now();
            steady_end_ = steady_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.duration));
            payload_filler_.assign(std::max(options_.payload, frame_header_bytes), 'x');
            measuring_ = true;
            for (unsigned p = 0; p < options_.pairs; ++p) reconnect_cycle(p);
            wait(std::chrono::duration<double>(options_.duration), [this] {
                measuring_ = false;
                sample(&Samples::steady_end);
                close_all();
            });
        } else {
            start_traffic();
        }
    };
    open_sockets();
    auto const give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                            options_.warmup + options_.duration + options_.drain_timeout + 120));
    // One pass: wait for something to happen, handle everything that is ready, then start the reads
    // that waited for the pass to end.
    while (ioc_.run_one_until(give_up) > 0) {
        ioc_.poll();
        deferred_reads_.start_all();
    }
    sample(&Samples::after);
    if (!self_.steady_end) sample(&Samples::steady_end);

    auto const steady_seconds = std::max(1e-9, seconds_between(steady_start_, steady_end_));
    auto const lat = latency_.summarize();
    Json report;
    report["scenario"] = options_.scenario;
    report["url"] = options_.url;
    report["options"] = {{"pairs", options_.pairs}, {"rate_per_socket", options_.rate}, {"payload_bytes", options_.payload},
                         {"duration_s", options_.duration}, {"warmup_s", options_.warmup},
                         {"fanout_clients", options_.fanout_clients}, {"open_rate", options_.open_rate},
                         {"batch", options_.batch},
                         {"open_timeout_s", options_.open_timeout}};
    report["sockets"] = {{"requested", peers_.size()}, {"opened", opened_}, {"failed", failed_},
                         {"setup_s", seconds_between(setup_start_, setup_end_)},
                         {"setup_per_s", double(opened_) / std::max(1e-9, seconds_between(setup_start_, setup_end_))}};
    report["frames"] = {{"sent", expected_}, {"delivered", delivered_},
                        {"lost", expected_ > delivered_ ? expected_ - delivered_ : 0}, {"out_of_order", out_of_order_},
                        {"steady_delivered", steady_delivered_},
                        {"steady_delivered_per_s", double(steady_delivered_) / steady_seconds},
                        {"backlogged_ticks", backlogged_ticks_}};
    if (options_.scenario == "reconnect")
        report["reconnect"] = {{"cycles", cycles_}, {"failures", cycle_failures_}, {"cycles_per_s", double(cycles_) / steady_seconds}};
    report["latency_us"] = {{"samples", latency_.count()}, {"p50", lat.p50}, {"p95", lat.p95}, {"p99", lat.p99},
                            {"p99.9", lat.p999}, {"max", lat.max}};
    auto process = [](Samples const& s, std::uint64_t frames) {
        Json j;
        if (!s.steady_start || !s.steady_end) return j;
        auto const cpu = s.steady_end->cpu_seconds - s.steady_start->cpu_seconds;
        j["steady_cpu_s"] = cpu;
        if (frames) j["cpu_us_per_delivered_frame"] = cpu * 1e6 / double(frames);
        if (s.before) j["rss_before_bytes"] = s.before->rss_bytes;
        j["rss_during_bytes"] = s.steady_end->rss_bytes;
        if (s.after) j["rss_after_bytes"] = s.after->rss_bytes;
        return j;
    };
    auto const frames_for_cpu = options_.scenario == "reconnect" ? cycles_ : steady_delivered_;
    report["bench_process"] = process(self_, frames_for_cpu);
    if (options_.relay_pid) {
        auto relay = process(relay_, frames_for_cpu);
        if (relay_.before && relay_.steady_end && opened_)
            relay["rss_per_socket_bytes"] =
                (double(relay_.steady_end->rss_bytes) - double(relay_.before->rss_bytes)) / double(opened_);
        report["relay_process"] = relay;
    }
    report["errors"] = errors_;
    return report;
}

void print_summary(Json const& r, std::ostream& out) {
    auto const& s = r["sockets"];
    auto const& f = r["frames"];
    auto const& l = r["latency_us"];
    out << std::fixed << std::setprecision(1);
    out << "bench " << r["scenario"].get<std::string>() << " against " << r["url"].get<std::string>() << "\n";
    out << "  sockets   " << s["opened"] << " opened, " << s["failed"] << " failed of " << s["requested"] << " in "
        << s["setup_s"].get<double>() << " s (" << s["setup_per_s"].get<double>() << "/s)\n";
    out << "  frames    " << f["sent"] << " sent, " << f["delivered"] << " delivered, " << f["lost"] << " lost, "
        << f["out_of_order"] << " out of order\n";
    out << "  steady    " << f["steady_delivered_per_s"].get<double>() << " frames/s delivered\n";
    out << "  latency   p50 " << l["p50"] << " us, p95 " << l["p95"] << ", p99 " << l["p99"] << ", p99.9 " << l["p99.9"]
        << ", max " << l["max"] << " (" << l["samples"] << " samples)\n";
    if (r.contains("reconnect"))
        out << "  reconnect " << r["reconnect"]["cycles"] << " cycles (" << r["reconnect"]["cycles_per_s"].get<double>()
            << "/s), " << r["reconnect"]["failures"] << " failures\n";
    for (auto const* who : {"bench_process", "relay_process"}) {
        if (!r.contains(who) || r[who].empty()) continue;
        auto const& p = r[who];
        out << "  " << (std::string(who) == "bench_process" ? "bench     " : "relay     ");
        if (p.contains("cpu_us_per_delivered_frame"))
            out << std::setprecision(2) << p["cpu_us_per_delivered_frame"].get<double>() << " us CPU/frame, ";
        out << std::setprecision(1) << double(p["rss_during_bytes"].get<std::uint64_t>()) / 1048576.0 << " MiB RSS during";
        if (p.contains("rss_per_socket_bytes"))
            out << ", " << p["rss_per_socket_bytes"].get<double>() / 1024.0 << " KiB/socket";
        out << "\n";
    }
    for (auto const& e : r["errors"]) out << "  error     " << e.get<std::string>() << "\n";
}

}  // namespace

bool prepare(BenchOptions const& options, std::ostream& out, std::string& error) {
    static constexpr char const* scenarios[] = {"idle", "sustained", "reconnect", "fanout"};
    if (std::find(std::begin(scenarios), std::end(scenarios), options.scenario) == std::end(scenarios)) {
        error = "--scenario must be idle, sustained, reconnect or fanout";
        return false;
    }
    if (options.pairs == 0 || options.rate <= 0 || options.duration <= 0 || options.batch == 0 || options.open_timeout <= 0) {
        error = "--pairs, --rate, --duration, --batch and --open-timeout must be positive";
        return false;
    }
    if (options.cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(*options.cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            error = "cannot pin to CPU " + std::to_string(*options.cpu) + ": " + std::strerror(errno);
            return false;
        }
    }
    auto const clients = options.scenario == "fanout" ? options.fanout_clients : 1u;
    if (auto warning = raise_fd_limit(1 + std::size_t(options.pairs) * (1 + clients)); !warning.empty())
        out << "bench: " << warning << "\n";
    return true;
}

bool check_url(std::string const& url, std::string& error) {
    net::io_context resolver_ioc;
    return resolve(url, resolver_ioc, error).has_value();
}

std::optional<Report> measure(BenchOptions const& options, std::string& error) {
    net::io_context resolver_ioc;
    auto target = resolve(options.url, resolver_ioc, error);
    if (!target) return std::nullopt;
    Bench bench(options, *target);
    auto report = bench.run();
    if (report["sockets"]["opened"].get<std::size_t>() == 0) {
        error = "no socket could be opened at " + options.url + (report["errors"].empty() ? "" : ": " + report["errors"][0].get<std::string>());
        return std::nullopt;
    }
    return report;
}

bool write_report(Report const& report, std::string const& path, std::string& error) {
    if (path == "-") {
        std::cout << report.dump(2) << "\n";
        return true;
    }
    std::ofstream file(path);
    file << report.dump(2) << "\n";
    if (!file) error = "cannot write " + path;
    return bool(file);
}

int run_bench(BenchOptions const& options, std::ostream& out, std::string& error) {
    if (!prepare(options, out, error)) return 2;
    auto report = measure(options, error);
    if (!report) return 2;
    print_summary(*report, out);
    if (!options.json_path.empty() && !write_report(*report, options.json_path, error)) return 2;
    return 0;
}

}  // namespace conformance::bench
