#include "fault_cli.hpp"

#include "admin_client.hpp"

#include <functional>
#include <iostream>
#include <stdexcept>

namespace relay::admin {

namespace http = boost::beast::http;
using nlohmann::json;

FaultCli::FaultCli(CLI::App& app) {
    fault_ = app.add_subcommand("fault", "Inject a fault into a running reference-relay through its admin port (--admin-port)");
    fault_->add_option("--admin", admin_url_, "The admin URL the relay printed (its second stdout line), e.g. http://127.0.0.1:41238")
        ->envname("RELAY_ADMIN")
        ->required();
    fault_->require_subcommand(1);
    fault_->footer("Prints the relay's JSON answer. Exit codes: 0 done, 1 refused or unreachable (one line on stderr), 2 bad arguments.\n"
                   "Example: reference-relay fault --admin http://127.0.0.1:41238 drop --role data --connection-id app-1");

    request(fault_->add_subcommand("list", "List the standing faults (delays, pauses, cap, refused upgrades, profile)"),
            http::verb::get, "/faults", {});
    request(fault_->add_subcommand("sockets", "List the open sockets and their numbers"), http::verb::get, "/sockets", {});

    auto* close_control = fault_->add_subcommand("close-control", "Close a v2 session's control socket(s) now, as the watchdog does");
    close_control->add_option("--server-id", server_id_, "The session's serverId")->required();
    close_control->add_option("--code", code_, "Close code")->default_val(1011);
    close_control->add_option("--reason", reason_, "Close reason")->default_val("Control unresponsive");
    request(close_control, http::verb::post, "/faults/close-control",
            [this] { return json{{"server_id", server_id_}, {"code", code_}, {"reason", reason_}}; });

    auto* close = fault_->add_subcommand("close", "Close the selected sockets with a close frame");
    add_selector(close);
    close->add_option("--code", code_, "Close code (1000-1003, 1007-1014, 3000-4999)")->required();
    close->add_option("--reason", reason_, "Close reason");
    request(close, http::verb::post, "/faults/close", [this] {
        auto body = selector();
        body.update({{"code", code_}, {"reason", reason_}});
        return body;
    });

    auto* drop = fault_->add_subcommand("drop", "Reset the selected sockets' TCP connections, without a close frame");
    add_selector(drop);
    request(drop, http::verb::post, "/faults/drop", [this] { return selector(); });

    auto* restart = fault_->add_subcommand("restart", "Close every socket with 1001 and forget them, as a relay restart");
    restart->add_flag("--reset", reset_, "Reset every TCP connection instead of closing");
    request(restart, http::verb::post, "/faults/restart", [this] { return json{{"reset", reset_}}; });

    auto* delay = fault_->add_subcommand("delay", "Deliver what the relay sends to the selected sockets MS later, in order");
    add_selector(delay);
    delay->add_option("--ms", ms_, "The delay in milliseconds")->required()->check(CLI::PositiveNumber);
    delay->add_option("--for-ms", for_ms_, "End the delay after this many milliseconds (default: until cleared)");
    request(delay, http::verb::post, "/faults/delay", [this] { return with(selector(), {{"ms", ms_}}); });

    auto* pause = fault_->add_subcommand("pause", "Hold what the relay sends to the selected sockets until resumed");
    add_selector(pause);
    pause->add_option("--for-ms", for_ms_, "Resume by itself after this many milliseconds");
    request(pause, http::verb::post, "/faults/delay", [this] { return with(selector(), {{"pause", true}}); });

    auto* resume = fault_->add_subcommand("resume", "End delays and pauses; what they held goes out at once, in order");
    resume->add_option("--id", id_, "Only this one (delay-N, as `list` shows)");
    request(resume, http::verb::delete_, "/faults/delay", {});

    auto* cap = fault_->add_subcommand("max-message-bytes", "Change the message-size cap now (clear restores --max-message-bytes)");
    cap->add_option("bytes", bytes_, "The new cap in bytes")->required()->check(CLI::PositiveNumber);
    request(cap, http::verb::post, "/faults/max-message-bytes", [this] { return json{{"bytes", bytes_}}; });

    auto* refuse = fault_->add_subcommand("refuse-upgrades", "Answer WebSocket upgrades with an HTTP error instead of 101");
    refuse->add_option("--status", status_, "HTTP status")->capture_default_str()->check(CLI::Range(400, 599));
    refuse->add_option("--body", refusal_body_, "Response body")->default_val("Relay unavailable (fault injection)");
    refuse->add_option("--for-ms", for_ms_, "Admit upgrades again after this many milliseconds (default: until cleared)");
    request(refuse, http::verb::post, "/faults/refuse-upgrades", [this] { return with(json::object(), {{"status", status_}, {"body", refusal_body_}}); });

    auto* clear = fault_->add_subcommand("clear", "End every standing fault, or one (--id, as `list` shows)");
    clear->add_option("--id", id_, "delay-N, delay, max-message-bytes or refuse-upgrades");
    request(clear, http::verb::delete_, "/faults", {});
}

void FaultCli::add_selector(CLI::App* command) {
    command->add_option("--server-id", server_id_, "Sockets of this serverId");
    command->add_option("--version", version_, "v1 or v2")->check(CLI::IsMember({"v1", "v2"}));
    command->add_option("--role", role_, "control, data, client, or server (v1 servers, v2 control and data)")
        ->check(CLI::IsMember({"control", "data", "client", "server"}));
    command->add_option("--connection-id", connection_id_, "v2 sockets of this connection id");
    command->add_option("--socket", socket_, "The socket with this number (as `sockets` and the log show)");
}

json FaultCli::selector() const {
    auto out = json::object();
    if (!server_id_.empty()) out["server_id"] = server_id_;
    if (!version_.empty()) out["version"] = version_;
    if (!role_.empty()) out["role"] = role_;
    if (!connection_id_.empty()) out["connection_id"] = connection_id_;
    if (socket_ != 0) out["socket"] = socket_;
    return out;
}

json FaultCli::with(json body, json const& more) const {
    body.update(more);
    if (for_ms_ != 0) body["for_ms"] = for_ms_;
    return body;
}

void FaultCli::request(CLI::App* command, http::verb method, std::string path, std::function<json()> body) {
    command->callback([this, method, path = std::move(path), body = std::move(body)] {
        method_ = method;
        // resume and clear end one fault when given its id.
        path_ = method == http::verb::delete_ && !id_.empty() ? "/faults/" + id_ : path;
        body_ = body ? body() : json::object();
    });
}

int FaultCli::run() const {
    try {
        auto const body = method_ == http::verb::post ? body_.dump(-1, ' ', false, json::error_handler_t::replace) : std::string();
        auto const answer = call_admin(admin_url_, method_, path_, body);
        if (answer.status / 100 == 2) {
            std::cout << answer.body << std::flush;
            return 0;
        }
        auto const parsed = json::parse(answer.body, nullptr, false);
        auto const message = parsed.is_object() && parsed.contains("error") ? parsed["error"].get<std::string>() : answer.body;
        std::cerr << "reference-relay fault: " << message << " (HTTP " << answer.status << ")\n";
        return 1;
    } catch (std::invalid_argument const& e) {
        std::cerr << "reference-relay fault: " << e.what() << "\n";
        return 2;
    } catch (std::runtime_error const& e) {
        std::cerr << "reference-relay fault: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace relay::admin
