// Connection churn (docs/reliability.md, "Connection churn"): thousands of sockets opened and ended
// over real loopback connections, every role of both protocol versions, half of them ended by a TCP
// reset without a close frame. Afterwards the relay must hold nothing (GET /stats on its admin port)
// and its resident memory must be back near what it was after a warm-up. Prints its figures.
#include "relay_stats.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <fstream>
#include <iostream>

namespace relay::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t server_ids = 100;
constexpr std::size_t kinds = 5;  // v1 server, v1 client, v2 control, v2 data, v2 client
constexpr std::size_t in_flight = 256;
constexpr auto cycle_deadline = 10s;  // from connect to the end of the closing handshake
// Allocators keep some of what was freed; more than this after the churn would be memory kept per socket.
constexpr std::size_t rss_margin = 4 * 1024 * 1024;
// AddressSanitizer's quarantine keeps freed memory on purpose: there resident memory shows nothing.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool rss_meaningful = false;
#else
constexpr bool rss_meaningful = true;
#endif

// One socket's life: opened at `target`, one message sent by the roles that talk, then ended.
struct Cycle {
    std::string target;
    bool sends;
    bool reset;  // SO_LINGER 0 and close: a TCP reset, no close frame; else a closing handshake
};

// Cycle i: the five kinds in turn, twice for each serverId before the next (the second of a kind
// often replaces the first), over 100 serverIds, so that the cycles in flight share sessions (a data
// socket meets its client; closes cascade). Of each kind's two, one is reset, and which one alternates
// every 1,000 cycles: half of all cycles, and of each kind's, are resets.
Cycle plan(std::size_t i, std::string const& prefix) {
    auto const sid = prefix + std::to_string(i / (2 * kinds) % server_ids);
    auto const cid = "c" + std::to_string(i / 1'000 % 3);
    bool const reset = (i % (2 * kinds) >= kinds) != (i / 1'000 % 2 == 1);
    switch (i % kinds) {
        case 0: return {"/ws?serverId=" + sid + "&role=server", false, reset};
        case 1: return {"/ws?serverId=" + sid + "&role=client", true, reset};
        case 2: return {"/ws?v=2&serverId=" + sid + "&role=server", false, reset};
        case 3: return {"/ws?v=2&serverId=" + sid + "&role=server&connectionId=" + cid, true, reset};
        default: return {"/ws?v=2&serverId=" + sid + "&role=client&connectionId=" + cid, true, reset};
    }
}

net::awaitable<void> run_cycle(tcp::endpoint relay, Cycle const& cycle) {
    websocket::stream<beast::tcp_stream> ws(co_await net::this_coro::executor);
    auto& tcp_layer = beast::get_lowest_layer(ws);
    tcp_layer.expires_after(cycle_deadline);
    co_await tcp_layer.async_connect(relay, net::use_awaitable);
    // Beast's teardown after the closing handshake bypasses the tcp_stream's deadline; this one covers it.
    ws.set_option(websocket::stream_base::timeout{cycle_deadline, websocket::stream_base::none(), false});
    co_await ws.async_handshake("127.0.0.1", cycle.target, net::use_awaitable);
    if (cycle.sends) co_await ws.async_write(net::buffer(std::string_view("churn")), net::use_awaitable);
    if (cycle.reset) {
        tcp_layer.socket().set_option(net::socket_base::linger(true, 0));
        tcp_layer.socket().close();
        co_return;
    }
    // Reads (and drops) what the relay sent meanwhile, such as sync or connected, until its close frame.
    co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
}

struct ChurnResult {
    std::size_t done = 0, failed = 0;
    std::string first_failure;
    double seconds = 0;
};

// Runs cycles [first, last) with `in_flight` of them at once on one thread.
ChurnResult churn(unsigned short port, std::string const& prefix, std::size_t first, std::size_t last) {
    net::io_context ioc;
    tcp::endpoint const relay(net::ip::make_address("127.0.0.1"), port);
    ChurnResult result;
    std::size_t next = first;
    auto lane = [&]() -> net::awaitable<void> {
        while (next < last) {
            auto const cycle = plan(next++, prefix);
            try {
                co_await run_cycle(relay, cycle);
                ++result.done;
            } catch (boost::system::system_error const& e) {
                if (result.failed++ == 0) result.first_failure = cycle.target + ": " + e.code().message();
            }
        }
    };
    auto const started = Clock::now();
    for (std::size_t i = 0; i < in_flight; ++i) net::co_spawn(ioc, lane(), net::detached);
    ioc.run();
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
}

// The peak resident set size of a process (VmHWM), in bytes.
std::size_t peak_rss(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    std::size_t kib = 0;
    while (status >> key && key != "VmHWM:") status.ignore(1 << 16, '\n');
    status >> kib;
    return kib * 1024;
}

double mib(std::size_t bytes) { return double(bytes) / (1024 * 1024); }

}  // namespace

TEST(Churn, TenThousandOpensAndEndsLeaveNothingHeldAndMemoryBack) {
    constexpr std::size_t warm_up = 1'000, cycles = 10'000;
    // A short watchdog, so that the timers v2 clients start are due soon after the churn.
    StatsRelay relay({"--watchdog-nudge-ms", "1000", "--watchdog-reset-ms", "1000"});
    auto const prefix = unique_id("churn");

    // Allocators keep memory once it is used: the baseline is taken after a warm-up.
    auto const warmed = churn(relay.port(), prefix, 0, warm_up);
    ASSERT_EQ(warmed.failed, 0u) << warmed.first_failure;
    auto const baseline = relay.wait_for_stats(holds_nothing, 20s);
    ASSERT_TRUE(holds_nothing(baseline)) << baseline;

    auto const run = churn(relay.port(), prefix, warm_up, warm_up + cycles);
    EXPECT_EQ(run.done, cycles);
    EXPECT_EQ(run.failed, 0u) << run.first_failure;
    auto const churned_at = Clock::now();
    // A descriptor may outlive its session by the I/O still under way on it (at the baseline too).
    auto const base_files = baseline.at("open_files").get<std::size_t>();
    auto const after = relay.wait_for_stats(
        [&](json const& s) { return holds_nothing(s) && s.at("open_files").get<std::size_t>() <= base_files; }, 30s);
    auto const settled_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - churned_at).count();
    EXPECT_TRUE(holds_nothing(after)) << after;
    EXPECT_EQ(after.at("by_role"), baseline.at("by_role")) << after;
    EXPECT_LE(after.at("open_files").get<std::size_t>(), base_files) << after;

    auto const base_rss = baseline.at("rss_bytes").get<std::size_t>();
    auto const after_rss = after.at("rss_bytes").get<std::size_t>();
    if (rss_meaningful) EXPECT_LE(after_rss, base_rss + rss_margin) << "baseline " << base_rss << ", after " << after_rss;
    std::cout << "churn: " << run.done << " cycles in " << run.seconds << " s (" << std::lround(run.done / run.seconds)
              << " cycles/s, " << in_flight << " at once), " << run.failed << " failed; nothing held " << settled_ms
              << " ms after the last; RSS baseline " << mib(base_rss) << " MiB, peak " << mib(peak_rss(relay.process().pid()))
              << " MiB, after " << mib(after_rss) << " MiB (" << (long(after_rss) - long(base_rss)) / 1024 << " KiB)\n";
}

}  // namespace relay::testing
