#include "client_checks.hpp"

#include "client_process.hpp"
#include "server/listener.hpp"
#include "suite_runner.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace conformance {

namespace net = boost::asio;
using interpreter::ScenarioResult;

namespace {

// SIGTERM to the client's group, SIGKILL to what is left of it after the grace period.
net::awaitable<void> stop(ClientProcess& process) {
    process.terminate();
    net::steady_timer poll(co_await net::this_coro::executor);
    auto const until = client::Clock::now() + std::chrono::seconds(ClientProcess::grace_seconds);
    while (!process.ended() && client::Clock::now() < until) {
        poll.expires_after(std::chrono::milliseconds(20));
        co_await poll.async_wait(net::use_awaitable);
    }
    process.kill();
}

}  // namespace

std::vector<ScenarioResult> run_client_checks(std::vector<scenario::Scenario const*> const& scenarios,
                                              interpreter::RunSettings const& settings, ClientCheckSettings& checks,
                                              std::function<void(ScenarioResult const&)> on_done) {
    // A client the user started stays from scenario to scenario on one port, bound before the first.
    std::shared_ptr<server::Listener> shared;
    auto task = [&](scenario::Scenario const& scenario) -> net::awaitable<ScenarioResult> {
        auto const executor = co_await net::this_coro::executor;
        auto run = settings;
        if (checks.client_cmd.empty()) {
            if (!shared) {
                shared = std::make_shared<server::Listener>(executor, checks.port);
                shared->start();
                checks.port = shared->port();  // --repeat: the same port again
                if (checks.on_listening && !checks.announced) checks.on_listening(shared->url());
                checks.announced = true;
            }
            run.listener = shared.get();
            run.close_at_end = true;
            co_return co_await interpreter::run_scenario(scenario, run);
        }
        auto listener = std::make_shared<server::Listener>(executor, 0);
        listener->start();
        run.listener = listener.get();
        std::optional<ClientProcess> process;
        process.emplace(checks.client_cmd, listener->url(), listener->port());
        auto result = co_await interpreter::run_scenario(scenario, run);
        co_await stop(*process);
        result.client_output = process->last_lines();
        listener->stop();
        co_return result;
    };
    auto results = run_tasks(scenarios, task, checks.client_cmd.empty() ? 1 : checks.jobs, std::move(on_done));
    if (shared) shared->stop();
    return results;
}

}  // namespace conformance
