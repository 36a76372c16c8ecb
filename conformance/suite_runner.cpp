#include "suite_runner.hpp"

#include "client/http_exchange.hpp"
#include "client/tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>

namespace conformance {

namespace net = boost::asio;
using interpreter::ScenarioResult;
using interpreter::Verdict;

namespace {

net::awaitable<bool> accepts_connections(client::Endpoint const& endpoint) {
    boost::beast::tcp_stream stream(co_await net::this_coro::executor);
    try {
        co_await client::connect(stream, endpoint, client::Clock::now() + std::chrono::seconds(2));
        co_return true;
    } catch (client::ConnectionFault const&) {
        co_return false;
    }
}

// Runs `task` on a fresh io_context of its own, for the checks made before and after the suite.
template <class T>
T run_alone(std::function<net::awaitable<T>()> task) {
    net::io_context ioc;
    auto future = net::co_spawn(ioc, std::move(task), net::use_future);
    ioc.run();
    return future.get();
}

}  // namespace

bool relay_reachable(client::Endpoint const& endpoint) {
    return run_alone<bool>([&] { return accepts_connections(endpoint); });
}

double calibrate_latency_ms(client::Endpoint const& endpoint) {
    return run_alone<double>([&]() -> net::awaitable<double> {
        auto const limit = std::chrono::seconds(5);
        double slowest = 0;
        for (int i = 0; i < 5; ++i) {
            auto const began = client::Clock::now();
            try {
                co_await client::http_exchange(endpoint, "GET", "/", {}, began + limit);
            } catch (std::exception const&) {
                // Whatever the answer, how long it took is the measure.
            }
            auto const took = client::Clock::now() - began;
            slowest = std::max(slowest, std::chrono::duration<double, std::milli>(took).count());
            // An exchange that used all its time has said how slow the relay is; a relay that never
            // answers must not hold the run for five of them.
            if (took >= limit) break;
        }
        co_return slowest;
    });
}

std::optional<std::string> tls_problem(client::Endpoint const& endpoint) {
    return run_alone<std::optional<std::string>>([&]() -> net::awaitable<std::optional<std::string>> {
        auto const deadline = client::Clock::now() + std::chrono::seconds(5);
        client::TlsStream stream(co_await net::this_coro::executor, *endpoint.tls);
        try {
            co_await client::connect(boost::beast::get_lowest_layer(stream), endpoint, deadline);
            co_await client::tls_handshake(stream, endpoint.host, deadline);
        } catch (std::exception const& e) {
            co_return e.what();
        }
        co_return std::nullopt;
    });
}

namespace {

class Suite {
public:
    Suite(std::vector<scenario::Scenario const*> const& scenarios, ScenarioTask task, unsigned jobs,
          std::function<void(ScenarioResult const&)> on_done)
        : scenarios_(scenarios), task_(std::move(task)), jobs_(jobs ? jobs : unsigned(scenarios.size())), on_done_(std::move(on_done)),
          results_(scenarios.size()) {}

    std::vector<ScenarioResult> run() {
        for (std::size_t i = 0; i < scenarios_.size(); ++i) results_[i].scenario = scenarios_[i];
        while (running_ < jobs_ && next_ < scenarios_.size()) start(next_++);
        // Stop once every scenario has a verdict: a relay that never finishes a closing handshake must
        // not keep the run alive.
        while (finished_ < scenarios_.size() && ioc_.run_one() > 0) {
        }
        return std::move(results_);
    }

private:
    void start(std::size_t index) {
        ++running_;
        net::co_spawn(ioc_, task_(*scenarios_[index]),
                      [this, index](std::exception_ptr e, ScenarioResult result) { finish(index, e, std::move(result)); });
    }

    void finish(std::size_t index, std::exception_ptr e, ScenarioResult result) {
        --running_;
        if (e) {
            result.scenario = scenarios_[index];
            result.verdict = Verdict::error;
            try {
                std::rethrow_exception(e);
            } catch (std::exception const& ex) {
                result.failure = interpreter::Failure{scenarios_[index]->requirements.front(), 0, {}, {}, {}, std::string("runner fault: ") + ex.what(), {}};
            }
        }
        // Once the relay is gone, what could not run is NOTRUN, not ERROR.
        relay_down_ = relay_down_ || result.relay_gone;
        if (result.connection_refused && relay_down_) result.verdict = Verdict::notrun;
        results_[index] = std::move(result);
        ++finished_;
        if (on_done_) on_done_(results_[index]);
        while (running_ < jobs_ && next_ < scenarios_.size()) {
            if (relay_down_) {
                results_[next_].verdict = Verdict::notrun;
                ++finished_;
                if (on_done_) on_done_(results_[next_]);
                ++next_;
                continue;
            }
            start(next_++);
        }
    }

    std::vector<scenario::Scenario const*> const& scenarios_;
    ScenarioTask task_;
    unsigned jobs_;
    std::function<void(ScenarioResult const&)> on_done_;
    std::vector<ScenarioResult> results_;
    net::io_context ioc_{1};
    std::size_t next_ = 0;
    std::size_t finished_ = 0;
    unsigned running_ = 0;
    bool relay_down_ = false;
};

}  // namespace

std::vector<ScenarioResult> run_tasks(std::vector<scenario::Scenario const*> const& scenarios, ScenarioTask task, unsigned jobs,
                                      std::function<void(ScenarioResult const&)> on_done) {
    return Suite(scenarios, std::move(task), jobs, std::move(on_done)).run();
}

std::vector<ScenarioResult> run_suite(std::vector<scenario::Scenario const*> const& scenarios,
                                      interpreter::RunSettings const& settings, unsigned jobs,
                                      std::function<void(ScenarioResult const&)> on_done) {
    // A refused connection may mean the relay died: asked on the suite's io_context, so that no other
    // scenario's arrivals wait for the answer.
    auto task = [&settings](scenario::Scenario const& scenario) -> net::awaitable<ScenarioResult> {
        auto result = co_await interpreter::run_scenario(scenario, settings);
        if (result.connection_refused) result.relay_gone = !co_await accepts_connections(settings.endpoint);
        co_return result;
    };
    return run_tasks(scenarios, task, jobs, std::move(on_done));
}

std::vector<ScenarioResult> run_repeated(std::vector<scenario::Scenario const*> const& scenarios,
                                         interpreter::RunSettings const& settings, unsigned jobs, unsigned repeat,
                                         std::function<void(ScenarioResult const&)> on_done) {
    return fold_repeated(repeat, [&] { return run_suite(scenarios, settings, jobs, on_done); });
}

std::vector<ScenarioResult> fold_repeated(unsigned repeat, std::function<std::vector<ScenarioResult>()> run_once) {
    auto folded = run_once();
    if (repeat <= 1) return folded;
    for (auto& r : folded) r.runs = {r.verdict};
    for (unsigned run = 1; run < repeat; ++run) {
        auto again = run_once();
        for (std::size_t i = 0; i < folded.size(); ++i) {
            auto& f = folded[i];
            f.runs.push_back(again[i].verdict);
            // Keep the details of the first run that did not pass.
            if (interpreter::compatible(f.verdict) && !interpreter::compatible(again[i].verdict)) {
                auto runs = std::move(f.runs);
                f = std::move(again[i]);
                f.runs = std::move(runs);
            }
        }
    }
    for (auto& f : folded) {
        bool const same = std::all_of(f.runs.begin(), f.runs.end(), [&](Verdict v) { return v == f.runs.front(); });
        if (same) continue;
        f.verdict = Verdict::flaky;
        std::string each;
        for (auto v : f.runs) each += std::string(each.empty() ? "" : " ") + interpreter::to_string(v);
        if (!f.failure)
            f.failure = interpreter::Failure{f.scenario->requirements.front(), 0, {}, {"the same verdict in every run"}, each, "flaky", {}};
        f.failure->message = "verdicts differ between runs: " + each + (f.failure->message.empty() ? "" : "; " + f.failure->message);
    }
    return folded;
}

}  // namespace conformance
