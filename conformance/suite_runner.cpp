#include "suite_runner.hpp"

#include "client/http_exchange.hpp"
#include "client/tls.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace conformance {

namespace net = boost::asio;
using interpreter::ScenarioResult;
using interpreter::Verdict;

bool relay_reachable(client::Endpoint const& endpoint) {
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    net::ip::tcp::resolver resolver(ioc);
    bool connected = false;
    resolver.async_resolve(endpoint.host, endpoint.port, [&](boost::system::error_code ec, auto results) {
        if (ec) return;
        net::async_connect(socket, results, [&](boost::system::error_code e, auto const&) { connected = !e; });
    });
    ioc.run_for(std::chrono::seconds(2));
    return connected;
}

std::optional<std::string> tls_problem(client::Endpoint const& endpoint) {
    net::io_context ioc;
    std::optional<std::string> problem;
    auto const check = [&]() -> net::awaitable<void> {
        auto const deadline = client::Clock::now() + std::chrono::seconds(5);
        client::TlsStream stream(ioc, *endpoint.tls);
        co_await client::connect(boost::beast::get_lowest_layer(stream), endpoint, deadline);
        co_await client::tls_handshake(stream, endpoint.host, deadline);
    };
    net::co_spawn(ioc, check, [&](std::exception_ptr e) {
        try {
            if (e) std::rethrow_exception(e);
        } catch (std::exception const& ex) {
            problem = ex.what();
        }
    });
    ioc.run();
    return problem;
}

namespace {

class Suite {
public:
    Suite(std::vector<scenario::Scenario const*> const& scenarios, interpreter::RunSettings const& settings, unsigned jobs,
          std::function<void(ScenarioResult const&)> on_done)
        : scenarios_(scenarios), settings_(settings), jobs_(jobs ? jobs : unsigned(scenarios.size())), on_done_(std::move(on_done)),
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
        net::co_spawn(ioc_, interpreter::run_scenario(*scenarios_[index], settings_),
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
                result.failure = interpreter::Failure{scenarios_[index]->requirements.front(), 0, {}, {}, {}, ex.what(), {}};
            }
        }
        // A refused connection may mean the relay died: if so, what could not run is NOTRUN, not ERROR.
        if (result.connection_refused && !relay_down_ && !relay_reachable(settings_.endpoint)) relay_down_ = true;
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
    interpreter::RunSettings settings_;
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

std::vector<ScenarioResult> run_suite(std::vector<scenario::Scenario const*> const& scenarios,
                                      interpreter::RunSettings const& settings, unsigned jobs,
                                      std::function<void(ScenarioResult const&)> on_done) {
    return Suite(scenarios, settings, jobs, std::move(on_done)).run();
}

}  // namespace conformance
