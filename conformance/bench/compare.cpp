#include "bench/compare.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace conformance::bench {

namespace {

enum Scenarios : unsigned { idle = 1, sustained = 2, reconnect = 4, fanout = 8, traffic = sustained | fanout, any = 15 };

unsigned scenario_bit(std::string const& name) {
    return name == "idle" ? idle : name == "sustained" ? sustained : name == "reconnect" ? reconnect : fanout;
}

// A figure compared across relays, read from a run's report.
struct Figure {
    char const* key;      // its name in the JSON
    char const* label;    // its row in the table
    char const* pointer;  // where a run's report has it
    double scale;         // from the report's unit to the table's
    int precision;
    bool higher_is_better;
    unsigned scenarios;   // the scenarios where it means something
};

// The first figure a scenario has is its headline, printed after each run.
constexpr Figure figures[] = {
    {"delivered_per_s", "delivered frames/s", "/frames/steady_delivered_per_s", 1, 0, true, traffic},
    {"cycles_per_s", "reconnect cycles/s", "/reconnect/cycles_per_s", 1, 0, true, reconnect},
    {"latency_p50_us", "latency p50 (us)", "/latency_us/p50", 1, 0, false, traffic | reconnect},
    {"latency_p99_us", "latency p99 (us)", "/latency_us/p99", 1, 0, false, traffic | reconnect},
    {"frames_lost", "frames lost", "/frames/lost", 1, 0, false, traffic},
    {"reconnect_failures", "reconnect failures", "/reconnect/failures", 1, 0, false, reconnect},
    {"sockets_opened", "sockets opened", "/sockets/opened", 1, 0, true, any},
    {"open_failures", "sockets failed to open", "/sockets/failed", 1, 0, false, any},
    {"opened_per_s", "sockets opened/s", "/sockets/setup_per_s", 1, 0, true, any},
    {"relay_cpu_us_per_frame", "relay CPU (us/frame)", "/relay_process/cpu_us_per_delivered_frame", 1, 2, false, traffic},
    {"relay_cpu_us_per_cycle", "relay CPU (us/cycle)", "/relay_process/cpu_us_per_delivered_frame", 1, 2, false, reconnect},
    {"relay_rss_mib", "relay RSS (MiB)", "/relay_process/rss_during_bytes", 1.0 / 1048576, 1, false, any},
    {"relay_kib_per_socket", "relay KiB/socket", "/relay_process/rss_per_socket_bytes", 1.0 / 1024, 1, false, idle},
};

struct Relay {
    std::string url;
    int pid = 0;                   // 0: none sampled
    std::vector<Report> rounds;    // the compared figures of each round it ran
    std::string failure;           // why it is left out, if it is
    Report medians = Report::object();
};

// The figures of `scenario` that `report` has, in the table's units.
Report figures_of(Report const& report, std::string const& scenario) {
    Report out = Report::object();
    for (auto const& f : figures) {
        Report::json_pointer const at(f.pointer);
        if ((f.scenarios & scenario_bit(scenario)) && report.contains(at)) out[f.key] = report.at(at).get<double>() * f.scale;
    }
    return out;
}

void take_medians(Relay& relay) {
    for (auto const& f : figures) {
        std::vector<double> values;
        for (auto const& round : relay.rounds)
            if (round.contains(f.key)) values.push_back(round[f.key].get<double>());
        if (!values.empty()) relay.medians[f.key] = median(values);
    }
}

// `value` against `base`: equal figures are x1.00 even at zero; otherwise nothing against zero.
Report ratio(Report const& value, Report const& base) {
    if (!value.is_number() || !base.is_number()) return nullptr;
    auto const v = value.get<double>(), b = base.get<double>();
    if (v == b) return 1.0;
    if (b == 0) return nullptr;
    return v / b;
}

std::string fixed(double value, int precision) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << value;
    return s.str();
}

void print_rows(std::ostream& out, std::vector<std::vector<std::string>> const& rows) {
    std::vector<std::size_t> widths;
    for (auto const& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    }
    for (auto const& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) line += row[c] + std::string(widths[c] - row[c].size() + 2, ' ');
        out << line.substr(0, line.find_last_not_of(' ') + 1) << "\n";
    }
}

// Figure rows, a value and a ratio column per relay that was benched.
void print_table(std::ostream& out, std::vector<Relay const*> const& benched) {
    std::vector<std::vector<std::string>> rows{{"figure", "better"}};
    for (auto const* relay : benched) rows[0].insert(rows[0].end(), {relay->url, "ratio"});
    for (auto const& f : figures) {
        if (std::none_of(benched.begin(), benched.end(), [&](auto const* r) { return r->medians.contains(f.key); })) continue;
        std::vector<std::string> row{f.label, f.higher_is_better ? "higher" : "lower"};
        auto const& base = benched.front()->medians.value(f.key, Report());
        for (auto const* relay : benched) {
            auto const& value = relay->medians.value(f.key, Report());
            auto const r = ratio(value, base);
            row.push_back(value.is_number() ? fixed(value.get<double>(), f.precision) : "-");
            row.push_back(r.is_number() ? "x" + fixed(r.get<double>(), 2) : "-");
        }
        rows.push_back(std::move(row));
    }
    print_rows(out, rows);
}

// One round: every relay still in the comparison, in this round's order.
Report run_round(CompareOptions const& options, std::vector<Relay>& relays, unsigned round, std::ostream& out, std::ostream& err) {
    Report runs = Report::array();
    for (auto const index : round_order(relays.size(), round)) {
        auto& relay = relays[index];
        if (!relay.failure.empty()) continue;
        auto bench = options.bench;
        bench.url = relay.url;
        bench.relay_pid = relay.pid > 0 ? std::optional<pid_t>(relay.pid) : std::nullopt;
        std::string why;
        auto report = measure(bench, why);
        out << "round " << round + 1 << "/" << options.rounds << "  " << relay.url << "  ";
        if (!report) {
            out << "failed\n" << std::flush;
            err << "relay-conformance bench: " << why << "; left out of the comparison\n" << std::flush;
            relay.failure = why;
            runs.push_back({{"url", relay.url}, {"error", why}});
            continue;
        }
        auto figures_now = figures_of(*report, options.bench.scenario);
        auto const& headline = *std::find_if(std::begin(figures), std::end(figures),
                                             [&](auto const& f) { return figures_now.contains(f.key); });
        out << fixed(figures_now[headline.key].get<double>(), headline.precision) << " " << headline.label << "\n" << std::flush;
        relay.rounds.push_back(figures_now);
        runs.push_back({{"url", relay.url}, {"figures", figures_now}, {"report", *report}});
    }
    return {{"round", round + 1}, {"runs", runs}};
}

Report comparison_json(CompareOptions const& options, std::vector<Relay> const& relays, Report rounds) {
    Report better = Report::object();
    for (auto const& f : figures)
        if (f.scenarios & scenario_bit(options.bench.scenario)) better[f.key] = f.higher_is_better ? "higher" : "lower";
    Relay const* base = nullptr;
    for (auto const& relay : relays)
        if (relay.failure.empty() && !base) base = &relay;
    Report out_relays = Report::array();
    for (auto const& relay : relays) {
        Report entry{{"url", relay.url}, {"relay_pid", relay.pid > 0 ? Report(relay.pid) : Report()},
                     {"rounds_run", relay.rounds.size()}};
        if (!relay.failure.empty()) {
            entry["error"] = relay.failure;
        } else {
            Report ratios = Report::object();
            for (auto const& [key, value] : relay.medians.items()) ratios[key] = ratio(value, base->medians.value(key, Report()));
            entry["medians"] = relay.medians;
            entry["ratios"] = ratios;
        }
        out_relays.push_back(entry);
    }
    return {{"scenario", options.bench.scenario}, {"rounds_asked", options.rounds},
            {"ratios_against", base ? Report(base->url) : Report()}, {"better", better}, {"relays", out_relays},
            {"rounds", std::move(rounds)}};
}

}  // namespace

std::vector<std::size_t> round_order(std::size_t relays, unsigned round) {
    std::vector<std::size_t> order(relays);
    for (std::size_t i = 0; i < relays; ++i) order[i] = round % 2 ? relays - 1 - i : i;
    return order;
}

double median(std::vector<double> values) {
    auto const mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(mid), values.end());
    if (values.size() % 2) return values[mid];
    return (values[mid] + *std::max_element(values.begin(), values.begin() + std::ptrdiff_t(mid))) / 2;
}

int run_compare(CompareOptions options, std::ostream& out, std::ostream& err, std::string& error) {
    if (!options.bench.url.empty()) options.urls.insert(options.urls.begin(), options.bench.url);
    if (options.urls.size() < 2) {
        error = "--compare needs two relays or more (--url counts as the first)";
        return 2;
    }
    if (!options.relay_pids.empty() && options.relay_pids.size() != options.urls.size()) {
        error = "--relay-pid with --compare: one per relay, in the same order (0 for a relay not sampled), or none";
        return 2;
    }
    for (auto const& url : options.urls)
        if (!check_url(url, error)) return 2;
    if (!prepare(options.bench, out, error)) return 2;

    std::vector<Relay> relays;
    for (std::size_t i = 0; i < options.urls.size(); ++i) {
        relays.emplace_back().url = options.urls[i];
        relays.back().pid = options.relay_pids.empty() ? 0 : options.relay_pids[i];
    }
    out << "bench " << options.bench.scenario << " against " << relays.size() << " relays, " << options.rounds
        << " rounds in alternating order\n";
    Report rounds = Report::array();
    for (unsigned round = 0; round < options.rounds; ++round) rounds.push_back(run_round(options, relays, round, out, err));

    std::vector<Relay const*> benched;
    for (auto& relay : relays) {
        take_medians(relay);
        if (relay.failure.empty()) benched.push_back(&relay);
    }
    if (!benched.empty()) {
        out << "\nmedian of " << options.rounds << " rounds per relay; ratio: against " << benched.front()->url
            << "; better: the direction in which a figure is better\n";
        print_table(out, benched);
    }
    if (!options.bench.json_path.empty() &&
        !write_report(comparison_json(options, relays, std::move(rounds)), options.bench.json_path, error))
        return 2;
    return benched.size() == relays.size() ? 0 : 2;
}

}  // namespace conformance::bench
