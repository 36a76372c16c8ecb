// `relay-conformance bench --compare`: the same load against several relays in one run, round after
// round in alternating order, each figure's median per relay side by side with its ratio to the first.
#pragma once

#include "bench/bench.hpp"

#include <vector>

namespace conformance::bench {

struct CompareOptions {
    BenchOptions bench;              // the load; url (if set, the first relay) and relay_pid are per relay
    std::vector<std::string> urls;   // the relays, after bench.url if that is set
    std::vector<int> relay_pids;     // empty, or one per relay (0: none sampled)
    unsigned rounds = 3;
};

// The relays' indexes in the order round `round` (from 0) runs them: forward, backward, forward...,
// so that a machine growing busier or quieter over the run weighs on every relay alike.
std::vector<std::size_t> round_order(std::size_t relays, unsigned round);

// The median of `values` (the mean of the middle two for an even count); `values` must not be empty.
double median(std::vector<double> values);

// Runs the comparison and prints the table to `out`; a relay that cannot be benched is one line on
// `err`, left out, and the others are still compared. Returns 0 if every relay was benched, 2 if one
// could not be or the options are wrong (then `error` says why).
int run_compare(CompareOptions options, std::ostream& out, std::ostream& err, std::string& error);

}  // namespace conformance::bench
