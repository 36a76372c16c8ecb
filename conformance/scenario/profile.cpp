#include "scenario/profile.hpp"

#include "scenario/loader.hpp"
#include "scenario/schema_validator.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>

namespace conformance::scenario {

namespace fs = std::filesystem;

namespace {

Json read_json(fs::path const& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw LoadError(file.string() + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    try {
        return Json::parse(text.str());
    } catch (Json::parse_error const& e) {
        throw LoadError(file.string() + ": not valid JSON: " + e.what());
    }
}

// encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is percent-encoded.
std::string encode_component(std::string const& value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if (std::isalnum(c) || std::string_view("-_.!~*'()").find(char(c)) != std::string_view::npos) {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string random_hex(std::size_t digits) {
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < digits; ++i) out += hex[engine() & 15];
    return out;
}

}  // namespace

Profile Profile::paseo() {
    Profile p;
    p.name = "paseo";
    p.title = "Paseo relay protocol";
    p.clients = "Paseo";
    p.requirement_pattern = "^[A-Z0-9]+(-[A-Z0-9]+)*-[0-9]+$";
    p.variables = {"serverId"};
    p.socket_path = "/ws";
    p.query_fields = {"serverId", "v", "role", "connectionId"};
    p.defaults = {{"serverId", "${serverId}"}};
    p.client_requirement_pattern = "^(DAEMON|APP)-[0-9]+$";
    return p;
}

Profile load_profile(fs::path const& file, fs::path const& root) {
    auto const j = read_json(file);
    std::vector<std::string> problems;
    for (auto const& error : SchemaValidator(read_json(root / "profiles" / "profile.schema.json")).validate(j))
        problems.push_back(file.string() + ": " + (error.pointer.empty() ? "/" : error.pointer) + ": " + error.message);
    if (problems.empty()) {
        for (auto const* key : {"requirement_pattern", "client_requirement_pattern"}) {
            try {
                if (j.contains(key)) std::regex(j.at(key).get<std::string>(), std::regex::ECMAScript);
            } catch (std::regex_error const&) {
                problems.push_back(file.string() + ": /" + key + ": not a valid regular expression");
            }
        }
        auto const& sockets = j.at("sockets");
        auto const fields = sockets.value("query_fields", std::vector<std::string>{});
        auto const defaults = sockets.value("defaults", Json::object());
        for (auto const& [field, _] : defaults.items())
            if (std::find(fields.begin(), fields.end(), field) == fields.end())
                problems.push_back(file.string() + ": /sockets/defaults/" + field + ": not one of /sockets/query_fields");
        std::set<std::string> seen;
        for (auto const& name : j.at("variables"))
            if (!seen.insert(name.get<std::string>()).second)
                problems.push_back(file.string() + ": /variables: \"" + name.get<std::string>() + "\" given twice");
    }
    if (!problems.empty()) {
        std::string message;
        for (auto const& line : problems) message += (message.empty() ? "" : "\n") + line;
        throw LoadError(message);
    }
    Profile p;
    j.at("name").get_to(p.name);
    j.at("title").get_to(p.title);
    p.clients = j.value("clients", p.title);
    p.requirements = root / j.at("requirements").get<std::string>();
    j.at("requirement_pattern").get_to(p.requirement_pattern);
    p.scenarios = root / j.at("scenarios").get<std::string>();
    j.at("variables").get_to(p.variables);
    auto const& sockets = j.at("sockets");
    sockets.at("path").get_to(p.socket_path);
    p.query_fields = sockets.value("query_fields", std::vector<std::string>{});
    p.defaults = sockets.value("defaults", std::map<std::string, std::string>{});
    if (j.contains("client_requirements")) p.client_requirements = root / j.at("client_requirements").get<std::string>();
    p.client_requirement_pattern = j.value("client_requirement_pattern", std::string());
    if (j.contains("client_scenarios")) p.client_scenarios = root / j.at("client_scenarios").get<std::string>();
    return p;
}

Profile client_side(Profile const& profile) {
    if (profile.client_requirement_pattern.empty())
        throw LoadError("profile " + profile.name + " has no client checks (client_requirements, client_requirement_pattern, client_scenarios)");
    Profile p = profile;
    p.requirements = profile.client_requirements;
    p.requirement_pattern = profile.client_requirement_pattern;
    p.scenarios = profile.client_scenarios;
    p.variables.clear();
    p.defaults.clear();
    return p;
}

std::vector<std::string> known_profiles(fs::path const& root) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto const& entry : fs::directory_iterator(root / "profiles", ec))
        if (fs::is_regular_file(entry.path() / "profile.json")) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

Profile find_profile(fs::path const& root, std::string const& name) {
    auto const names = known_profiles(root);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        std::string known;
        for (auto const& n : names) known += (known.empty() ? "" : ", ") + n;
        throw LoadError("unknown profile \"" + name + "\"; known profiles: " + (known.empty() ? "none" : known));
    }
    return load_profile(root / "profiles" / name / "profile.json", root);
}

std::string socket_target(SocketSpec const& socket, Profile const& profile, matcher::Variables const& vars) {
    std::string query;
    if (socket.query) {
        query = matcher::substitute(*socket.query, vars);
    } else {
        for (auto const& field : profile.query_fields) {
            auto given = socket.fields.find(field);
            auto fallback = profile.defaults.find(field);
            std::string const* value = given != socket.fields.end() ? &given->second
                                       : fallback != profile.defaults.end() ? &fallback->second
                                                                            : nullptr;
            if (!value) continue;
            query += (query.empty() ? "" : "&") + field + "=" + encode_component(matcher::substitute(*value, vars));
        }
    }
    auto const path = matcher::substitute(socket.path.value_or(profile.socket_path), vars);
    return path + (query.empty() ? "" : "?" + query);
}

matcher::Variables fresh_variables(Profile const& profile, std::string const& scenario_id) {
    matcher::Variables vars;
    for (auto const& name : profile.variables) vars[name] = scenario_id + "-" + random_hex(8);
    return vars;
}

}  // namespace conformance::scenario
