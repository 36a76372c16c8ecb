// relay-conformance: replays the scenario library against a Paseo relay and reports, requirement by
// requirement, where it differs from the official relay; also drives load (bench).
#include "bench/bench.hpp"
#include "bench/compare.hpp"
#include "client_checks.hpp"
#include "client/tls.hpp"
#include "relay_launcher.hpp"
#include "reporters/console_report.hpp"
#include "reporters/html_report.hpp"
#include "reporters/junit_report.hpp"
#include "reporters/run_report.hpp"
#include "requirements.hpp"
#include "scenario/loader.hpp"
#include "selection.hpp"
#include "suite_runner.hpp"

#include <CLI/CLI.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>

#include <unistd.h>

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using namespace conformance;

namespace {

constexpr int exit_pass = 0, exit_fail = 1, exit_usage = 2;

fs::path executable_dir() {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path(".") : self.parent_path();
}

// A file or folder the runner reads: an installed runner's copy (<prefix>/bin/../share/relay-conformance/NAME,
// cmake/packaging.cmake), else the source tree's, for a runner in its build tree.
fs::path data_path(std::string const& name, char const* in_source_tree) {
    auto const installed = (executable_dir() / "../share/relay-conformance" / name).lexically_normal();
    std::error_code ec;
    return fs::exists(installed, ec) ? installed : fs::path(in_source_tree);
}

fs::path library_dir() { return data_path("scenarios", SCENARIOS_DIR); }
fs::path client_library_dir() { return data_path("client-scenarios", PROJECT_ROOT "/client-scenarios"); }
// Where profiles/ lives; a profile's paths are relative to it.
fs::path profiles_root() { return data_path("profiles", PROJECT_ROOT "/profiles").parent_path(); }

struct TlsOptions {
    bool insecure = false;
    std::string ca_file;
};

struct RunOptions {
    std::string url;
    std::string relay_binary;
    std::string profile = "paseo";
    std::string scenarios_dir;  // empty: the profile's
    Selectors selectors;
    bool list = false, coverage = false;
    bool client = false;      // client checks (check-client, list --client): the profile's client side
    std::string client_cmd;   // check-client: the client to start for each scenario
    std::string client_kind;  // check-client, list --client: only scenarios tagged so (daemon, app)
    unsigned short port = 0;  // check-client without --client-cmd: where to listen
    TlsOptions tls;
    unsigned jobs = 0;
    unsigned repeat = 1;
    bool strict = false;
    std::string transport = "plain";
    std::optional<double> latency_ms;
    double time_scale = 1;
    std::uint32_t step_timeout_ms = 5000;
    std::optional<std::uint32_t> scenario_timeout_ms;
    std::string expectations, write_expectations, json, junit, html;
};

int fail_usage(std::string const& message) {
    std::cerr << "relay-conformance: " << message << "\n";
    return exit_usage;
}

std::string now_utc() {
    auto t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<client::Endpoint> endpoint_of(std::string const& url, TlsOptions const& tls, std::string& error) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || (parsed->scheme() != "ws" && parsed->scheme() != "wss") || parsed->host().empty()) {
        error = "--url must look like ws://127.0.0.1:8787 or wss://relay.example.com";
        return std::nullopt;
    }
    bool const secure = parsed->scheme() == "wss";
    // A bracketed IPv6 literal connects and verifies without its brackets.
    client::Endpoint endpoint{std::string(parsed->host_address()),
                              parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80"), nullptr};
    if (!secure) return endpoint;
    try {
        endpoint.tls = client::make_tls_context(tls.insecure, tls.ca_file);
    } catch (std::exception const& e) {
        error = e.what();
        return std::nullopt;
    }
    return endpoint;
}

// Whether the relay at `url` can be tested; the reason if not.
std::optional<std::string> unreachable(client::Endpoint const& endpoint, std::string const& url) {
    if (!relay_reachable(endpoint)) return "cannot connect to " + url + "; is the relay running there?";
    if (endpoint.tls) return tls_problem(endpoint);
    return std::nullopt;
}

void add_tls_options(CLI::App& cmd, TlsOptions& tls) {
    cmd.add_flag("--insecure", tls.insecure, "wss://: do not check the relay's certificate");
    cmd.add_option("--ca-file", tls.ca_file, "wss://: also trust the CA certificates in this PEM file")->check(CLI::ExistingFile);
}

fs::path default_relay_binary() { return executable_dir() / "reference-relay"; }

// The watchdog delays (docs/protocol.md V2-WD-1, V2-WD-2) scaled as the run's --time-scale says, for a
// reference relay this run starts itself; none at the official scale.
std::vector<std::string> scaled_watchdog_flags(double scale) {
    if (scale == 1) return {};
    auto const ms = [scale](double official) { return std::to_string(std::max(1LL, std::llround(official * scale))); };
    return {"--watchdog-nudge-ms", ms(10'000), "--watchdog-reset-ms", ms(5'000)};
}

void add_selection_options(CLI::App& cmd, RunOptions& o) {
    cmd.add_option("--profile", o.profile, "The relay protocol: its scenarios, requirements and socket addressing (profiles/NAME)")
        ->capture_default_str();
    cmd.add_option("--scenarios", o.scenarios_dir, "Folder of scenario files (default: the profile's)");
    cmd.add_option("--id", o.selectors.ids, "Only scenarios whose id matches this glob (repeatable)");
    cmd.add_option("--tag", o.selectors.tags, "Only scenarios with this tag (repeatable)");
    cmd.add_option("--requirement", o.selectors.requirements, "Only scenarios checking this requirement id or id glob, e.g. V2-WD-* (repeatable)");
    cmd.add_option("--exclude", o.selectors.excludes, "Leave out: an id glob, tag:T or req:R (R may be a glob) (repeatable)");
    cmd.add_flag("--include-long", o.selectors.include_long, "Also run scenarios tagged long (over 20 s each)");
}

// What a run is judged by and reported as, the same for run and check-client.
void add_judging_options(CLI::App& cmd, RunOptions& o) {
    cmd.add_option("--step-timeout", o.step_timeout_ms, "Default wait of an expect step, ms")->capture_default_str();
    cmd.add_flag("--strict", o.strict, "NON-STRICT differences (details no client depends on) fail the run too");
    cmd.add_option("--repeat", o.repeat, "Run every selected scenario N times; scenarios whose verdict changes are FLAKY")
        ->check(CLI::Range(1u, 1000u))
        ->capture_default_str();
    cmd.add_option("--scenario-timeout", o.scenario_timeout_ms, "Cap on every scenario, ms (default: its timeout_ms)");
    cmd.add_option("--expectations", o.expectations, "Known deviations: listed failures do not fail the run (ci/expectations/README.md)");
    cmd.add_option("--write-expectations", o.write_expectations, "Write this run's failures as an expectations file");
    cmd.add_option("--json", o.json, "Write the JSON report here");
    cmd.add_option("--junit", o.junit, "Write JUnit XML here");
    cmd.add_option("--html", o.html, "Write the self-contained HTML report here");
}

void add_timing_options(CLI::App& cmd, RunOptions& o, std::string const& whose) {
    cmd.add_option("--latency", o.latency_ms, "The " + whose + "'s latency in ms" +
                                                  (whose == "relay" ? ", instead of calibrating it before the run" : ": widens every allowance (default 0)"))
        ->check(CLI::Range(0.0, 60000.0));
    cmd.add_option("--time-scale", o.time_scale,
                   "The " + whose + "'s protocol timers are scaled by this (0.1: ten times faster)" +
                       (whose == "relay" ? "; a reference relay started without --url gets its watchdog scaled to match"
                                         : "; windows and quiet periods stretch to match"))
        ->check(CLI::Range(0.001, 100.0))
        ->capture_default_str();
}

int list(RunOptions const& o, scenario::Profile const& profile, std::vector<scenario::Scenario> const& all,
         std::vector<scenario::Scenario const*> const& chosen) {
    for (auto const* s : chosen) {
        std::cout << s->id << "  [";
        for (std::size_t i = 0; i < s->requirements.size(); ++i) std::cout << (i ? " " : "") << s->requirements[i];
        std::cout << "]  " << s->title << "\n";
    }
    std::cout << chosen.size() << " of " << all.size() << " scenarios selected\n";
    if (!o.coverage) return exit_pass;
    auto const requirements = read_requirements(profile.requirements, profile.requirement_pattern);
    std::size_t uncovered = 0;
    std::cout << "\ncoverage of profile " << profile.name << " (requirement: scenarios)\n";
    for (auto const& r : requirements) {
        std::vector<std::string> ids;
        for (auto const& s : all) {
            bool names = std::find(s.requirements.begin(), s.requirements.end(), r.id) != s.requirements.end();
            for (auto const& step : s.steps) names = names || step.requirement == r.id;
            if (names) ids.push_back(s.id);
        }
        std::cout << "  " << r.id << ": ";
        if (ids.empty()) {
            std::cout << "NOT COVERED";
            ++uncovered;
        }
        for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? ", " : "") << ids[i];
        std::cout << "\n";
    }
    std::cout << requirements.size() - uncovered << " of " << requirements.size() << " requirements covered\n";
    return exit_pass;
}

void apply_expectations(Expectations const& e, std::vector<interpreter::ScenarioResult>& results, reporters::RunInfo& info) {
    using interpreter::Verdict;
    for (auto& r : results) {
        auto const id = r.scenario->id;
        auto const failure = e.expected_failures.find(id);
        auto const flaky = e.known_flaky.find(id);
        bool const listed = failure != e.expected_failures.end() || flaky != e.known_flaky.end();
        if (r.verdict == Verdict::flaky && flaky != e.known_flaky.end()) {
            r.expected_failure = true;
            r.expected_reason = flaky->second;
        } else if (failure != e.expected_failures.end() && (r.verdict == Verdict::fail || r.verdict == Verdict::blocked ||
                                                            (r.verdict == Verdict::nonstrict && info.strict))) {
            r.expected_failure = true;
            r.expected_reason = failure->second;
        } else if (listed && (r.verdict == Verdict::pass || (r.verdict == Verdict::nonstrict && !info.strict))) {
            info.unexpected_passes.push_back(id);
        }
    }
    for (auto const* listed : {&e.expected_failures, &e.known_flaky})
        for (auto const& [id, _] : *listed)
            if (std::none_of(results.begin(), results.end(), [&](auto const& r) { return r.scenario->id == id; }))
                info.stale_expectations.push_back(id);
}

bool write_file(std::string const& path, std::string const& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (out) return true;
    std::cerr << "relay-conformance: cannot write " << path << "\n";
    return false;
}

// What a run or a listing takes: the profile (its client side for client checks), every scenario of
// its folder, and the selection.
struct Loaded {
    scenario::Profile profile;
    std::vector<scenario::Scenario> all;
    std::vector<scenario::Scenario const*> chosen;  // into `all`
};

// Nullopt once it has said why not (exit code 2).
std::optional<Loaded> load_selection(RunOptions const& o) {
    Loaded loaded;
    try {
        loaded.profile = scenario::find_profile(profiles_root(), o.profile);
        if (o.client) loaded.profile = scenario::client_side(loaded.profile);
    } catch (scenario::LoadError const& e) {
        fail_usage(e.what());
        return std::nullopt;
    }
    auto const scenarios_dir = o.scenarios_dir.empty() ? loaded.profile.scenarios : fs::path(o.scenarios_dir);
    try {
        // A folder of one's own scenarios may lean on the library's schema.
        std::string const schema_name = o.client ? "client-scenario.schema.json" : "scenario.schema.json";
        auto schema = scenarios_dir / schema_name;
        if (!fs::exists(schema)) schema = (o.client ? client_library_dir() : library_dir()) / schema_name;
        loaded.all = scenario::load_library(scenarios_dir, schema, loaded.profile, o.client ? scenario::FileKind::client : scenario::FileKind::relay);
    } catch (scenario::LoadError const& e) {
        std::cerr << e.what() << "\nrelay-conformance: fix the scenario files above (docs/scenario-format.md)\n";
        return std::nullopt;
    }
    auto selectors = o.selectors;
    if (o.client && !o.client_kind.empty()) selectors.required_tags.push_back(o.client_kind);
    loaded.chosen = select(loaded.all, selectors);
    if (loaded.chosen.empty()) {
        fail_usage(std::string("no scenario matches the selection; see `relay-conformance list") + (o.client ? " --client`" : "`"));
        return std::nullopt;
    }
    return loaded;
}

// False once it has said why the expectations file cannot be used.
bool read_expectations_option(RunOptions const& o, std::optional<Expectations>& expectations) {
    if (o.expectations.empty()) return true;
    try {
        expectations = read_expectations(o.expectations);
    } catch (ExpectationsError const& e) {
        fail_usage(e.what());
        return false;
    }
    return true;
}

// "N/M scenario runs done, latest ID" on a terminal's stderr; nothing elsewhere.
std::function<void(interpreter::ScenarioResult const&)> progress_line(std::size_t total) {
    if (!isatty(STDERR_FILENO)) return nullptr;
    return [total, done = std::make_shared<std::size_t>(0)](interpreter::ScenarioResult const& r) {
        ++*done;
        std::cerr << "\r" << *done << "/" << total << " scenario runs done, latest " << r.scenario->id << "\033[K" << std::flush;
    };
}

reporters::RunInfo run_info(RunOptions const& o, scenario::Profile const& profile, std::string const& subject, double latency_ms) {
    reporters::RunInfo info{subject, RELAY_CONFORMANCE_VERSION, PROTOCOL_COMMIT, now_utc(), 0, {}, {}};
    info.strict = o.strict;
    info.latency_ms = latency_ms;
    info.latency_given = o.latency_ms.has_value();
    info.time_scale = o.time_scale;
    info.repeat = o.repeat;
    info.profile = profile.name;
    info.clients = profile.clients;
    return info;
}

// Applies the expectations, prints the console report and writes the files asked for; the exit code.
int conclude(RunOptions const& o, reporters::RunInfo& info, std::vector<interpreter::ScenarioResult>& results,
             std::optional<Expectations> const& expectations, scenario::Profile const& profile) {
    if (isatty(STDERR_FILENO)) std::cerr << "\r\033[K";
    if (expectations) apply_expectations(*expectations, results, info);
    auto const requirements = read_requirements(profile.requirements, profile.requirement_pattern);
    reporters::print_console(std::cout, info, results, requirements, isatty(STDOUT_FILENO));
    bool written = true;
    if (!o.json.empty() || !o.html.empty()) {
        auto report = reporters::json_report(info, results, requirements);
        if (!o.json.empty()) written &= write_file(o.json, report.dump(2) + "\n");
        if (!o.html.empty())
            written &= write_file(o.html, reporters::render_html_report(nlohmann::json(report), reporters::requirements_json(requirements)));
    }
    if (!o.junit.empty()) {
        std::ostringstream junit;
        reporters::write_junit(junit, info, results, requirements);
        written &= write_file(o.junit, junit.str());
    }
    if (!o.write_expectations.empty()) {
        try {
            write_expectations(o.write_expectations, info.relay_url, results);
        } catch (ExpectationsError const& e) {
            std::cerr << "relay-conformance: " << e.what() << "\n";
            written = false;
        }
    }
    if (!written) return exit_usage;
    if (std::any_of(results.begin(), results.end(), [&](auto const& r) { return reporters::fails_run(r, o.strict); })) return exit_fail;
    if (reporters::summarize(results).notrun) return exit_usage;
    return exit_pass;
}

// check-client: the runner plays the relay; each scenario judges what the client under test does.
int check_client(RunOptions const& o, Loaded const& loaded) {
    if (o.client_cmd.empty() && o.jobs != 1)
        return fail_usage("--jobs runs scenarios side by side, each with a client of its own: it needs --client-cmd");
    if (!o.client_cmd.empty() && o.port != 0) return fail_usage("--port is for a client you start yourself; --client-cmd gets a fresh port per scenario");
    std::optional<Expectations> expectations;
    if (!read_expectations_option(o, expectations)) return exit_usage;
    interpreter::RunSettings settings{client::Endpoint{}, o.step_timeout_ms, o.scenario_timeout_ms};
    // No relay to calibrate: the client's latency is what --latency says, 0 by default.
    settings.latency_ms = o.latency_ms.value_or(0);
    settings.time_scale = o.time_scale;
    settings.profile = loaded.profile;
    std::string subject = "the client started by `" + o.client_cmd + "`";
    ClientCheckSettings checks{o.client_cmd, o.port, o.jobs, [&subject](std::string const& url) {
                                   // The first stdout line: where to point the client.
                                   std::cout << url << std::endl;
                                   subject = "the client at " + url;
                               }};
    auto const started = std::chrono::steady_clock::now();
    auto const progress = progress_line(loaded.chosen.size() * o.repeat);
    auto results = fold_repeated(o.repeat, [&] { return run_client_checks(loaded.chosen, settings, checks, progress); });
    auto info = run_info(o, loaded.profile, subject, settings.latency_ms);
    info.latency_given = true;
    info.judging_clients = true;
    info.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return conclude(o, info, results, expectations, loaded.profile);
}

int run(RunOptions const& o) {
    auto const loaded = load_selection(o);
    if (!loaded) return exit_usage;
    auto const& [profile, all, chosen] = *loaded;
    if (o.list) return list(o, profile, all, chosen);
    if (o.client) return check_client(o, *loaded);

    std::optional<Expectations> expectations;
    if (!read_expectations_option(o, expectations)) return exit_usage;

    std::optional<RelayLauncher> launched;
    auto url = o.url;
    if (url.empty() && profile.name != "paseo")
        return fail_usage("profile " + profile.name + " has no reference relay to start; give --url");
    if (url.empty()) {
        try {
            launched.emplace(o.relay_binary.empty() ? default_relay_binary() : fs::path(o.relay_binary),
                             scaled_watchdog_flags(o.time_scale));
        } catch (std::exception const& e) {
            return fail_usage(e.what());
        }
        url = launched->url();
        std::cerr << "relay-conformance: no --url given, testing the reference relay at " << url << "\n";
    }
    // A reference relay this run started, and died: what it said is the first thing to read.
    auto const last_words = [&]() -> std::string {
        if (!launched || !launched->exits_within(std::chrono::seconds(1))) return {};
        return "\nrelay-conformance: the reference relay exited; its last words:\n" + launched->stderr_tail();
    };
    std::string error;
    auto endpoint = endpoint_of(url, o.tls, error);
    if (!endpoint) return fail_usage(error);
    if (auto problem = unreachable(*endpoint, url)) return fail_usage(*problem + last_words());

    interpreter::RunSettings settings{*endpoint, o.step_timeout_ms, o.scenario_timeout_ms};
    settings.latency_ms = o.latency_ms ? *o.latency_ms : calibrate_latency_ms(*endpoint);
    settings.time_scale = o.time_scale;
    settings.profile = profile;
    auto const started = std::chrono::steady_clock::now();
    auto info = run_info(o, profile, url, settings.latency_ms);
    std::vector<client::Transport> transports;
    for (auto t : {client::Transport::plain, client::Transport::deflate, client::Transport::fragmented})
        if (o.transport == "all" || o.transport == client::to_string(t)) transports.push_back(t);
    auto const progress = progress_line(chosen.size() * o.repeat * transports.size());
    std::vector<interpreter::ScenarioResult> results;
    for (auto transport : transports) {
        settings.endpoint.transport = transport;
        auto some = run_repeated(chosen, settings, o.jobs, o.repeat, progress);
        for (auto& r : some) {
            if (transports.size() > 1) r.transport = client::to_string(transport);
            results.push_back(std::move(r));
        }
    }
    info.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    auto const code = conclude(o, info, results, expectations, profile);
    if (auto const words = last_words(); !words.empty()) std::cerr << words.substr(1) << "\n";
    return code;
}

struct RecordOptions {
    std::string url, scenario_file, out;
    std::vector<std::string> ids;
    TlsOptions tls;
};

// Drives a file's scenarios against a live relay and writes what it observed as a trace.
int record(RecordOptions const& o) {
    std::string error;
    auto endpoint = endpoint_of(o.url, o.tls, error);
    if (!endpoint) return fail_usage(error);
    std::vector<scenario::Scenario> scenarios;
    Json source;
    try {
        std::ifstream schema_in(library_dir() / "scenario.schema.json");
        scenarios = scenario::load_file(o.scenario_file, Json::parse(schema_in));
        std::ifstream in(o.scenario_file);
        source = Json::parse(in);
    } catch (std::exception const& e) {
        std::cerr << e.what() << "\n";
        return exit_usage;
    }
    std::vector<scenario::Scenario const*> chosen;
    for (auto const& s : scenarios)
        if (o.ids.empty() || std::any_of(o.ids.begin(), o.ids.end(), [&](auto const& g) { return glob_match(g, s.id); }))
            chosen.push_back(&s);
    if (chosen.empty()) return fail_usage("no scenario in " + o.scenario_file + " matches --id");
    if (auto problem = unreachable(*endpoint, o.url)) return fail_usage(*problem);
    interpreter::RunSettings settings{.endpoint = *endpoint};
    settings.record = true;
    settings.latency_ms = calibrate_latency_ms(*endpoint);
    auto results = run_suite(chosen, settings, 0, nullptr);
    Json trace{{"section", source.value("section", "")}, {"scenarios", Json::array()}};
    for (auto const& r : results) {
        for (auto scenario : source["scenarios"]) {
            if (scenario["id"] != r.scenario->id) continue;
            scenario["steps"] = r.recorded_steps;
            trace["scenarios"].push_back(scenario);
        }
        if (r.verdict == interpreter::Verdict::error)
            std::cerr << "relay-conformance record: " << r.scenario->id << " stopped at step " << (r.failure ? r.failure->step : 0)
                      << ": " << (r.failure ? r.failure->message : "") << "\n";
    }
    if (o.out.empty()) {
        std::cout << trace.dump(2) << "\n";
        return exit_pass;
    }
    return write_file(o.out, trace.dump(2) + "\n") ? exit_pass : exit_usage;
}

constexpr char const* exit_codes =
    "Exit codes:\n  0  every selected scenario passed (or failed only as the expectations file says)\n"
    "  1  a scenario failed, was blocked or flaky (or non-strict, with --strict), or could not be carried out (error)\n"
    "  2  usage error, bad scenario file, nothing selected, relay unreachable, or scenarios not run\n";

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"relay-conformance: the Paseo relay protocol conformance suite.\n"
                 "Replays recorded v1/v2 traces (scenarios/) against a relay and reports, requirement by requirement\n"
                 "(docs/protocol.md), where it differs from the official relay."};
    app.set_version_flag("--version", std::string("relay-conformance ") + RELAY_CONFORMANCE_VERSION +
                                          "\nprotocol: getpaseo/paseo packages/relay/src/cloudflare-adapter.ts at " + PROTOCOL_COMMIT);
    app.require_subcommand(1);
    app.footer(std::string(exit_codes) + "Example:\n  relay-conformance run --url ws://127.0.0.1:8787 --junit junit.xml");

    RunOptions run_options;
    auto* run_cmd = app.add_subcommand("run", "Run the scenarios against a relay (starts the reference relay if no --url)");
    run_cmd->description(
        "Runs the selected scenarios, all at once, against the relay at --url and prints a report grouped by\n"
        "requirement section. Without --url it starts the reference relay (next to this binary) on a free port.");
    run_cmd->add_option("--url", run_options.url, "The relay to test, ws://HOST:PORT or wss://HOST[:PORT]")->envname("RELAY_URL");
    add_tls_options(*run_cmd, run_options.tls);
    run_cmd->add_option("--relay-binary", run_options.relay_binary, "Reference relay to start when no --url is given");
    add_selection_options(*run_cmd, run_options);
    run_cmd->add_flag("--list", run_options.list, "Print the selection instead of running it");
    run_cmd->add_flag("--coverage", run_options.coverage, "With --list: which scenarios check each requirement");
    run_cmd->add_option("--jobs", run_options.jobs, "Scenarios at once; 0 = all")->capture_default_str();
    run_cmd->add_option("--transport", run_options.transport,
                        "How scenario sockets send: plain, deflate (permessage-deflate as Node's ws offers it), fragmented "
                        "(every message in several frames), or all three in turn")
        ->check(CLI::IsMember({"plain", "deflate", "fragmented", "all"}))
        ->capture_default_str();
    add_timing_options(*run_cmd, run_options, "relay");
    add_judging_options(*run_cmd, run_options);
    run_cmd->footer(std::string(exit_codes) +
                    "Examples:\n  relay-conformance run\n  relay-conformance run --url ws://127.0.0.1:8787 --tag v2 --exclude tag:slow\n"
                    "  relay-conformance run --url ws://127.0.0.1:8787 --expectations relay-expectations.json --html report.html\n"
                    "  relay-conformance run --url wss://relay.example.com --ca-file my-ca.pem --requirement 'V2-*'");

    RunOptions list_options;
    list_options.list = true;
    auto* list_cmd = app.add_subcommand("list", "List the scenarios a selection takes, and requirement coverage");
    add_selection_options(*list_cmd, list_options);
    list_cmd->add_flag("--coverage", list_options.coverage, "Also show which scenarios check each requirement");
    list_cmd->add_flag("--client", list_options.client,
                       "The client scenarios (check-client) and, with --coverage, the client requirements (docs/client-protocol.md for paseo)");
    list_cmd->add_option("--kind", list_options.client_kind, "With --client: only the daemon's or the app's scenarios")
        ->check(CLI::IsMember({"daemon", "app"}));
    list_cmd->description(
        "Prints the scenarios a selection takes (id, the requirements it checks, title) without contacting a relay;\n"
        "with --coverage, also every requirement of the profile's requirements document (docs/protocol.md for paseo)\n"
        "and the scenarios that check it.");
    list_cmd->footer("Exit codes: 0 listed, 2 bad scenario file, unknown profile or nothing selected.\n"
                     "Examples:\n  relay-conformance list --tag v2 --coverage\n  relay-conformance list --profile localfirst --coverage\n"
                     "  relay-conformance list --client --coverage");

    RunOptions check_options;
    check_options.client = true;
    check_options.jobs = 1;
    auto* check_cmd = app.add_subcommand("check-client", "Play the relay for a client (a Paseo daemon or app) and judge what it does");
    check_cmd->description(
        "Runs the client scenarios (the profile's client_scenarios folder, client-scenarios/ for paseo): the runner listens\n"
        "on a loopback port as the relay, the client under test connects, and each scenario scripts what the relay sends\n"
        "and judges what the client does (docs/scenario-format.md, \"Client scenarios\"; docs/client-protocol.md).\n"
        "With --client-cmd, every scenario gets a fresh port and its own client: `/bin/sh -c CMD` with {url} and {port}\n"
        "substituted, ended with SIGTERM (SIGKILL 3 s later) when the scenario ends. Without, the first stdout line is the\n"
        "URL to point a long-running client at; the scenarios then run one after another on whatever connects (each\n"
        "scenario's sockets end with a close 1012, and its first accept should allow 35 s, a daemon's longest backoff).");
    check_cmd->add_option("--client-cmd", check_options.client_cmd, "The client to start for each scenario, e.g. \"my-daemon --relay {url}\"");
    check_cmd->add_option("--port", check_options.port, "Without --client-cmd: the port to listen on (0: a free one)")->capture_default_str();
    check_options.client_kind = "daemon";
    check_cmd->add_option("--kind", check_options.client_kind, "The client under test: daemon or app (the scenarios tagged so)")
        ->check(CLI::IsMember({"daemon", "app"}))
        ->capture_default_str();
    add_selection_options(*check_cmd, check_options);
    check_cmd->add_option("--jobs", check_options.jobs, "Scenarios at once, each with its own client (with --client-cmd); 0 = all")
        ->capture_default_str();
    add_timing_options(*check_cmd, check_options, "client");
    add_judging_options(*check_cmd, check_options);
    check_cmd->footer(std::string(exit_codes) +
                      "Examples:\n  relay-conformance check-client --client-cmd \"/usr/bin/python3 client-scenarios/tests/model_daemon.py --url {url}\"\n"
                      "  relay-conformance check-client --port 8787 --requirement 'DAEMON-*' --junit client.xml");

    bench::BenchOptions bench_options;
    bench::CompareOptions compare_options;
    std::vector<int> bench_relay_pids;
    int bench_cpu = -1;
    auto* bench_cmd = app.add_subcommand("bench", "Drive load through a v2 relay and measure it");
    bench_cmd->description(
        "Opens real control, data and client sockets and drives one of the scenarios the official load tool knows:\n"
        "idle (open and hold), sustained (paced frames both ways), reconnect (pairs closing and reopening), fanout\n"
        "(several clients per connection id). Prints a summary; --json writes every figure.\n"
        "With --compare, runs the same load against several relays, alternating their order round after round, and\n"
        "prints each figure's median per relay side by side with its ratio to the first relay's.");
    bench_cmd->add_option("--url", bench_options.url, "The relay, ws://HOST:PORT (with --compare: the first relay)");
    auto* compare_option = bench_cmd->add_option("--compare", compare_options.urls, "Also bench these relays, ws://HOST:PORT ..., and compare them");
    bench_cmd->add_option("--rounds", compare_options.rounds, "With --compare: runs per relay; the table gives each figure's median")
        ->needs(compare_option)
        ->check(CLI::Range(1u, 100u))
        ->capture_default_str();
    bench_cmd->add_option("--scenario", bench_options.scenario, "idle, sustained, reconnect or fanout")->capture_default_str();
    bench_cmd->add_option("--pairs", bench_options.pairs, "Data+client socket pairs")->capture_default_str();
    bench_cmd->add_option("--rate", bench_options.rate, "Frames/s per socket and direction")->capture_default_str();
    bench_cmd->add_option("--payload", bench_options.payload, "Bytes per frame (at least 16)")->capture_default_str();
    bench_cmd->add_option("--duration", bench_options.duration, "Seconds of steady phase")->capture_default_str();
    bench_cmd->add_option("--warmup", bench_options.warmup, "Seconds before the steady phase")->capture_default_str();
    bench_cmd->add_option("--fanout-clients", bench_options.fanout_clients, "Clients per connection id (fanout)")->capture_default_str();
    bench_cmd->add_option("--open-rate", bench_options.open_rate, "Sockets opened per second; 0 = as fast as --batch allows")->capture_default_str();
    bench_cmd->add_option("--batch", bench_options.batch, "Connection attempts in flight at once")->capture_default_str();
    bench_cmd->add_option("--open-timeout", bench_options.open_timeout, "Seconds a socket may take to open before it counts as failed")
        ->capture_default_str();
    bench_cmd->add_option("--relay-pid", bench_relay_pids,
                          "Sample this process's CPU and RSS from /proc (with --compare: one per relay, in order, 0 for none)");
    bench_cmd->add_option("--cpu", bench_cpu, "Pin the bench to this core");
    bench_cmd->add_option("--json", bench_options.json_path, "Write the JSON figures here (- for stdout)");
    bench_cmd->footer("Exit codes: 0 the bench ran (whatever the figures), 2 it could not (with --compare: against one relay or more).\n"
                      "Examples:\n  taskset -c 0 build/reference-relay --port 8787 &\n"
                      "  relay-conformance bench --url ws://127.0.0.1:8787 --cpu 1 --relay-pid $! --pairs 100 --rate 1000\n"
                      "  build/reference-relay --port 8787 & A=$!; ./my-relay --port 9000 & B=$!\n"
                      "  relay-conformance bench --compare ws://127.0.0.1:8787 ws://127.0.0.1:9000 --relay-pid $A --relay-pid $B \\\n"
                      "      --rounds 3 --pairs 100 --rate 100 --json compare.json");

    RecordOptions record_options;
    auto* record_cmd = app.add_subcommand("record", "Record a relay's answers to a scenario file's actions as a new trace");
    record_cmd->description(
        "Carries out the actions of the scenarios in --scenario (opens, sends, closes, HTTP requests) against the relay at\n"
        "--url and writes, in the same format, what the relay actually answered at each expect step. Values the relay\n"
        "generates become captures (connection ids) or matchers (timestamps), so a trace recorded from the official relay\n"
        "replays against any other.");
    record_cmd->add_option("--url", record_options.url, "The relay to record, ws://HOST:PORT or wss://HOST[:PORT]")->required();
    add_tls_options(*record_cmd, record_options.tls);
    record_cmd->add_option("--scenario", record_options.scenario_file, "A scenario file whose actions to drive")->required();
    record_cmd->add_option("--id", record_options.ids, "Only scenarios whose id matches this glob (repeatable)");
    record_cmd->add_option("--out", record_options.out, "Write the trace here (default: stdout)");
    record_cmd->footer("Exit codes: 0 recorded, 2 bad arguments, bad file or relay unreachable.\n"
                       "Example:\n  relay-conformance record --url ws://127.0.0.1:8787 --scenario scenarios/v2/control.json --out control.json");

    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? exit_pass : exit_usage;
    }
    if (*run_cmd) return run(run_options);
    if (*list_cmd) return run(list_options);
    if (*check_cmd) return run(check_options);
    if (*record_cmd) return record(record_options);
    if (bench_cpu >= 0) bench_options.cpu = bench_cpu;
    std::string error;
    int code = exit_usage;
    if (!compare_options.urls.empty()) {
        compare_options.bench = bench_options;
        compare_options.relay_pids = bench_relay_pids;
        code = bench::run_compare(compare_options, std::cout, std::cerr, error);
    } else if (bench_options.url.empty() || bench_relay_pids.size() > 1) {
        error = "give --url and at most one --relay-pid, or --compare URL...";
    } else {
        if (!bench_relay_pids.empty() && bench_relay_pids[0] > 0) bench_options.relay_pid = bench_relay_pids[0];
        code = bench::run_bench(bench_options, std::cout, error);
    }
    if (!error.empty()) std::cerr << "relay-conformance bench: " << error << "\n";
    return code;
}
