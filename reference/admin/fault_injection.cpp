#include "fault_injection.hpp"

#include <boost/asio/ip/address.hpp>

#include <random>

namespace relay::admin {

namespace net = boost::asio;

void FaultOptions::add_flags(CLI::App& app) {
    app.add_option("--admin-port", admin_port,
                   "Serve the fault-injection API on this loopback port (0 picks one; its URL is the second stdout line)")
        ->option_text("PORT (Env:RELAY_ADMIN_PORT)")
        ->envname("RELAY_ADMIN_PORT")
        ->check(CLI::Range(0, 65535));
    app.add_option("--admin-host", admin_host, "Loopback address for --admin-port")
        ->envname("RELAY_ADMIN_HOST")
        ->capture_default_str();
    app.add_flag("--admin-read-only", read_only,
                 "Serve only GET /metrics, /ready and /stats on --admin-port: no fault injection, for a relay in production")
        ->envname("RELAY_ADMIN_READ_ONLY");
    app.add_option("--fault-profile", profile, "Inject faults on a schedule: data-drops, control-resets or slow-delivery")
        ->option_text("NAME (Env:RELAY_FAULT_PROFILE)")
        ->envname("RELAY_FAULT_PROFILE")
        ->check(CLI::IsMember(faults::Profile::names()));
    seed_flag = app.add_option("--fault-seed", seed, "Seed of the profile's draws; the same seed replays the same faults (default: random, logged)")
                    ->option_text("N (Env:RELAY_FAULT_SEED)")
                    ->envname("RELAY_FAULT_SEED");
    app.add_option("--fault-interval-scale", interval_scale, "Multiply every time the profile draws by this (0.01: a hundred times as often)")
        ->envname("RELAY_FAULT_INTERVAL_SCALE")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
}

std::optional<std::string> FaultOptions::problem() const {
    if (read_only && admin_port < 0) return "--admin-read-only restricts the admin port; add --admin-port PORT";
    if (read_only && !profile.empty())
        return "--admin-read-only turns fault injection off, and --fault-profile injects faults; choose one";
    if (profile.empty() && (seed_flag->count() > 0 || interval_scale != 1.0))
        return "--fault-seed and --fault-interval-scale tune a fault profile; add --fault-profile NAME";
    boost::system::error_code ec;
    auto const address = net::ip::make_address(admin_host, ec);
    if (ec || !address.is_loopback())
        return "--admin-host " + admin_host + " is not a loopback address; whoever reaches the admin port can close any "
               "socket, so it listens on 127.0.0.1 or ::1 only";
    return std::nullopt;
}

FaultInjection::FaultInjection(net::io_context& ioc, transport::Hub& hub, transport::Logger const& log,
                               FaultOptions const& options, std::size_t max_message_bytes)
    // The injector only when faults may be injected: with it, every send and upgrade consults it.
    : injector_(options.read_only ? std::nullopt
                                  : std::optional<faults::Injector>(std::in_place, hub, log, max_message_bytes)),
      api_(injector_ ? &*injector_ : nullptr, hub) {
    if (options.admin_port >= 0) {
        auto const endpoint = net::ip::tcp::endpoint(net::ip::make_address(options.admin_host),
                                                     static_cast<unsigned short>(options.admin_port));
        server_ = std::make_shared<AdminServer>(ioc, endpoint, api_, log);
        server_->run();
    }
    if (!options.profile.empty()) {
        auto const seed = options.seed_flag->count() > 0 ? options.seed : std::random_device{}();
        profile_.emplace(ioc, *injector_, log, faults::Profile({options.profile, seed, options.interval_scale}));
        profile_->start();
    }
}

std::optional<std::string> FaultInjection::admin_url() const {
    if (!server_) return std::nullopt;
    auto const endpoint = server_->local_endpoint();
    auto host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(endpoint.port());
}

void FaultInjection::stop() {
    if (server_) server_->stop();
    if (profile_) profile_->stop();
}

}  // namespace relay::admin
