// Runs a fault profile against the live relay: waits each step's time, picks its victim among the
// sockets open then, injects the fault and logs it as one line with the seed, so a run can be replayed.
#pragma once

#include "injector.hpp"
#include "profile.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>

namespace relay::faults {

class ProfileRunner {
public:
    ProfileRunner(boost::asio::io_context& ioc, Injector& injector, transport::Logger const& log, Profile profile);

    void start();
    void stop() { timer_.cancel(); }

private:
    void schedule();
    void inject(Profile::Step const& step);
    nlohmann::json status() const;

    boost::asio::steady_timer timer_;
    Injector& injector_;
    transport::Logger const& log_;
    Profile profile_;
    std::uint64_t injected_ = 0;
};

}  // namespace relay::faults
