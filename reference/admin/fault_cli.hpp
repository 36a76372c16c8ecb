// `reference-relay fault --admin URL KIND [options]`: one fault, or a look at the active ones, through a
// running relay's admin port (docs/daemon-development.md, "Fault injection").
#pragma once

#include <CLI/CLI.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace relay::admin {

class FaultCli {
public:
    // Adds the `fault` subcommand, with one subcommand per request, to the relay's command line.
    explicit FaultCli(CLI::App& app);
    FaultCli(FaultCli const&) = delete;
    FaultCli& operator=(FaultCli const&) = delete;

    bool chosen() const { return fault_->parsed(); }
    // Sends the request; prints the relay's JSON answer on stdout. Returns the exit code.
    int run() const;

private:
    // Each subcommand, once parsed, sets the request it stands for; `body` builds its JSON body.
    void request(CLI::App* command, boost::beast::http::verb method, std::string path, std::function<nlohmann::json()> body);
    void add_selector(CLI::App* command);
    nlohmann::json selector() const;
    // `body` with `more` and the --for-ms a standing fault may take.
    nlohmann::json with(nlohmann::json body, nlohmann::json const& more) const;

    CLI::App* fault_;
    std::string admin_url_;
    boost::beast::http::verb method_ = boost::beast::http::verb::get;
    std::string path_;
    nlohmann::json body_ = nlohmann::json::object();

    std::string server_id_, version_, role_, connection_id_, reason_, id_, refusal_body_;
    std::uint64_t socket_ = 0;
    unsigned code_ = 0, status_ = 503;
    std::uint64_t ms_ = 0, for_ms_ = 0, bytes_ = 0;
    bool reset_ = false;
};

}  // namespace relay::admin
