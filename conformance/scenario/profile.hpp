// A protocol profile (profiles/NAME/profile.json, profiles/profile.schema.json): which requirements
// document and scenario folder belong to one relay protocol, the variables every scenario run gets
// fresh, and how a scenario's socket becomes a request target. Paseo is the default profile.
#pragma once

#include "matcher/pattern.hpp"
#include "scenario/model.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace conformance::scenario {

struct Profile {
    std::string name;
    std::string title;
    std::string clients;  // whose clients depend on the relay, for report headlines
    std::filesystem::path requirements;  // the requirements document, resolved
    std::string requirement_pattern;     // every requirement id the profile's scenarios cite matches it
    std::filesystem::path scenarios;     // the scenario folder, resolved
    std::vector<std::string> variables;  // fresh and unique per scenario run, like ${serverId}
    std::string socket_path = "/ws";     // a socket's path when it gives none
    std::vector<std::string> query_fields;         // socket fields that become the query, in this order
    std::map<std::string, std::string> defaults;   // query field -> value when the socket leaves it out
    // The client side (relay-conformance check-client): empty where the profile has none.
    std::filesystem::path client_requirements;  // resolved
    std::string client_requirement_pattern;
    std::filesystem::path client_scenarios;     // resolved

    // Paseo's addressing and variables, for loaders and interpreters given no profile (files need not exist).
    static Profile paseo();
};

// Reads and checks one profile file; paths in it are relative to `root` (the folder holding profiles/).
// Throws LoadError as `FILE: /field: message`, one line per problem.
Profile load_profile(std::filesystem::path const& file, std::filesystem::path const& root);

// The profile `name` under root/profiles/. Unknown: LoadError `unknown profile "x"; known profiles: a, b`.
Profile find_profile(std::filesystem::path const& root, std::string const& name);

// The profile as its client checks see it: the client requirements, their id pattern and the client
// scenario folder in place of the relay's, and no fresh variables (client scenarios capture their
// values). Throws LoadError if the profile has no client side.
Profile client_side(Profile const& profile);

// Names of every root/profiles/*/profile.json, sorted.
std::vector<std::string> known_profiles(std::filesystem::path const& root);

// The request target of `socket` under `profile`: its path (or the profile's) and its query, both with
// variables substituted; the profile's query fields percent-encoded, in the profile's order.
// Throws matcher::UnknownVariable.
std::string socket_target(SocketSpec const& socket, Profile const& profile, matcher::Variables const& vars);

// A fresh value for each of the profile's variables: the scenario id, a dash and 16 random hex digits.
matcher::Variables fresh_variables(Profile const& profile, std::string const& scenario_id);

}  // namespace conformance::scenario
