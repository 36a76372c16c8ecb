// Named fault profiles for soak tests (--fault-profile NAME --fault-seed N): a fault every so often,
// its time and its victim drawn from a generator seeded with N, so the same seed against the same
// traffic injects the same sequence. Pure: what to inject and when; the ProfileRunner does it.
#pragma once

#include "command.hpp"
#include "selector.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace relay::faults {

struct ProfileSettings {
    std::string name;
    std::uint64_t seed = 0;
    double interval_scale = 1.0;  // every time the profile draws is multiplied by it
};

class Profile {
public:
    static std::vector<std::string> const& names();

    // Throws std::invalid_argument for a name not in names().
    explicit Profile(ProfileSettings settings);

    // One fault: when, after the previous one (or the start), and which of the candidates.
    struct Step {
        milliseconds after;
        std::uint64_t pick;  // of candidates(), modulo their number, in opening order
        milliseconds delay;    // slow-delivery: how much later frames arrive
        milliseconds lasting;  // slow-delivery: for how long
    };
    // Every step draws the same four numbers, whatever the profile, so a seed's sequence never shifts.
    Step next();

    ProfileSettings const& settings() const { return settings_; }
    // The sockets a victim is picked from.
    SocketSelector candidates() const;
    // The fault for the picked socket.
    Command fault(Step const& step, core::Admission const& victim) const;

private:
    milliseconds scaled_between(std::int64_t low_ms, std::int64_t high_ms);

    ProfileSettings settings_;
    std::mt19937_64 random_;  // the standard fixes its output for a seed, on every platform
};

}  // namespace relay::faults
