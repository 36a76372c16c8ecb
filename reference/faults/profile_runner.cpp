#include "profile_runner.hpp"

#include <sstream>

namespace relay::faults {

ProfileRunner::ProfileRunner(boost::asio::io_context& ioc, Injector& injector, transport::Logger const& log, Profile profile)
    : timer_(ioc), injector_(injector), log_(log), profile_(std::move(profile)) {}

void ProfileRunner::start() {
    auto const& s = profile_.settings();
    std::ostringstream scale;
    scale << s.interval_scale;
    log_.log(transport::LogLevel::warn, "fault profile " + s.name + " seed " + std::to_string(s.seed) + " interval scale " +
                                            scale.str() + " (replay with --fault-profile " + s.name + " --fault-seed " +
                                            std::to_string(s.seed) + ")");
    injector_.show_profile(status());
    schedule();
}

void ProfileRunner::schedule() {
    auto const step = profile_.next();
    timer_.expires_after(step.after);
    timer_.async_wait([this, step](boost::system::error_code ec) {
        if (ec) return;  // stopped
        inject(step);
        schedule();
    });
}

void ProfileRunner::inject(Profile::Step const& step) {
    auto const& s = profile_.settings();
    auto const origin = "profile " + s.name + " seed " + std::to_string(s.seed) + " #" + std::to_string(++injected_);
    auto const candidates = profile_.candidates();
    if (auto victim = injector_.pick(candidates, step.pick))
        injector_.apply(profile_.fault(step, victim->admission), origin);
    else
        log_.log(transport::LogLevel::warn, "fault (" + origin + "): skipped, no socket to act on");
    injector_.show_profile(status());
}

nlohmann::json ProfileRunner::status() const {
    auto const& s = profile_.settings();
    return {{"name", s.name}, {"seed", s.seed}, {"interval_scale", s.interval_scale}, {"injected", injected_}};
}

}  // namespace relay::faults
