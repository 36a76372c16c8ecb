#include "standing_faults.hpp"

#include <algorithm>

namespace relay::faults {

namespace {
std::optional<Clock::time_point> end_of(std::optional<milliseconds> lasting, Clock::time_point now) {
    if (!lasting) return std::nullopt;
    return now + *lasting;
}
}  // namespace

std::string delay_id(std::uint64_t rule) { return "delay-" + std::to_string(rule); }

void StandingFaults::forget_expired(Clock::time_point now) {
    std::erase_if(delays_, [now](DelayRule const& rule) { return rule.ends && *rule.ends <= now; });
    if (refusal_ && refusal_->ends && *refusal_->ends <= now) refusal_.reset();
}

std::optional<Hold> StandingFaults::hold_for(core::SocketId id, core::Admission const& admission, Clock::time_point now) {
    forget_expired(now);
    // A pause holds longest, so it wins; then the longest delay.
    std::optional<Hold> hold;
    for (auto const& rule : delays_) {
        if (!matches(rule.fault.where, id, admission)) continue;
        if (!rule.fault.delay) return Hold{rule.number, rule.ends};  // paused until cleared or until the rule ends
        auto const until = now + *rule.fault.delay;
        if (!hold || (hold->until && *hold->until < until)) hold = Hold{rule.number, until};
    }
    return hold;
}

std::optional<core::HttpReply> StandingFaults::upgrade_refusal(Clock::time_point now) {
    if (!refusal(now)) return std::nullopt;
    return core::HttpReply{refusal_->fault.status, "text/plain", refusal_->fault.body};
}

std::string StandingFaults::add_delay(DelayDelivery fault, Clock::time_point now) {
    auto const ends = end_of(fault.lasting, now);
    delays_.push_back({++last_rule_, std::move(fault), ends});
    return delay_id(last_rule_);
}

std::string StandingFaults::refuse_upgrades(RefuseUpgrades fault, Clock::time_point now) {
    auto const ends = end_of(fault.lasting, now);
    refusal_ = Refusal{std::move(fault), ends};
    return "refuse-upgrades";
}

std::vector<StandingFaults::DelayRule> const& StandingFaults::delays(Clock::time_point now) {
    forget_expired(now);
    return delays_;
}

std::optional<StandingFaults::Refusal> const& StandingFaults::refusal(Clock::time_point now) {
    forget_expired(now);
    return refusal_;
}

std::optional<std::uint64_t> StandingFaults::remove_delay(std::string const& id) {
    auto it = std::find_if(delays_.begin(), delays_.end(), [&id](DelayRule const& rule) { return delay_id(rule.number) == id; });
    if (it == delays_.end()) return std::nullopt;
    auto const number = it->number;
    delays_.erase(it);
    return number;
}

void StandingFaults::remove_delays() { delays_.clear(); }

void StandingFaults::remove_refusal() { refusal_.reset(); }

}  // namespace relay::faults
