// The relay-conformance binary end to end: against the reference relay it passes and writes every
// report; against scripted servers that misbehave, every kind of check fails (or errs) with the
// right requirement and a useful message, and nothing hangs.
#include "relay_process.hpp"
#include "scripted_server.hpp"
#include "tls_proxy.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using conformance::testing::Misbehaviour;
using conformance::testing::ScriptedServer;
using conformance::testing::TlsProxy;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Outcome {
    int exit_code = -1;  // -1: killed at the deadline
    std::string output;
    double seconds = 0;     // from start to exit
    long peak_rss_kib = 0;  // the runner's VmHWM, the last reading before it exited
};

// Read from /proc while the child runs: its wait4 ru_maxrss would count this process's peak too, as
// a spawned child's maxrss starts from its parent's at exec.
long vm_hwm_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

// Runs relay-conformance with `args`, stdout and stderr captured, killed if it outlives `deadline`.
Outcome run_runner(std::vector<std::string> args, std::chrono::seconds deadline = std::chrono::seconds(60)) {
    auto const log = fs::temp_directory_path() / ("runner-test-" + std::to_string(::getpid()) + ".log");
    args.insert(args.begin(), RELAY_CONFORMANCE_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid;
    Outcome out;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) return out;
    posix_spawn_file_actions_destroy(&actions);
    auto const started = std::chrono::steady_clock::now();
    auto const until = started + deadline;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        out.peak_rss_kib = std::max(out.peak_rss_kib, vm_hwm_kib(pid));
        if (std::chrono::steady_clock::now() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (status != -1 && WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    out.output = ss.str();
    fs::remove(log);
    return out;
}

Json read_json(fs::path const& file) {
    std::ifstream in(file);
    return Json::parse(in);
}

std::string slurp(fs::path const& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Json const& scenario(Json const& report, std::string const& id) {
    for (auto const& s : report["scenarios"])
        if (s["id"] == id) return s;
    throw std::runtime_error("no scenario " + id + " in the report");
}

fs::path temp_path(std::string const& name) {
    return fs::temp_directory_path() / ("runner-test-" + std::to_string(::getpid()) + "-" + name);
}

std::string const misbehaving_dir = std::string(TEST_DATA_DIR) + "/misbehaving";

// Runs the CHECK scenarios against a scripted server and returns the JSON report.
Json against(Misbehaviour mode, int& exit_code) {
    ScriptedServer server(mode);
    auto const json = temp_path("checks.json");
    auto outcome = run_runner({"run", "--url", "ws://127.0.0.1:" + std::to_string(server.port()), "--scenarios",
                               misbehaving_dir, "--json", json.string()});
    exit_code = outcome.exit_code;
    EXPECT_TRUE(fs::exists(json)) << outcome.output;
    auto report = read_json(json);
    fs::remove(json);
    return report;
}

void expect_verdict(Json const& report, std::string const& id, std::string const& verdict, std::string const& requirement,
                    std::string const& actual_contains) {
    auto const& s = scenario(report, id);
    EXPECT_EQ(s["verdict"], verdict) << s.dump(2);
    if (verdict == "pass") return;
    EXPECT_EQ(s["failure"]["requirement"], requirement) << s.dump(2);
    auto const text = s["failure"]["actual"].get<std::string>() + " " + s["failure"]["message"].get<std::string>();
    EXPECT_NE(text.find(actual_contains), std::string::npos) << "wanted \"" << actual_contains << "\" in: " << text;
}

}  // namespace

TEST(Runner, ReferenceRelayPassesAndEveryReportIsWritten) {
    auto const json = temp_path("ref.json"), junit = temp_path("ref.xml"), html = temp_path("ref.html");
    auto outcome = run_runner({"run", "--exclude", "tag:slow", "--json", json.string(), "--junit", junit.string(), "--html",
                               html.string()});
    ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
    EXPECT_NE(outcome.output.find(" passed, 0 failed"), std::string::npos);
    auto report = read_json(json);
    EXPECT_EQ(report["tool"], "relay-conformance");
    EXPECT_EQ(report["protocol_commit"].get<std::string>().size(), 40u);
    EXPECT_GT(report["summary"]["passed"].get<int>(), 40);
    EXPECT_EQ(report["summary"]["failed"], 0);
    auto const xml = slurp(junit);
    EXPECT_NE(xml.find("<testcase name=\"v2-ctrl-ping-pong\" classname=\"V2-CTRL\""), std::string::npos);
    EXPECT_NE(xml.find("name=\"relay_url\""), std::string::npos);
    EXPECT_NE(slurp(html).find("<svg"), std::string::npos);
    for (auto const& f : {json, junit, html}) fs::remove(f);
}

// wss:// against the reference relay behind a TLS proxy whose self-signed certificate (for 127.0.0.1)
// is in tests/data/tls: trusted with --ca-file, refused without it, accepted with --insecure.
TEST(Runner, WssChecksTheCertificateUnlessToldNotTo) {
    relay::testing::RelayProcess relay;
    std::string const tls_dir = std::string(TEST_DATA_DIR) + "/tls";
    TlsProxy proxy(relay.port(), tls_dir + "/localhost.pem", tls_dir + "/localhost.key");
    auto const url = "wss://127.0.0.1:" + std::to_string(proxy.port());
    std::vector<std::string> const some = {"--id", "http-*", "--id", "v2-ctrl-*", "--id", "v1-*"};

    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"run", "--url", url};
        args.insert(args.end(), some.begin(), some.end());
        args.insert(args.end(), extra.begin(), extra.end());
        return run_runner(args);
    };
    auto trusted = with({"--ca-file", tls_dir + "/localhost.pem"});
    EXPECT_EQ(trusted.exit_code, 0) << trusted.output;
    EXPECT_NE(trusted.output.find(" passed, 0 failed"), std::string::npos) << trusted.output;

    auto untrusted = with({});
    EXPECT_EQ(untrusted.exit_code, 2) << untrusted.output;
    EXPECT_NE(untrusted.output.find("certificate verify failed"), std::string::npos) << untrusted.output;
    EXPECT_NE(untrusted.output.find("--insecure"), std::string::npos) << untrusted.output;

    auto insecure = with({"--insecure"});
    EXPECT_EQ(insecure.exit_code, 0) << insecure.output;
}

TEST(Runner, ListAndCoverageNameEveryRequirement) {
    auto outcome = run_runner({"list", "--coverage"});
    ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
    EXPECT_EQ(outcome.output.find("NOT COVERED"), std::string::npos) << outcome.output;
    EXPECT_NE(outcome.output.find("V2-WD-2: v2-watchdog-nudge-then-reset"), std::string::npos);

    auto watchdog = run_runner({"list", "--requirement", "V2-WD-*", "--exclude", "req:V2-WD-3"});
    ASSERT_EQ(watchdog.exit_code, 0) << watchdog.output;
    EXPECT_NE(watchdog.output.find("v2-watchdog-nudge-then-reset"), std::string::npos) << watchdog.output;
    EXPECT_EQ(watchdog.output.find("V2-WD-3"), std::string::npos) << watchdog.output;
}

TEST(Runner, UsageErrorsExitTwo) {
    EXPECT_EQ(run_runner({"run", "--id", "no-such-scenario*"}).exit_code, 2);
    EXPECT_EQ(run_runner({"run", "--url", "ws://127.0.0.1:1"}).exit_code, 2);
    EXPECT_EQ(run_runner({"run", "--frobnicate"}).exit_code, 2);
    auto bad = temp_path("bad");
    fs::create_directories(bad);
    std::ofstream(bad / "broken.json") << R"({"section": "X", "scenarios": [{"id": "x"}]})";
    auto outcome = run_runner({"run", "--scenarios", bad.string()});
    EXPECT_EQ(outcome.exit_code, 2);
    EXPECT_NE(outcome.output.find("broken.json"), std::string::npos) << outcome.output;
    EXPECT_NE(outcome.output.find("missing required field \"title\""), std::string::npos) << outcome.output;
    fs::remove_all(bad);
}

TEST(Runner, AConformingServerPasses) {
    int code;
    auto report = against(Misbehaviour::none, code);
    EXPECT_EQ(code, 0);
    for (auto id : {"frame-hello", "close-1008", "health-200", "timer-one-second"}) expect_verdict(report, id, "pass", "", "");
}

TEST(Runner, WrongFrameCloseStatusAndLateTimerFail) {
    int code;
    auto report = against(Misbehaviour::wrong, code);
    EXPECT_EQ(code, 1);
    expect_verdict(report, "frame-hello", "fail", "CHECK-1", "text frame junk");
    expect_verdict(report, "close-1008", "fail", "CHECK-2", "close frame 1000");
    expect_verdict(report, "health-200", "fail", "CHECK-3", "HTTP 500");
    expect_verdict(report, "timer-one-second", "fail", "CHECK-4", "nothing within");
}

TEST(Runner, MissingFrameMissingCloseAndEarlyTimerFail) {
    int code;
    auto report = against(Misbehaviour::silent, code);
    EXPECT_EQ(code, 1);
    expect_verdict(report, "frame-hello", "fail", "CHECK-1", "nothing within");
    expect_verdict(report, "close-1008", "fail", "CHECK-2", "nothing within");
    expect_verdict(report, "health-200", "fail", "CHECK-3", "HTTP 404");
    expect_verdict(report, "timer-one-second", "fail", "CHECK-4", "too early");
}

TEST(Runner, GarbageDropsAndFloodsGetVerdictsNotHangs) {
    int code;
    auto report = against(Misbehaviour::garbage, code);
    EXPECT_EQ(code, 1);
    expect_verdict(report, "frame-hello", "fail", "CHECK-1", "ended without a close frame");
    expect_verdict(report, "close-1008", "fail", "CHECK-2", "no usable handshake answer");
    expect_verdict(report, "health-200", "fail", "CHECK-3", "no complete HTTP response");
    expect_verdict(report, "timer-one-second", "fail", "CHECK-4", "text frame x");
}

TEST(Runner, ExpectationsKeepKnownDeviationsFromFailing) {
    ScriptedServer server(Misbehaviour::wrong);
    auto const url = "ws://127.0.0.1:" + std::to_string(server.port());
    auto const expectations = temp_path("expectations.json");
    auto first = run_runner({"run", "--url", url, "--scenarios", misbehaving_dir, "--write-expectations", expectations.string()});
    EXPECT_EQ(first.exit_code, 1);
    auto written = read_json(expectations);
    EXPECT_EQ(written["expected_failures"].size(), 4u) << written.dump(2);

    auto second = run_runner({"run", "--url", url, "--scenarios", misbehaving_dir, "--expectations", expectations.string()});
    EXPECT_EQ(second.exit_code, 0) << second.output;

    // A listed failure that now passes is reported, and a new failure still fails the run.
    std::ofstream(expectations) << R"({"relay": "x", "expected_failures": {"frame-hello": "", "close-1008": "", "gone": ""}})";
    ScriptedServer good(Misbehaviour::none);
    auto third = run_runner({"run", "--url", "ws://127.0.0.1:" + std::to_string(good.port()), "--scenarios", misbehaving_dir,
                             "--expectations", expectations.string()});
    EXPECT_EQ(third.exit_code, 0);
    EXPECT_NE(third.output.find("unexpected pass: frame-hello"), std::string::npos) << third.output;
    EXPECT_NE(third.output.find("stale expectation: no selected scenario is called gone"), std::string::npos);
    auto fourth = run_runner({"run", "--url", url, "--scenarios", misbehaving_dir, "--expectations", expectations.string()});
    EXPECT_EQ(fourth.exit_code, 1) << "health-200 and timer-one-second fail and are not listed";
    fs::remove(expectations);
}

TEST(Runner, RecordWritesATraceThatReplays) {
    relay::testing::RelayProcess relay;
    auto const trace = temp_path("trace.json");
    auto recorded = run_runner({"record", "--url", relay.url(), "--scenario", std::string(SCENARIOS_DIR) + "/v2/clients.json",
                                "--out", trace.string()});
    ASSERT_EQ(recorded.exit_code, 0) << recorded.output;
    auto const text = slurp(trace);
    EXPECT_NE(text.find("\"$capture\": \"assigned\""), std::string::npos) << "generated ids become captures";
    EXPECT_EQ(text.find("conn_0"), std::string::npos);
    auto const dir = temp_path("replay");
    fs::create_directories(dir);
    fs::rename(trace, dir / "clients.json");
    auto replayed = run_runner({"run", "--url", relay.url(), "--scenarios", dir.string()});
    EXPECT_EQ(replayed.exit_code, 0) << replayed.output;
    fs::remove_all(dir);
}

// A relay that attacks the runner (tests/data/hostile/, scenarios capped at 4 s, one at 6 s): each scenario
// gets a verdict naming what went wrong, the run ends within the cap plus a margin for start-up,
// calibration and a loaded machine, every report is written, and the runner's memory stays bounded.
namespace {

std::string const hostile_dir = std::string(TEST_DATA_DIR) + "/hostile";
constexpr double hostile_run_bound_s = 15;  // 6 s of scenario cap, the rest for a busy machine
// What the runner may hold per socket a relay floods (conformance/client/ws_connection.hpp): its queue
// (64 MiB), the message it is reading (32 MiB, twice while it is handed over) and the one a step judges
// (twice while it is matched). Three sockets of hostile.json flood at once, beside the runner itself.
constexpr long per_socket_mib = 64 + 2 * 32 + 2 * 32;
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer adds its shadow, an eighth of what is mapped, and keeps up to 256 MiB of freed memory
// in quarantine (its quarantine_size_mb): measured 684 MiB under a flood in the sanitized build.
constexpr long hostile_rss_bound_kib = (40 + 3 * per_socket_mib) * 1024 * 9 / 8 + 256 * 1024;
#else
constexpr long hostile_rss_bound_kib = (40 + 3 * per_socket_mib) * 1024;
#endif

struct HostileRun {
    Json report;
    Outcome outcome;
};

HostileRun against_hostile(Misbehaviour mode) {
    ScriptedServer server(mode);
    auto const json = temp_path("hostile.json"), junit = temp_path("hostile.xml"), html = temp_path("hostile.html");
    HostileRun run;
    run.outcome = run_runner({"run", "--url", "ws://127.0.0.1:" + std::to_string(server.port()), "--scenarios", hostile_dir,
                              "--exclude", "tag:long", "--step-timeout", "2000", "--json", json.string(), "--junit", junit.string(),
                              "--html", html.string()});
    EXPECT_EQ(run.outcome.exit_code, 1) << run.outcome.output;
    EXPECT_LT(run.outcome.seconds, hostile_run_bound_s);
    EXPECT_LT(run.outcome.peak_rss_kib, hostile_rss_bound_kib);
    std::cout << "[ figures  ] " << run.outcome.seconds << " s, peak RSS " << run.outcome.peak_rss_kib / 1024 << " MiB, "
              << server.bytes_attacked() / 1e6 << " MB written at the runner\n";
    EXPECT_NE(slurp(junit).find("</testsuites>"), std::string::npos) << "the JUnit report is whole";
    EXPECT_NE(slurp(html).find("</html>"), std::string::npos) << "the HTML report is whole";
    run.report = read_json(json);
    for (auto const& s : run.report["scenarios"]) EXPECT_LE(s["wire_log"].size(), 10'001u) << s["id"];
    for (auto const& f : {json, junit, html}) fs::remove(f);
    return run;
}

}  // namespace

TEST(HostileRelay, EndlessSmallFramesFillNoMoreThanTheQueueCap) {
    auto run = against_hostile(Misbehaviour::flood);
    expect_verdict(run.report, "hostile-hello", "fail", "HOSTILE-1", "text frame");
    expect_verdict(run.report, "hostile-hello-skipping", "fail", "HOSTILE-1", "nothing within");
    expect_verdict(run.report, "hostile-unread", "error", "HOSTILE-1", "MiB the scenario did not take");
    // Beast passes over data frames once our close frame is out: a flood frame, or nothing, comes first.
    expect_verdict(run.report, "hostile-close", "fail", "HOSTILE-2", "");
    expect_verdict(run.report, "hostile-health", "pass", "", "");
}

TEST(HostileRelay, AFrameAnnouncingExabytesIsRefusedAt32MiB) {
    auto run = against_hostile(Misbehaviour::endless_frame);
    for (auto id : {"hostile-hello", "hostile-hello-skipping", "hostile-unread"})
        expect_verdict(run.report, id, "fail", "HOSTILE-1", "a message longer than 33554432 bytes");
}

TEST(HostileRelay, FramesOfTheMaximumLengthAreTakenAndBounded) {
    auto run = against_hostile(Misbehaviour::max_frames);
    expect_verdict(run.report, "hostile-hello", "fail", "HOSTILE-1", "(33554432 bytes)");
    expect_verdict(run.report, "hostile-hello-skipping", "fail", "HOSTILE-1", "nothing within");
    expect_verdict(run.report, "hostile-unread", "error", "HOSTILE-1", "MiB the scenario did not take");
}

TEST(HostileRelay, ARelayThatNeverClosesNorAnswers) {
    auto run = against_hostile(Misbehaviour::mute);
    expect_verdict(run.report, "hostile-hello", "fail", "HOSTILE-1", "nothing within");
    expect_verdict(run.report, "hostile-unread", "fail", "HOSTILE-1", "nothing within");
    expect_verdict(run.report, "hostile-close", "fail", "HOSTILE-2", "nothing within");
}

TEST(HostileRelay, AHandshakeAnsweredAByteAtATimeForeverTimesOut) {
    auto run = against_hostile(Misbehaviour::dribble);
    for (auto id : {"hostile-hello", "hostile-unread", "hostile-close"})
        expect_verdict(run.report, id, "fail", id == std::string("hostile-close") ? "HOSTILE-2" : "HOSTILE-1", "no usable handshake answer");
    expect_verdict(run.report, "hostile-health", "fail", "HOSTILE-3", "no complete HTTP response");
}

TEST(HostileRelay, AResetMidFrameEndsTheSocket) {
    auto run = against_hostile(Misbehaviour::reset);
    expect_verdict(run.report, "hostile-hello", "fail", "HOSTILE-1", "reset by peer");
    expect_verdict(run.report, "hostile-health", "fail", "HOSTILE-3", "no complete HTTP response");
}
