// `relay-conformance bench`: load for any v2 relay with real control, data and client sockets, in
// the scenarios users of the official load tool know (idle, sustained, reconnect, fanout).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>

#include <sys/types.h>

namespace conformance::bench {

struct BenchOptions {
    std::string url;                      // ws://host:port
    std::string scenario = "sustained";   // idle | sustained | reconnect | fanout
    unsigned pairs = 100;                 // data+client pairs (connection ids)
    double rate = 100;                    // frames/s per pair and direction (fanout: daemon to clients only)
    std::size_t payload = 64;             // bytes per frame, at least 16
    double duration = 10;                 // seconds of steady phase
    double warmup = 1;                    // seconds of traffic before the steady phase
    unsigned fanout_clients = 4;          // clients per connection id in `fanout`
    double open_rate = 0;                 // sockets opened per second; 0: as fast as the batch allows
    unsigned batch = 256;                 // connection attempts in flight at once
    double open_timeout = 10;             // seconds a socket may take to open before it counts as failed
    std::optional<pid_t> relay_pid;       // sample the relay's CPU and RSS from /proc
    std::optional<int> cpu;               // pin the bench to this core
    std::string json_path;                // also write the JSON report here ("-": stdout)
    double drain_timeout = 5;             // seconds to wait for in-flight frames at the end
};

// One run's figures, as --json writes them.
using Report = nlohmann::ordered_json;

// Checks the options, pins the bench to --cpu and raises its open-file limit (saying on `out` if the
// limit falls short); false, and `error` says why, if the bench cannot run with them.
bool prepare(BenchOptions const& options, std::ostream& out, std::string& error);

// Checks that `url` is a ws:// URL whose host resolves; false, and `error` says why, if not.
bool check_url(std::string const& url, std::string& error);

// One run against options.url, after prepare(); nullopt, and `error` says why, if no socket could be
// opened (bad URL, relay unreachable).
std::optional<Report> measure(BenchOptions const& options, std::string& error);

// Writes `report` to `path` ("-": stdout); false, and `error` says why, if it cannot.
bool write_report(Report const& report, std::string const& path, std::string& error);

// Runs one bench and prints a readable summary to `out`. Returns 0 if it ran (whatever the figures),
// 2 if it could not (bad URL, relay unreachable, options out of range); `error` says why.
int run_bench(BenchOptions const& options, std::ostream& out, std::string& error);

}  // namespace conformance::bench
