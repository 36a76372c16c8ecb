#include "admin_api.hpp"

#include "metrics.hpp"
#include "stats.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>

namespace relay::admin {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

// Ids and reasons are the bytes clients sent, which need not be UTF-8.
AdminReply reply(unsigned status, json const& body) {
    return {status, body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

AdminReply error(unsigned status, std::string message) { return reply(status, {{"error", std::move(message)}}); }

}  // namespace

AdminReply AdminApi::answer(http::verb method, std::string_view target, std::string_view body) {
    auto const path = target.substr(0, target.find('?'));
    bool const watching = path == "/stats" || path == "/metrics" || path == "/ready";
    bool const faulting = path == "/faults" || path == "/sockets" || (path.starts_with("/faults/") && path.size() > 8);
    // What a wrong request is told it may ask instead.
    std::string const endpoints = injector_ ? "GET /faults, GET /sockets, GET /stats, GET /metrics, GET /ready, "
                                              "POST /faults/KIND, DELETE /faults[/ID]"
                                            : "GET /stats, GET /metrics, GET /ready";
    if (watching && method == http::verb::get) {
        if (path == "/stats") return reply(200, relay_stats(hub_));
        if (path == "/metrics") return {200, render_metrics(hub_), metrics_content_type};
        // A load balancer's health check: 503 while draining takes the relay out before its sockets close.
        return reply(hub_.ready() ? 200 : 503, {{"ready", hub_.ready()}});
    }
    if (faulting && !injector_)
        return error(403, std::string(path) + " is fault injection, which --admin-read-only turns off: " + endpoints);
    if (faulting) {
        if (auto answer = fault_api(method, path, body)) return *answer;
    }
    if (watching || faulting)
        return error(405, std::string(http::to_string(method)) + " " + std::string(path) + " is not part of the API: " + endpoints);
    return error(404, "no such endpoint " + std::string(path) + ": " + endpoints);
}

std::optional<AdminReply> AdminApi::fault_api(http::verb method, std::string_view path, std::string_view body) {
    std::string_view const faults = "/faults";
    bool const under_faults = path.starts_with("/faults/") && path.size() > faults.size() + 1;
    auto const name = under_faults ? path.substr(faults.size() + 1) : std::string_view();

    if (path == "/faults" && method == http::verb::get) return reply(200, injector_->standing());
    if (path == "/faults" && method == http::verb::delete_) {
        injector_->clear_all();
        return reply(200, injector_->standing());
    }
    if (path == "/sockets" && method == http::verb::get) return reply(200, {{"sockets", injector_->sockets()}});
    if (under_faults && method == http::verb::post) return inject(name, body);
    if (under_faults && method == http::verb::delete_) {
        if (!injector_->clear(std::string(name)))
            return error(404, "no standing fault " + std::string(name) + "; GET /faults lists them");
        return reply(200, injector_->standing());
    }
    return std::nullopt;
}

AdminReply AdminApi::inject(std::string_view kind, std::string_view body) {
    auto parsed = body.empty() ? json::object() : json::parse(body, nullptr, false);
    if (parsed.is_discarded()) return error(400, "the body is not JSON");
    std::optional<faults::Command> command;
    try {
        command = faults::command_from_json(kind, parsed);
    } catch (std::invalid_argument const& e) {
        return error(400, std::string(kind) + ": " + e.what());
    } catch (json::exception const&) {
        return error(400, std::string(kind) + ": a field has the wrong type; see docs/daemon-development.md, \"Fault injection\"");
    }
    if (!command)
        return error(404, "no fault " + std::string(kind) +
                              ": close-control, close, drop, restart, delay, max-message-bytes, refuse-upgrades");
    auto result = injector_->apply(*command, "admin");
    if (result.contains("sockets") && result["sockets"].empty() && !std::holds_alternative<faults::Restart>(*command))
        return error(404, "no open socket matches; GET /sockets lists them");
    return reply(200, result);
}

}  // namespace relay::admin
