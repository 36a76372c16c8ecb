// Fault injection as main() sets it up: the flags (--admin-port, --fault-profile, ...), and, when one
// of them asks for it, the injector with its admin port and profile. Without them nothing is created
// and the hub consults nothing.
#pragma once

#include "admin_api.hpp"
#include "admin_server.hpp"
#include "faults/injector.hpp"
#include "faults/profile_runner.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace relay::admin {

struct FaultOptions {
    int admin_port = -1;  // none
    std::string admin_host = "127.0.0.1";
    std::string profile;
    std::uint64_t seed = 0;
    double interval_scale = 1.0;
    bool read_only = false;  // the admin port without fault injection: for a relay in production
    CLI::Option* seed_flag = nullptr;

    void add_flags(CLI::App& app);
    // A usage error, as one line for the terminal.
    std::optional<std::string> problem() const;
    bool wanted() const { return admin_port >= 0 || !profile.empty(); }
};

class FaultInjection {
public:
    // Throws boost::system::system_error if the admin port cannot be bound.
    FaultInjection(boost::asio::io_context& ioc, transport::Hub& hub, transport::Logger const& log,
                   FaultOptions const& options, std::size_t max_message_bytes);

    // http://HOST:PORT, with --admin-port.
    std::optional<std::string> admin_url() const;
    void stop();

private:
    std::optional<faults::Injector> injector_;  // none with --admin-read-only
    AdminApi api_;
    std::shared_ptr<AdminServer> server_;
    std::optional<faults::ProfileRunner> profile_;
};

}  // namespace relay::admin
