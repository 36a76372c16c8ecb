#include "profile.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace relay::faults {

std::vector<std::string> const& Profile::names() {
    static std::vector<std::string> const all{"data-drops", "control-resets", "slow-delivery"};
    return all;
}

Profile::Profile(ProfileSettings settings) : settings_(std::move(settings)), random_(settings_.seed) {
    auto const& all = names();
    if (std::find(all.begin(), all.end(), settings_.name) == all.end())
        throw std::invalid_argument("unknown fault profile " + settings_.name);
}

// Uniform in [low, high] milliseconds, scaled, at least 1 ms. Drawn with a modulo rather than a
// std::uniform_int_distribution, whose output the standard leaves to each library.
milliseconds Profile::scaled_between(std::int64_t low_ms, std::int64_t high_ms) {
    auto const drawn = low_ms + std::int64_t(random_() % std::uint64_t(high_ms - low_ms + 1));
    return milliseconds(std::max<std::int64_t>(1, std::llround(double(drawn) * settings_.interval_scale)));
}

Profile::Step Profile::next() {
    auto const& name = settings_.name;
    // The intervals and delays of docs/daemon-development.md, "Fault profiles".
    auto const after = name == "data-drops"       ? scaled_between(20'000, 60'000)
                       : name == "control-resets" ? scaled_between(30'000, 90'000)
                                                  : scaled_between(10'000, 30'000);
    auto const pick = random_();
    auto const delay = scaled_between(100, 2'000);
    auto const lasting = scaled_between(5'000, 15'000);
    return {after, pick, delay, lasting};
}

SocketSelector Profile::candidates() const {
    if (settings_.name == "data-drops") return {core::Version::v2, {}, "data", {}, {}};
    if (settings_.name == "control-resets") return {core::Version::v2, {}, "control", {}, {}};
    return {};
}

Command Profile::fault(Step const& step, core::Admission const& victim) const {
    if (settings_.name == "data-drops")
        return DropSockets{{core::Version::v2, victim.server_id, "data", victim.connection_id, {}}};
    if (settings_.name == "control-resets") return CloseControls{victim.server_id};
    return DelayDelivery{{victim.version, victim.server_id, {}, {}, {}}, step.delay, step.lasting};
}

}  // namespace relay::faults
