#include "scenario/loader.hpp"

#include "scenario/schema_validator.hpp"

#include <boost/regex.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace conformance::scenario {

namespace fs = std::filesystem;

namespace {

constexpr char const* action_keys[] = {"expect", "open", "send", "close", "drop", "http", "accept", "no_connection", "mark"};

// The steps only one kind of file may hold.
bool relay_only(std::string const& kind) { return kind == "open" || kind == "http"; }
bool client_only(std::string const& kind) { return kind == "accept" || kind == "no_connection"; }

// Collects problems as lines of the form `FILE: scenario "ID" step N (POINTER): message`.
class Problems {
public:
    explicit Problems(std::string file) : file_(std::move(file)) {}
    void add(std::string const& where, std::string const& pointer, std::string const& message) {
        lines_.push_back(file_ + ": " + where + (where.empty() ? "" : " ") + "(" + pointer + "): " + message);
    }
    std::vector<std::string> const& lines() const { return lines_; }

private:
    std::string file_;
    std::vector<std::string> lines_;
};

std::string scenario_label(Json const& scenario, std::size_t index) {
    if (scenario.is_object() && scenario.contains("id") && scenario["id"].is_string())
        return "scenario \"" + scenario["id"].get<std::string>() + "\"";
    return "scenario #" + std::to_string(index + 1);
}

// `scenario "ID"`, with ` step N` when `pointer` is inside a step; "" above the scenarios.
std::string where_of(Json const& doc, std::string const& pointer) {
    static std::regex const in_scenario(R"(^/scenarios/(\d+)(/steps/(\d+))?)");
    std::smatch m;
    if (!std::regex_search(pointer, m, in_scenario) || !doc.at("scenarios").is_array()) return {};
    auto const index = std::stoul(m[1]);
    if (index >= doc.at("scenarios").size()) return {};
    auto const where = scenario_label(doc.at("scenarios")[index], index);
    return m[3].matched ? where + " step " + std::to_string(std::stoul(m[3]) + 1) : where;
}

std::string read_file(fs::path const& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw LoadError(file.string() + ": cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Json::parse keeps only the last of a key an object gives twice, changing what the file says. This
// parses `text` the same way and adds to `repeated` the JSON pointer of every such key.
Json parse_noting_repeated_keys(std::string const& text, std::vector<Json::json_pointer>& repeated) {
    struct Container {
        bool array = false;
        std::size_t items = 0;             // array: elements read so far
        std::string key;                   // object: the member being read
        std::map<std::string, int> given;  // object: how often each key came
    };
    std::vector<Container> open;  // the containers being read, outermost first
    Json::json_pointer at;        // the innermost of them
    using Event = Json::parse_event_t;
    return Json::parse(text, [&](int, Event event, Json const& parsed) {
        if (event == Event::object_start || event == Event::array_start) {
            if (!open.empty()) at.push_back(open.back().array ? std::to_string(open.back().items++) : open.back().key);
            open.emplace_back().array = event == Event::array_start;
        } else if (event == Event::object_end || event == Event::array_end) {
            open.pop_back();
            if (!open.empty()) at.pop_back();
        } else if (event == Event::key) {
            auto& object = open.back();
            object.key = parsed.get<std::string>();
            if (++object.given[object.key] == 2) repeated.push_back(at / object.key);
        } else if (!open.empty() && open.back().array) {  // a scalar element
            ++open.back().items;
        }
        return true;
    });
}

std::string hex_decode(std::string const& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

std::vector<std::string> variables_in(std::string const& text) {
    static std::regex const var(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
    std::vector<std::string> names;
    std::string clean = std::regex_replace(text, std::regex(R"(\$\$\{)"), "");
    for (std::sregex_iterator it(clean.begin(), clean.end(), var), end; it != end; ++it) names.push_back((*it)[1]);
    return names;
}

void collect_captures(Json const& pattern, std::set<std::string>& out) {
    if (pattern.is_object()) {
        if (auto c = pattern.find("$capture"); c != pattern.end() && c->is_string()) out.insert(c->get<std::string>());
        for (auto const& [_, sub] : pattern.items()) collect_captures(sub, out);
    } else if (pattern.is_array()) {
        for (auto const& sub : pattern) collect_captures(sub, out);
    }
}

void check_matcher_keys(Json const& pattern, std::string const& pointer, std::string const& where, Problems& problems) {
    static std::set<std::string> const known{"$any", "$absent", "$integer", "$min", "$max", "$regex", "$capture", "$strict"};
    if (pattern.is_object()) {
        for (auto const& [key, sub] : pattern.items()) {
            if (!key.empty() && key[0] == '$' && !known.count(key))
                problems.add(where, pointer, "unknown matcher key \"" + key + "\"");
            // The operand types the matcher reads, as pyharness checks them: a $capture of an object
            // passed here and then threw in the middle of a run (found by pattern_fuzz).
            if ((key == "$any" || key == "$absent" || key == "$integer") && sub != true)
                problems.add(where, pointer + "/" + key, key + " must be true");
            if ((key == "$min" || key == "$max") && !sub.is_number())
                problems.add(where, pointer + "/" + key, key + " must be a number");
            if ((key == "$regex" || key == "$capture") && !sub.is_string())
                problems.add(where, pointer + "/" + key, key + " must be a string");
            if (key == "$regex" && sub.is_string()) {
                try {
                    boost::regex(sub.get<std::string>(), boost::regex::ECMAScript);  // as the matcher compiles it
                } catch (boost::regex_error const&) {
                    problems.add(where, pointer + "/$regex", "not a valid regular expression");
                }
            }
            check_matcher_keys(sub, pointer + "/" + key, where, problems);
        }
    } else if (pattern.is_array()) {
        for (std::size_t i = 0; i < pattern.size(); ++i) check_matcher_keys(pattern[i], pointer + "/" + std::to_string(i), where, problems);
    }
}

HttpExpectation http_expectation(Json const& j) {
    HttpExpectation e;
    j.at("status").get_to(e.status);
    if (j.contains("body")) e.body = j.at("body");
    if (j.contains("headers"))
        for (auto const& [name, pattern] : j.at("headers").items()) {
            auto lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            e.headers[lower] = pattern;
        }
    return e;
}

FrameMatcher frame_matcher(Json const& j) {
    FrameMatcher f;
    if (j.contains("type")) f.type = j.at("type") == "binary" ? FrameType::binary : FrameType::text;
    if (j.contains("text")) f.text = j.at("text");
    if (j.contains("json")) f.json = j.at("json");
    if (j.contains("msgpack")) f.msgpack = j.at("msgpack");
    f.subset = j.value("subset", false);
    if (j.contains("binary_hex")) f.binary = hex_decode(j.at("binary_hex").get<std::string>());
    if (j.contains("size")) f.size = j.at("size").get<std::uint64_t>();
    f.any = j.value("any", false);
    if (!f.type) {
        if (f.text || f.json) f.type = FrameType::text;
        if (f.binary || f.msgpack) f.type = FrameType::binary;
    }
    return f;
}

EventMatcher event_matcher(Json const& j) {
    if (j.contains("frame")) return frame_matcher(j.at("frame"));
    if (j.contains("close")) {
        CloseMatcher c;
        auto const& close = j.at("close");
        if (close.contains("code")) {
            if (close.at("code").is_array())
                close.at("code").get_to(c.codes);
            else if (close.at("code").is_object())
                c.code_pattern = close.at("code");
            else
                c.codes.push_back(close.at("code").get<std::uint16_t>());
        }
        if (close.contains("reason")) c.reason = close.at("reason");
        return c;
    }
    if (j.contains("ended")) return EndedMatcher{};
    return NothingMatcher{};
}

// What the scenario file says, turned into the model; the file has passed the schema already.
class ScenarioBuilder {
public:
    ScenarioBuilder(Json const& j, std::size_t index, std::string const& file, std::string const& section, Profile const& profile,
                    FileKind kind, Problems& problems)
        : j_(j), index_(index), profile_(profile), problems_(problems) {
        scenario_.file = file;
        scenario_.section = section;
        scenario_.client = kind == FileKind::client;
    }

    Scenario build() {
        j_.at("id").get_to(scenario_.id);
        j_.at("title").get_to(scenario_.title);
        j_.at("requirements").get_to(scenario_.requirements);
        for (std::size_t r = 0; r < scenario_.requirements.size(); ++r)
            check_requirement(scenario_.requirements[r], scenario_label(j_, index_),
                              "/scenarios/" + std::to_string(index_) + "/requirements/" + std::to_string(r));
        scenario_.level = j_.at("level") == "SHOULD" ? Level::should : Level::must;
        j_.at("tags").get_to(scenario_.tags);
        scenario_.timeout_ms = j_.value("timeout_ms", 30000u);
        for (auto const& [name, spec] : j_.at("sockets").items()) {
            if (scenario_.client)
                scenario_.patterns[name] = pattern(name, spec);
            else
                scenario_.sockets[name] = socket(name, spec);
        }
        auto const& steps = j_.at("steps");
        for (std::size_t i = 0; i < steps.size(); ++i) scenario_.steps.push_back(step(steps[i], i));
        return std::move(scenario_);
    }

private:
    std::string where(std::size_t step) const { return scenario_label(j_, index_) + " step " + std::to_string(step + 1); }
    std::string pointer(std::size_t step) const {
        return "/scenarios/" + std::to_string(index_) + "/steps/" + std::to_string(step);
    }

    void check_requirement(std::string const& id, std::string const& place, std::string const& ptr) {
        if (!std::regex_search(id, std::regex(profile_.requirement_pattern)))
            problems_.add(place, ptr, "requirement \"" + id + "\" is not an id of profile " + profile_.name + " (" +
                                          profile_.requirement_pattern + ")");
    }

    void require_known(std::string const& text, std::set<std::string> const& extra, std::string const& place,
                       std::string const& ptr) {
        for (auto const& name : variables_in(text))
            if (!is_profile_variable(name) && !captured_.count(name) && !extra.count(name))
                problems_.add(place, ptr, "${" + name + "} is used before any step captures it");
    }

    SocketSpec socket(std::string const& name, Json const& j) {
        SocketSpec s;
        auto const ptr = "/scenarios/" + std::to_string(index_) + "/sockets/" + name;
        auto const& fields = profile_.query_fields;
        if (j.contains("query") && std::any_of(fields.begin(), fields.end(), [&](auto const& f) { return j.contains(f); })) {
            std::string names;  // Paseo: "serverId, v, role and connectionId"
            for (std::size_t f = 0; f < fields.size(); ++f)
                names += (f == 0 ? "" : f + 1 == fields.size() ? " and " : ", ") + fields[f];
            problems_.add(scenario_label(j_, index_), ptr, "\"query\" replaces " + names + "; give one or the other");
        }
        for (auto const& [key, value] : j.items()) {
            if (key == "query" || key == "path" || key == "headers") continue;
            if (std::find(fields.begin(), fields.end(), key) == fields.end())
                problems_.add(scenario_label(j_, index_), ptr + "/" + key,
                              "not a socket field of profile " + profile_.name + "; give path and query instead");
            else
                s.fields[key] = value.get<std::string>();
        }
        if (j.contains("query")) s.query = j.at("query").get<std::string>();
        if (j.contains("path")) s.path = j.at("path").get<std::string>();
        if (j.contains("headers")) j.at("headers").get_to(s.headers);
        return s;
    }

    // A client scenario's socket: patterns over the request, checked as expect steps' patterns are.
    SocketPattern pattern(std::string const& name, Json const& j) {
        SocketPattern p;
        auto const ptr = "/scenarios/" + std::to_string(index_) + "/sockets/" + name;
        auto const& fields = profile_.query_fields;
        for (auto const& [key, value] : j.items()) {
            if (key == "path") {
                p.path = value;
            } else if (key == "headers") {
                for (auto const& [header, sub] : value.items()) {
                    auto lower = header;
                    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
                    p.headers[lower] = sub;
                }
            } else if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
                problems_.add(scenario_label(j_, index_), ptr + "/" + key, "not a socket field of profile " + profile_.name);
                continue;
            } else {
                p.fields[key] = value;
            }
            check_matcher_keys(value, ptr + "/" + key, scenario_label(j_, index_), problems_);
        }
        return p;
    }

    std::string socket_ref(Json const& step, char const* key, std::size_t i) {
        auto name = step.at(key).get<std::string>();
        if (!scenario_.sockets.count(name) && !scenario_.patterns.count(name)) problems_.add(where(i), pointer(i) + "/" + key, "no socket named \"" + name + "\" in sockets");
        return name;
    }

    Step step(Json const& j, std::size_t i) {
        Step s;
        s.source = j;
        if (j.contains("requirement")) {
            s.requirement = j.at("requirement").get<std::string>();
            check_requirement(*s.requirement, where(i), pointer(i) + "/requirement");
        }
        if (j.contains("note")) s.note = j.at("note").get<std::string>();
        if (j.contains("mark")) s.mark = j.at("mark").get<std::string>();
        s.action = action(j, i);
        if (s.mark) marks_.insert(*s.mark);
        return s;
    }

    Action action(Json const& j, std::size_t i) {
        if (j.contains("expect")) return expect(j, i);
        if (j.contains("open")) {
            OpenStep o{socket_ref(j, "open", i), std::nullopt};
            if (j.contains("refused")) o.refused = http_expectation(j.at("refused"));
            auto const& spec = scenario_.sockets[o.socket];
            for (auto const& [_, value] : spec.fields) require_known(value, {}, where(i), pointer(i));
            for (auto const* field : {&spec.query, &spec.path})
                if (*field) require_known(**field, {}, where(i), pointer(i));
            return o;
        }
        if (j.contains("send")) return send(j, i);
        if (j.contains("accept")) return accept(j, i);
        if (j.contains("no_connection")) {
            NoConnectionStep n{socket_ref(j, "no_connection", i), j.value("within_ms", 1000u)};
            uses_pattern(n.socket, i);
            return n;
        }
        if (j.contains("close"))
            return CloseStep{socket_ref(j, "close", i), j.value("code", std::uint16_t(1000)), j.value("reason", std::string())};
        if (j.contains("drop")) return DropStep{socket_ref(j, "drop", i)};
        if (j.contains("http")) {
            HttpStep h;
            auto const& r = j.at("http");
            h.method = r.value("method", std::string("GET"));
            h.path = r.value("path", std::string("/"));
            if (r.contains("query")) h.query = r.at("query").get<std::string>();
            if (r.contains("headers")) r.at("headers").get_to(h.headers);
            h.response = http_expectation(j.at("response"));
            check_matcher_keys(j.at("response"), pointer(i) + "/response", where(i), problems_);
            return h;
        }
        return MarkStep{};
    }

    AcceptStep accept(Json const& j, std::size_t i) {
        AcceptStep a;
        a.socket = socket_ref(j, "accept", i);
        if (j.contains("refuse")) {
            auto const& r = j.at("refuse");
            a.refuse = Refusal{r.value("status", 503u), r.value("body", std::string()), {}};
            if (r.contains("headers")) r.at("headers").get_to(a.refuse->headers);
        }
        timing(j, i, a.within_ms, a.window);
        uses_pattern(a.socket, i);
        if (auto it = scenario_.patterns.find(a.socket); it != scenario_.patterns.end()) {
            for (auto const* values : {&it->second.fields, &it->second.headers})
                for (auto const& [_, value] : *values) collect_captures(value, captured_);
            if (it->second.path) collect_captures(*it->second.path, captured_);
        }
        return a;
    }

    // A step that matches requests against a socket's pattern: its ${variables} must have values by then.
    void uses_pattern(std::string const& socket, std::size_t i) {
        auto it = scenario_.patterns.find(socket);
        if (it == scenario_.patterns.end()) return;
        for (auto const* values : {&it->second.fields, &it->second.headers})
            for (auto const& [_, value] : *values) require_known(value.dump(), {}, where(i), pointer(i));
        if (it->second.path) require_known(it->second.path->dump(), {}, where(i), pointer(i));
    }

    // within_ms or window, as expect and accept steps take them.
    void timing(Json const& j, std::size_t i, std::optional<std::uint32_t>& within_ms, std::optional<Window>& window) {
        if (j.contains("within_ms")) within_ms = j.at("within_ms").get<std::uint32_t>();
        if (!j.contains("window")) return;
        auto const& w = j.at("window");
        window = Window{w.at("after").get<std::string>(), w.at("min_ms").get<std::uint32_t>(), w.at("max_ms").get<std::uint32_t>()};
        if (!marks_.count(window->after))
            problems_.add(where(i), pointer(i) + "/window/after", "no earlier step sets the mark \"" + window->after + "\"");
        if (within_ms) problems_.add(where(i), pointer(i), "give window or within_ms, not both");
    }

    SendStep send(Json const& j, std::size_t i) {
        SendStep s;
        s.socket = socket_ref(j, "send", i);
        s.repeat = j.value("repeat", 1u);
        int payloads = 0;
        if (j.contains("text")) {
            s.payload = j.at("text").get<std::string>();
            require_known(s.payload, s.repeat > 1 ? std::set<std::string>{"i"} : std::set<std::string>{}, where(i), pointer(i) + "/text");
            ++payloads;
        }
        if (j.contains("json")) {
            s.json = j.at("json");
            require_known(s.json->dump(), s.repeat > 1 ? std::set<std::string>{"i"} : std::set<std::string>{}, where(i), pointer(i) + "/json");
            ++payloads;
        }
        if (j.contains("msgpack")) {
            s.msgpack = j.at("msgpack");
            s.type = FrameType::binary;
            require_known(s.msgpack->dump(), s.repeat > 1 ? std::set<std::string>{"i"} : std::set<std::string>{}, where(i), pointer(i) + "/msgpack");
            ++payloads;
        }
        if (j.contains("binary_hex")) {
            s.payload = hex_decode(j.at("binary_hex").get<std::string>());
            s.type = FrameType::binary;
            s.substitute = false;
            ++payloads;
        }
        if (j.contains("text_hex")) {  // a text frame with exactly these bytes, valid UTF-8 or not
            s.payload = hex_decode(j.at("text_hex").get<std::string>());
            s.type = FrameType::text;
            s.substitute = false;
            ++payloads;
        }
        if (j.contains("fill")) {
            auto const& f = j.at("fill");
            s.payload.assign(f.at("size").get<std::size_t>(), char(f.value("byte", 120)));
            s.type = f.at("type") == "binary" ? FrameType::binary : FrameType::text;
            s.substitute = false;
            ++payloads;
        }
        if (payloads != 1) problems_.add(where(i), pointer(i), "a send step needs exactly one of text, json, msgpack, binary_hex, text_hex, fill");
        return s;
    }

    ExpectStep expect(Json const& j, std::size_t i) {
        ExpectStep e;
        e.socket = socket_ref(j, "expect", i);
        int kinds = 0;
        for (auto const* key : {"frame", "close", "ended", "nothing", "one_of"}) kinds += j.contains(key);
        if (kinds != 1) problems_.add(where(i), pointer(i), "an expect step needs exactly one of frame, close, ended, nothing, one_of");
        if (j.contains("one_of"))
            for (auto const& alt : j.at("one_of")) e.alternatives.push_back(event_matcher(alt));
        else
            e.alternatives.push_back(event_matcher(j));
        timing(j, i, e.within_ms, e.window);
        e.repeat = j.value("repeat", 1u);
        e.skip_other_frames = j.value("skip_other_frames", false);
        check_frame_matchers(j, i);
        check_matcher_keys(j, pointer(i), where(i), problems_);
        collect_captures(j, captured_);
        return e;
    }

    void check_frame_matchers(Json const& j, std::size_t i) {
        auto check = [&](Json const& frame, std::string const& ptr) {
            int kinds = 0;
            for (auto const* key : {"text", "json", "msgpack", "binary_hex", "any"}) kinds += frame.contains(key);
            if (kinds > 1) problems_.add(where(i), ptr, "a frame matcher takes at most one of text, json, msgpack, binary_hex, any");
            if (frame.contains("subset") && !frame.contains("json") && !frame.contains("msgpack"))
                problems_.add(where(i), ptr + "/subset", "subset applies to json and msgpack only");
            if (frame.contains("msgpack") && frame.value("type", "binary") != "binary")
                problems_.add(where(i), ptr + "/type", "msgpack implies a binary frame");
        };
        if (j.contains("frame")) check(j.at("frame"), pointer(i) + "/frame");
        if (j.contains("one_of"))
            for (std::size_t k = 0; k < j.at("one_of").size(); ++k)
                if (j.at("one_of")[k].contains("frame")) check(j.at("one_of")[k].at("frame"), pointer(i) + "/one_of/" + std::to_string(k) + "/frame");
    }

    bool is_profile_variable(std::string const& name) const {
        return std::find(profile_.variables.begin(), profile_.variables.end(), name) != profile_.variables.end();
    }

    Json const& j_;
    std::size_t index_;
    Profile const& profile_;
    Problems& problems_;
    Scenario scenario_;
    std::set<std::string> captured_;
    std::set<std::string> marks_;
};

std::string step_kind(Json const& step) {
    for (auto const* key : action_keys)
        if (step.contains(key)) return key;
    return {};
}

std::vector<Scenario> load_file(fs::path const& file, SchemaValidator const& validator, Profile const& profile, FileKind kind,
                                Problems& problems) {
    Json doc;
    std::vector<Json::json_pointer> repeated;
    try {
        doc = parse_noting_repeated_keys(read_file(file), repeated);
    } catch (Json::parse_error const& e) {
        problems.add("", "/", std::string("not valid JSON: ") + e.what());
        return {};
    }
    bool const client = kind == FileKind::client;
    if (bool const client_file = doc.is_object() && doc.contains("kind") && doc["kind"] == "client"; client_file != client) {
        problems.add("", "/kind", client_file ? "a client scenario file (\"kind\": \"client\"): check a client with it (relay-conformance check-client)"
                                              : "not a client scenario file: client scenario files say \"kind\": \"client\"");
        return {};
    }
    auto const before = problems.lines().size();
    for (auto const& pointer : repeated)
        problems.add(where_of(doc, pointer.to_string()), pointer.to_string(),
                     "key \"" + pointer.back() + "\" given more than once (parsers keep only the last)");
    // Steps are checked one by one against the definition of their kind, for precise messages.
    for (auto const& error : validator.validate(doc)) {
        static std::regex const in_steps(R"(^/scenarios/\d+/steps/\d+)");
        if (std::regex_search(error.pointer, in_steps)) continue;
        problems.add(where_of(doc, error.pointer), error.pointer, error.message);
    }
    if (!doc.is_object() || !doc.contains("scenarios") || !doc["scenarios"].is_array()) return {};
    auto const& scenarios = doc["scenarios"];
    for (std::size_t s = 0; s < scenarios.size(); ++s) {
        if (!scenarios[s].is_object() || !scenarios[s].contains("steps") || !scenarios[s]["steps"].is_array()) continue;
        auto const& steps = scenarios[s]["steps"];
        for (std::size_t i = 0; i < steps.size(); ++i) {
            auto const ptr = "/scenarios/" + std::to_string(s) + "/steps/" + std::to_string(i);
            auto const where = scenario_label(scenarios[s], s) + " step " + std::to_string(i + 1);
            auto const step = steps[i].is_object() ? step_kind(steps[i]) : "";
            if (step.empty()) {
                problems.add(where, ptr, client ? "a step needs one of accept, no_connection, expect, send, close, drop, mark"
                                                : "a step needs one of expect, open, send, close, drop, http, mark");
                continue;
            }
            if (client ? relay_only(step) : client_only(step)) {
                problems.add(where, ptr + "/" + step,
                             client ? "\"" + step + "\" is not a step of a client scenario (the client under test connects: use accept)"
                                    : "\"" + step + "\" is a step of client scenarios only (files with \"kind\": \"client\")");
                continue;
            }
            for (auto const& error : validator.validate(steps[i], "#/$defs/" + step + "_step", ptr)) problems.add(where, error.pointer, error.message);
        }
    }
    if (problems.lines().size() != before) return {};
    std::vector<Scenario> out;
    auto const section = doc.value("section", std::string());
    for (std::size_t s = 0; s < scenarios.size(); ++s) out.push_back(ScenarioBuilder(scenarios[s], s, file.string(), section, profile, kind, problems).build());
    std::map<std::string, std::size_t> seen;
    for (std::size_t s = 0; s < out.size(); ++s)
        if (!seen.emplace(out[s].id, s).second)
            problems.add(scenario_label(scenarios[s], s), "/scenarios/" + std::to_string(s) + "/id", "id used twice in this file");
    return out;
}

Json read_schema(fs::path const& schema_file) {
    try {
        return Json::parse(read_file(schema_file));
    } catch (Json::parse_error const& e) {
        throw LoadError(schema_file.string() + ": not valid JSON: " + e.what());
    }
}

void throw_if_any(std::vector<std::string> const& lines) {
    if (lines.empty()) return;
    std::string message;
    for (auto const& line : lines) message += (message.empty() ? "" : "\n") + line;
    throw LoadError(message);
}

}  // namespace

std::vector<Scenario> load_file(fs::path const& file, Json const& schema, Profile const& profile, FileKind kind) {
    SchemaValidator validator(schema);
    Problems problems(file.string());
    auto scenarios = load_file(file, validator, profile, kind, problems);
    throw_if_any(problems.lines());
    return scenarios;
}

std::vector<Scenario> load_library(fs::path const& dir, fs::path const& schema_file, Profile const& profile, FileKind kind) {
    if (!fs::is_directory(dir)) throw LoadError(dir.string() + ": no such scenario folder");
    SchemaValidator validator(read_schema(schema_file));
    std::vector<fs::path> files;
    for (auto const& entry : fs::recursive_directory_iterator(dir)) {
        auto const name = entry.path().filename().string();
        // Schemas and the shared test vectors live beside the scenarios but are not scenario files.
        bool const scenario_file = name.ends_with(".json") && !name.ends_with(".schema.json") && !name.ends_with("-vectors.json");
        if (entry.is_regular_file() && scenario_file) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<Scenario> all;
    std::vector<std::string> lines;
    std::map<std::string, std::string> owner;
    for (auto const& file : files) {
        Problems problems(file.string());
        for (auto& scenario : load_file(file, validator, profile, kind, problems)) {
            if (auto [it, fresh] = owner.emplace(scenario.id, file.string()); !fresh)
                problems.add("scenario \"" + scenario.id + "\"", "id", "id already used in " + it->second);
            all.push_back(std::move(scenario));
        }
        lines.insert(lines.end(), problems.lines().begin(), problems.lines().end());
    }
    throw_if_any(lines);
    return all;
}

}  // namespace conformance::scenario
