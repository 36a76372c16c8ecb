// A scenario file in memory: what docs/scenario-format.md describes, already validated against
// scenarios/scenario.schema.json. Plain data; the loader builds it, the interpreter walks it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace conformance::scenario {

using Json = nlohmann::json;

// How a socket is addressed (docs/scenario-format.md, Sockets); the profile turns it into a request
// target (scenario/profile.hpp, socket_target).
struct SocketSpec {
    std::map<std::string, std::string> fields;  // the profile's query fields given (Paseo: serverId, v, role, connectionId)
    std::optional<std::string> query;  // verbatim query; excludes the fields
    std::optional<std::string> path;   // absent: the profile's
    std::map<std::string, std::string> headers;
};

// A client scenario's socket (docs/scenario-format.md, "Client scenarios"): patterns over the handshake
// request a client under test makes, not an address. Fields not named are not checked.
struct SocketPattern {
    std::map<std::string, Json> fields;   // profile query field -> pattern over its percent-decoded value
    std::optional<Json> path;             // absent: the profile's path
    std::map<std::string, Json> headers;  // lower-case name -> pattern
};

struct HttpExpectation {
    unsigned status = 0;
    std::optional<Json> body;              // a pattern
    std::map<std::string, Json> headers;   // lower-case name -> pattern
};

enum class FrameType { text, binary };

struct FrameMatcher {
    std::optional<FrameType> type;
    std::optional<Json> text;   // pattern over the whole text
    std::optional<Json> json;   // pattern over the parsed text
    std::optional<Json> msgpack;  // pattern over the binary payload decoded as MessagePack
    bool subset = false;
    std::optional<std::string> binary;  // exact bytes (decoded from binary_hex)
    std::optional<std::uint64_t> size;
    bool any = false;
};

struct CloseMatcher {
    std::vector<std::uint16_t> codes;  // empty: any code
    std::optional<Json> code_pattern;  // instead of codes: a pattern over the code, e.g. with a $strict code
    std::optional<Json> reason;        // a pattern
};

struct EndedMatcher {};
struct NothingMatcher {};

using EventMatcher = std::variant<FrameMatcher, CloseMatcher, EndedMatcher, NothingMatcher>;

struct Window {
    std::string after;  // a mark
    std::uint32_t min_ms = 0;
    std::uint32_t max_ms = 0;
};

struct OpenStep {
    std::string socket;
    std::optional<HttpExpectation> refused;
};

struct SendStep {
    std::string socket;
    FrameType type = FrameType::text;
    std::string payload;  // text (may contain ${...}) or raw bytes
    std::optional<Json> json;  // sent as compact JSON, ${...} substituted inside its strings
    std::optional<Json> msgpack;  // sent as a binary MessagePack frame, ${...} substituted inside its strings
    bool substitute = true;  // false for binary_hex and fill payloads
    std::uint32_t repeat = 1;
};

struct ExpectStep {
    std::string socket;
    std::vector<EventMatcher> alternatives;  // one, or the one_of list
    std::optional<std::uint32_t> within_ms;  // absent: the runner's step timeout (1000 for nothing)
    std::optional<Window> window;
    std::uint32_t repeat = 1;
    bool skip_other_frames = false;
};

struct CloseStep {
    std::string socket;
    std::uint16_t code = 1000;
    std::string reason;
};

struct DropStep {
    std::string socket;
};

struct HttpStep {
    std::string method = "GET";
    std::string path = "/";
    std::optional<std::string> query;
    std::map<std::string, std::string> headers;
    HttpExpectation response;
};

struct MarkStep {};

// The HTTP answer an accept step refuses a handshake with.
struct Refusal {
    unsigned status = 503;
    std::string body;
    std::map<std::string, std::string> headers;
};

// Client scenarios: the next connection matching the socket's pattern becomes the socket (or is refused).
struct AcceptStep {
    std::string socket;
    std::optional<Refusal> refuse;
    std::optional<std::uint32_t> within_ms;  // absent: the runner's step timeout
    std::optional<Window> window;
};

// Client scenarios: no connection matching the socket's pattern arrives for within_ms (scaled).
struct NoConnectionStep {
    std::string socket;
    std::uint32_t within_ms = 1000;
};

using Action = std::variant<OpenStep, SendStep, ExpectStep, CloseStep, DropStep, HttpStep, MarkStep, AcceptStep, NoConnectionStep>;

struct Step {
    Action action;
    std::optional<std::string> requirement;
    std::optional<std::string> note;
    std::optional<std::string> mark;
    Json source;  // the step as written, for reports
};

enum class Level { must, should };

struct Scenario {
    std::string id;
    std::string title;
    std::vector<std::string> requirements;
    Level level = Level::must;
    std::vector<std::string> tags;
    std::uint32_t timeout_ms = 30000;
    std::map<std::string, SocketSpec> sockets;
    bool client = false;  // a client scenario ("kind": "client"): `patterns` name its sockets, not `sockets`
    std::map<std::string, SocketPattern> patterns;
    std::vector<Step> steps;
    std::string file;  // path it was loaded from, as given to the loader
    std::string section;
};

}  // namespace conformance::scenario
