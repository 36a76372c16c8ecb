// The real reference-relay binary over loopback sockets. Protocol logic is covered by the core's unit
// tests; these check what only the transport can get wrong, each named after its requirement id.
#include "file_follower.hpp"
#include "raw_connection.hpp"
#include "relay_process.hpp"
#include "test_support.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <sstream>

#include <sys/resource.h>

using namespace relay::testing;
using Kind = Event::Kind;

namespace {

class RelayIntegration : public ::testing::Test {
protected:
    RelayProcess relay;
    std::string const sid = unique_id("srv");

    WsClient v1(std::string const& role) { return WsClient(relay.port(), "serverId=" + sid + "&role=" + role); }
    WsClient v2(std::string const& role, std::string const& cid = {}) {
        auto q = "v=2&serverId=" + sid + "&role=" + role;
        return WsClient(relay.port(), cid.empty() ? q : q + "&connectionId=" + cid);
    }
    void TearDown() override {
        if (HasFailure()) std::cerr << "relay log:\n" << relay.log();
    }
};

void expect_closed(WsClient& ws, std::uint16_t code, std::string const& reason,
                   std::chrono::milliseconds deadline = 5s) {
    auto e = ws.next(deadline);
    EXPECT_EQ(e.kind, Kind::closed) << e;
    EXPECT_EQ(e.code, code) << e;
    EXPECT_EQ(e.reason, reason) << e;
}

}  // namespace

TEST_F(RelayIntegration, PrintsItsUrlFirst) { EXPECT_EQ(relay.url(), "ws://127.0.0.1:" + std::to_string(relay.port())); }

TEST_F(RelayIntegration, HTTP_1_Health) {
    auto r = http_request(relay.port(), "GET", "/health");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.headers["content-type"], "application/json");
    EXPECT_EQ(r.body, R"({"status":"ok"})");
    auto head = http_request(relay.port(), "HEAD", "/health");
    EXPECT_EQ(head.status, 200u);
    EXPECT_EQ(head.body, "");
}

TEST_F(RelayIntegration, HTTP_2_To_6_RefusalsCarryStatusAndBody) {
    struct Case {
        std::string target, extra;
        unsigned status;
        std::string body;
    };
    std::string const upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    for (auto const& c : std::vector<Case>{
             {"/nope", "", 404, "Not found"},
             {"/ws?role=server", upgrade, 400, "Missing serverId parameter"},
             {"/ws?serverId=a&v=3", upgrade, 400, "Invalid v parameter (expected 1 or 2)"},
             {"/ws?serverId=a&role=x", upgrade, 400, "Missing or invalid role parameter"},
             {"/ws?serverId=a&role=server", "", 426, "Expected WebSocket upgrade"},
         }) {
        auto r = http_request(relay.port(), "GET", c.target, c.extra);
        EXPECT_EQ(r.status, c.status) << c.target;
        EXPECT_EQ(r.body, c.body) << c.target;
        EXPECT_EQ(r.headers["content-type"], "text/plain;charset=UTF-8") << c.target;
    }
}

TEST_F(RelayIntegration, HTTP_8_HandshakeNegotiatesNoExtensions) {
    auto ws = v1("server");
    auto const& res = ws.handshake_response();
    EXPECT_EQ(res.result_int(), 101u);
    EXPECT_EQ(res.count(boost::beast::http::field::sec_websocket_extensions), 0u);
}

TEST_F(RelayIntegration, V1_1_And_V1_3_ForwardingAndReplacement) {
    auto server = v1("server");
    auto client = v1("client");
    client.send_binary(std::string("\x00\x01\xfe", 3));
    auto e = server.next();
    EXPECT_EQ(e.kind, Kind::message);
    EXPECT_TRUE(e.binary);
    EXPECT_EQ(e.payload, std::string("\x00\x01\xfe", 3));
    server.send_text("hello");
    EXPECT_EQ(client.next_text(), "hello");

    auto replacement = v1("server");
    expect_closed(server, 1008, "Replaced by new connection");
    client.send_text("to the new one");
    EXPECT_EQ(replacement.next_text(), "to the new one");
}

TEST_F(RelayIntegration, V2_Lifecycle) {
    auto control = v2("server");
    EXPECT_EQ(control.next_text(), R"({"type":"sync","connectionIds":[]})");

    auto client = v2("client", "c1");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"c1"})");
    client.send_text("early 1");
    client.send_binary("early 2");

    auto data = v2("server", "c1");
    EXPECT_EQ(data.next_text(), "early 1");
    auto second = data.next();
    EXPECT_TRUE(second.binary);
    EXPECT_EQ(second.payload, "early 2");

    data.send_text("down");
    EXPECT_EQ(client.next_text(), "down");

    client.close(1000);
    EXPECT_EQ(client.next().kind, Kind::closed);
    expect_closed(data, 1001, "Client disconnected");
    EXPECT_EQ(control.next_text(), R"({"type":"disconnected","connectionId":"c1"})");
}

// Sizes around each frame-header boundary and large ones that arrive over many reads: the relay
// batches its reads and writes per event-loop pass, and none of that may split, merge or reorder.
TEST_F(RelayIntegration, V2_FWD_1_MixedSizesArriveWholeAndInOrderBothWays) {
    auto control = v2("server");
    control.next();
    auto client = v2("client", "mix");
    control.next();
    auto data = v2("server", "mix");
    std::size_t const sizes[] = {0, 1, 125, 126, 65535, 65536, 700 * 1024, 3, 2 * 1024 * 1024, 64};
    // Exactly `size` bytes, starting with as much of a tag naming the side and the index as fits.
    auto message = [](std::size_t size, int index, char side) {
        std::string m(size, static_cast<char>('a' + index % 26));
        auto const tag = side + std::to_string(index);
        std::copy_n(tag.begin(), std::min(size, tag.size()), m.begin());
        return m;
    };
    int const rounds = 3;
    for (int r = 0; r < rounds; ++r) {
        for (int i = 0; i < 10; ++i) {
            client.send_binary(message(sizes[i], r * 10 + i, 'c'));
            data.send_text(message(sizes[(i + 5) % 10], r * 10 + i, 'd'));
        }
    }
    for (int n = 0; n < rounds * 10; ++n) {
        auto up = data.next(10s);
        ASSERT_EQ(up.kind, Kind::message) << "upstream " << n << ": " << up;
        EXPECT_TRUE(up.binary);
        ASSERT_EQ(up.payload.size(), sizes[n % 10]) << "upstream message " << n;
        ASSERT_EQ(up.payload, message(sizes[n % 10], n, 'c')) << "upstream message " << n;
        auto down = client.next(10s);
        ASSERT_EQ(down.kind, Kind::message) << "downstream " << n << ": " << down;
        EXPECT_FALSE(down.binary);
        ASSERT_EQ(down.payload.size(), sizes[(n % 10 + 5) % 10]) << "downstream message " << n;
        ASSERT_EQ(down.payload, message(sizes[(n % 10 + 5) % 10], n, 'd')) << "downstream message " << n;
    }
}

TEST_F(RelayIntegration, V2_CLOSE_3_ReplacementCascadeOverSockets) {
    auto control = v2("server");
    control.next();
    auto client = v2("client", "c1");
    control.next();
    auto data = v2("server", "c1");
    auto replacement = v2("server", "c1");
    expect_closed(data, 1008, "Replaced by new connection");
    expect_closed(client, 1012, "Server disconnected");
    expect_closed(replacement, 1001, "Client disconnected");
    EXPECT_EQ(control.next_text(), R"({"type":"disconnected","connectionId":"c1"})");
}

TEST_F(RelayIntegration, V2_CTRL_5_PongCarriesTheTimeInMilliseconds) {
    auto control = v2("server");
    control.next();
    auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    control.send_text(R"({"type":"ping"})");
    auto pong = nlohmann::json::parse(control.next_text());
    EXPECT_EQ(pong.size(), 2u);
    EXPECT_EQ(pong["type"], "pong");
    ASSERT_TRUE(pong["ts"].is_number_integer());
    EXPECT_GE(pong["ts"].get<std::int64_t>(), before);
    EXPECT_LE(pong["ts"].get<std::int64_t>(), before + 5000);
}

TEST_F(RelayIntegration, V2_CLIENT_1_AssignedIdReachesControls) {
    auto control = v2("server");
    control.next();
    auto client = v2("client");
    auto connected = nlohmann::json::parse(control.next_text());
    auto id = connected["connectionId"].get<std::string>();
    EXPECT_EQ(id.size(), 21u);
    EXPECT_EQ(id.rfind("conn_", 0), 0u);
}

TEST_F(RelayIntegration, Rfc6455_PingIsAnsweredWithPong) {
    auto ws = v1("client");
    ws.ping("are you there");
    auto e = ws.next();
    EXPECT_EQ(e.kind, Kind::pong) << e;
    EXPECT_EQ(e.payload, "are you there");
}

TEST_F(RelayIntegration, LIMIT_2_IdleSocketsGetNoPingsAndStayOpen) {
    // The full 60 s check is the `long` scenario limit-idle-sockets-stay-open; this one catches a
    // keep-alive ping or idle close configured anywhere near the default timeouts.
    auto server = v1("server");
    auto client = v1("client");
    EXPECT_TRUE(client.quiet_for(3s));
    client.send_text("still here");
    EXPECT_EQ(server.next_text(), "still here");
}

TEST(RelayLimits, LIMIT_1_OversizedMessageClosesSenderWithoutCascade) {
    RelayProcess relay({"--max-message-bytes", "1024"});
    auto const sid = unique_id("limit");
    auto q = "v=2&serverId=" + sid + "&role=";
    WsClient control(relay.port(), q + "server");
    control.next();
    WsClient client(relay.port(), q + "client&connectionId=big");
    control.next();
    WsClient data(relay.port(), q + "server&connectionId=big");

    client.send_binary(std::string(1024, 'x'));
    EXPECT_EQ(data.next().payload.size(), 1024u);
    client.send_binary(std::string(1500, 'x'));
    expect_closed(client, 1009, "Message is too large: 1500 > 1024");

    // Sentinel: the next thing the control hears is this new client, not a `disconnected` for the old one.
    WsClient other(relay.port(), q + "client&connectionId=after");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"after"})");
    data.send_text("still open");
    EXPECT_TRUE(data.quiet_for(500ms)) << "the data socket must not be closed by the dropped client";
}

// LIMIT-1's reason as the official runtime words it for each way a message comes (docs/protocol.md),
// under a cap of 1024 bytes.
class OversizedMessage : public ::testing::Test {
protected:
    RelayProcess relay{{"--max-message-bytes", "1024"}};
    std::string const sid = unique_id("oversized");

    void TearDown() override {
        if (HasFailure()) std::cerr << "relay log:\n" << relay.log();
    }

    // A v2 client whose data socket is open, so that what it sends is forwarded rather than buffered.
    struct Pair {
        WsClient data, client;
    };
    std::unique_ptr<Pair> pair(Offer offer) {
        auto const query = "v=2&serverId=" + sid + "&connectionId=" + unique_id("c") + "&role=";
        return std::unique_ptr<Pair>(new Pair{WsClient(relay.port(), query + "server"), WsClient(relay.port(), query + "client", offer)});
    }

    void expect_too_large(std::vector<RawFrame> const& frames, std::string const& reason, Offer offer = Offer::nothing) {
        SCOPED_TRACE(reason);
        auto p = pair(offer);
        p->client.send_frames(frames);
        auto const e = p->client.next_close_frame();
        EXPECT_EQ(e.kind, Kind::closed) << e;
        EXPECT_EQ(e.code, 1009) << e;
        EXPECT_EQ(e.reason, reason) << e;
        EXPECT_TRUE(p->data.quiet_for(100ms)) << "nothing of the message is forwarded";
    }

    void expect_forwarded(std::vector<RawFrame> const& frames, std::size_t size, Offer offer = Offer::nothing) {
        auto p = pair(offer);
        p->client.send_frames(frames);
        auto e = p->data.next();
        EXPECT_EQ(e.kind, Kind::message) << e;
        EXPECT_EQ(e.payload.size(), size);
    }
};

namespace {

std::string x(std::size_t n) { return std::string(n, 'x'); }

// Incompressible: deflate stores it, a few bytes longer than it is.
std::string noise(std::size_t n) {
    std::mt19937 random(n);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(random());
    return out;
}

}  // namespace

TEST_F(OversizedMessage, LIMIT_1_SingleFrameNamesItsLength) {
    expect_too_large({{2, x(1025)}}, "Message is too large: 1025 > 1024");
    // The header alone decides: the payload need not come.
    expect_too_large({{2, "", true, false, std::uint64_t{1} << 40}}, "Message is too large: 1099511627776 > 1024");
    expect_forwarded({{1, x(1024)}}, 1024);
}

TEST_F(OversizedMessage, LIMIT_1_FragmentNamesItsLengthAndWhatWasLeftOfTheCap) {
    expect_too_large({{1, x(600), false}, {0, x(600)}}, "Message is too large: 600 > 424");
    expect_too_large({{1, x(1), false}, {0, x(1024)}}, "Message is too large: 1024 > 1023");
    expect_too_large({{2, x(1024), false}, {0, "", false}, {0, x(1)}}, "Message is too large: 1 > 0");
    expect_too_large({{1, x(512), false}, {9, "ping"}, {0, x(512), false}, {0, x(1)}}, "Message is too large: 1 > 0");
    // Negotiated compression changes nothing for frames sent uncompressed.
    expect_too_large({{1, x(600), false}, {0, x(600)}}, "Message is too large: 600 > 424", Offer::deflate);
    expect_forwarded({{1, x(1000), false}, {0, x(24)}}, 1024);
}

TEST_F(OversizedMessage, LIMIT_1_CompressedMessageInflatingPastTheCapGetsNoSizes) {
    expect_too_large({{1, Deflater().piece(x(1025)), true, true}}, "Message is too large", Offer::deflate);
    auto const z = Deflater().piece(x(1500));
    auto const third = z.size() / 3;
    expect_too_large({{1, z.substr(0, third), false, true}, {0, z.substr(third, third), false}, {0, z.substr(2 * third)}},
                     "Message is too large", Offer::deflate);
    expect_forwarded({{1, Deflater().piece(x(1024)), true, true}}, 1024, Offer::deflate);
}

TEST_F(OversizedMessage, LIMIT_1_CompressedFrameOverTheCapAsSentNamesItsLength) {
    auto const single = Deflater().piece(noise(1100));
    expect_too_large({{2, single, true, true}}, "Message is too large: " + std::to_string(single.size()) + " > 1024",
                     Offer::deflate);
    auto const split = Deflater().piece(noise(1500));
    expect_too_large({{2, split.substr(0, 700), false, true}, {0, split.substr(700)}},
                     "Message is too large: " + std::to_string(split.size() - 700) + " > 324", Offer::deflate);
}

TEST_F(OversizedMessage, LIMIT_1_InflatedPastTheCapALaterFrameCrossingItStillNamesSizes) {
    // The runtime judges the inflated size once the message is whole: until then the relay reads on.
    Deflater deflater;
    auto const first = deflater.piece(x(3000), false);
    auto const second = deflater.piece(noise(1100));
    auto p = pair(Offer::deflate);
    p->client.send_frames({{2, first, false, true}});
    EXPECT_TRUE(p->client.quiet_for(300ms)) << "closed before the message was whole";
    p->client.send_frames({{0, second}});
    expect_closed(p->client, 1009,
                  "Message is too large: " + std::to_string(second.size()) + " > " + std::to_string(1024 - first.size()));
}

// Many systems start processes with a soft limit of 1,024 open files: the relay must not stop there.
TEST(RelayLimits, RaisesItsOpenFileLimitToTheHardLimit) {
    rlimit ours{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &ours), 0);
    if (ours.rlim_max <= 256) GTEST_SKIP() << "the hard limit here is " << ours.rlim_max;
    rlimit low = ours;
    low.rlim_cur = 256;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    RelayProcess relay;  // starts with the low soft limit, and has raised it once it prints its URL
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &ours), 0);

    std::ifstream limits("/proc/" + std::to_string(relay.pid()) + "/limits");
    std::string line;
    while (std::getline(limits, line) && line.rfind("Max open files", 0) != 0) {
    }
    std::istringstream fields(line.substr(std::string("Max open files").size()));
    std::string soft, hard;
    fields >> soft >> hard;
    EXPECT_EQ(soft, hard) << line;
    EXPECT_EQ(hard, ours.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(ours.rlim_max)) << line;
}

namespace {

std::size_t open_files(pid_t pid) {
    auto const fds = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd");
    return static_cast<std::size_t>(std::distance(begin(fds), end(fds)));
}

bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

}  // namespace

// Out of file descriptors, the relay keeps serving the sockets it has, says so once (not at every
// retry), and accepts again as soon as descriptors are free.
TEST(RelayLimits, AtTheOpenFileLimitServesOpenSocketsWarnsOnceAndRecovers) {
    RelayProcess relay;
    LineFollower log(relay.log_path());
    auto const sid = unique_id("fdlimit");
    WsClient server(relay.port(), "serverId=" + sid + "&role=server");
    WsClient client(relay.port(), "serverId=" + sid + "&role=client");
    server.send_text("before");
    ASSERT_EQ(client.next_text(), "before");

    rlimit limit{};
    ASSERT_EQ(prlimit(relay.pid(), RLIMIT_NOFILE, nullptr, &limit), 0);
    limit.rlim_cur = open_files(relay.pid()) + 2;
    ASSERT_EQ(prlimit(relay.pid(), RLIMIT_NOFILE, &limit, nullptr), 0);
    // Connections that never send anything: the kernel completes them whether or not the relay accepts.
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 8; ++i) idle.push_back(std::make_unique<RawConnection>(relay.port()));

    auto const failed = [](std::string const& line) { return contains(line, "accept failed"); };
    ASSERT_TRUE(log.next(failed, 10s)) << "no warning when accepts failed:\n" << relay.log();
    // It retries every 100 ms: twenty retries without a second warning.
    EXPECT_FALSE(log.next(failed, 2s)) << relay.log();
    server.send_text("during");
    EXPECT_EQ(client.next_text(), "during");

    idle.clear();
    EXPECT_TRUE(log.next([](std::string const& line) { return contains(line, "accepting again after"); }, 10s))
        << relay.log();
    WsClient late(relay.port(), "serverId=" + unique_id("fdlimit") + "&role=server");
    server.send_text("after");
    EXPECT_EQ(client.next_text(), "after");
}

TEST(RelayLimits, QUEUE_1_SlowReaderPausesItsSenderInsteadOfBuffering) {
    RelayProcess relay({"--max-queue-bytes", "1048576"});
    auto const sid = unique_id("slow");
    WsClient server(relay.port(), "serverId=" + sid + "&role=server");
    WsClient client(relay.port(), "serverId=" + sid + "&role=client");
    std::string const mib(1024 * 1024, 'm');
    int sent = 0;
    try {
        for (; sent < 256; ++sent) server.send_binary(mib, 2s);
    } catch (std::runtime_error const&) {
    }
    EXPECT_LT(sent, 256) << "256 MiB went out to a reader that never read";
    for (int i = 0; i < sent; ++i) {
        auto e = client.next(10s);
        ASSERT_EQ(e.kind, Kind::message) << "frame " << i << ": " << e;
        ASSERT_EQ(e.payload.size(), mib.size());
    }
}

TEST(RelayShutdown, SIGTERM_ClosesSocketsWith1001AndExitsZero) {
    RelayProcess relay;
    WsClient ws(relay.port(), "serverId=" + unique_id("stop") + "&role=server");
    auto exit_code = std::async(std::launch::async, [&] { return relay.terminate(); });
    expect_closed(ws, 1001, "Relay shutting down");
    EXPECT_EQ(exit_code.get(), 0);
}

TEST(RelayWatchdog, V2_WD_1_And_2_NudgeAtTenSecondsResetAtFifteen) {
    RelayProcess relay;
    auto q = "v=2&serverId=" + unique_id("wd") + "&role=";
    WsClient control(relay.port(), q + "server");
    control.next();
    WsClient client(relay.port(), q + "client&connectionId=lonely");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"lonely"})");
    auto const start = std::chrono::steady_clock::now();
    EXPECT_EQ(control.next_text(13s), R"({"type":"sync","connectionIds":["lonely"]})");
    auto nudge = std::chrono::steady_clock::now() - start;
    EXPECT_GE(nudge, 9500ms);
    expect_closed(control, 1011, "Control unresponsive", 8s);
    auto reset = std::chrono::steady_clock::now() - start;
    EXPECT_GE(reset, 14500ms);
    EXPECT_LE(reset, 18s);
}

namespace {

// A lone client's watchdog on a relay started with the given delays: the nudge comes `nudge` after the
// client opened and the 1011 `reset` after the nudge. Each time is bracketed by when the open started
// and when the control heard of the client; the windows allow 1 s of scheduling on a loaded machine.
void expect_watchdog_after(RelayProcess& relay, std::chrono::milliseconds nudge, std::chrono::milliseconds reset) {
    using clock = std::chrono::steady_clock;
    auto q = "v=2&serverId=" + unique_id("wd-fast") + "&role=";
    WsClient control(relay.port(), q + "server");
    control.next();
    auto const opening = clock::now();
    WsClient client(relay.port(), q + "client&connectionId=lonely");
    EXPECT_EQ(control.next_text(), R"({"type":"connected","connectionId":"lonely"})");
    auto const opened = clock::now();
    EXPECT_EQ(control.next_text(nudge + 3s), R"({"type":"sync","connectionIds":["lonely"]})");
    auto const nudged = clock::now();
    EXPECT_GE(nudged - opening, nudge);
    EXPECT_LE(nudged - opened, nudge + 1s);
    expect_closed(control, 1011, "Control unresponsive", reset + 3s);
    auto const reset_at = clock::now();
    EXPECT_GE(reset_at - opening, nudge + reset);
    EXPECT_LE(reset_at - nudged, reset + 1s);
    if (::testing::Test::HasFailure()) std::cerr << "relay log:\n" << relay.log();
}

}  // namespace

TEST(RelayWatchdog, V2_WD_1_And_2_DelaysFromTheCommandLine) {
    RelayProcess relay({"--watchdog-nudge-ms", "1000", "--watchdog-reset-ms", "500"});
    expect_watchdog_after(relay, 1000ms, 500ms);
}

TEST(RelayWatchdog, V2_WD_1_And_2_DelaysFromTheEnvironment) {
    ::setenv("RELAY_WATCHDOG_NUDGE_MS", "600", 1);
    ::setenv("RELAY_WATCHDOG_RESET_MS", "300", 1);
    RelayProcess relay;
    ::unsetenv("RELAY_WATCHDOG_NUDGE_MS");
    ::unsetenv("RELAY_WATCHDOG_RESET_MS");
    expect_watchdog_after(relay, 600ms, 300ms);
}
