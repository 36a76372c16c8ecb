#include "interpreter/trace_writer.hpp"

#include <boost/algorithm/hex.hpp>

#include <regex>

namespace conformance::interpreter {

using matcher::Json;

namespace {
std::regex const connection_id(R"(conn_[0-9a-f]{16})");
constexpr std::size_t inline_binary_limit = 1024;

}  // namespace

TraceWriter::TraceWriter(std::string server_id) : server_id_(std::move(server_id)) {}

void TraceWriter::know(std::string const& name, Json const& value) {
    if (value.is_string() && !names_.count(value.get<std::string>())) names_[value.get<std::string>()] = name;
}

std::string TraceWriter::generalize_text(std::string const& text) {
    std::string out = text;
    for (auto pos = out.find(server_id_); !server_id_.empty() && pos != std::string::npos; pos = out.find(server_id_, pos + 11))
        out.replace(pos, server_id_.size(), "${serverId}");
    return out;
}

Json TraceWriter::generalize(Json const& value, std::string const& key) {
    if (value.is_object()) {
        Json out = Json::object();
        for (auto const& [k, v] : value.items()) out[k] = generalize(v, k);
        return out;
    }
    if (value.is_array()) {
        Json out = Json::array();
        for (auto const& v : value) out.push_back(generalize(v, key));
        return out;
    }
    // A timestamp differs on every run: any integer will do.
    if (key == "ts" && value.is_number_integer()) return Json{{"$integer", true}};
    if (!value.is_string()) return value;
    auto const text = value.get<std::string>();
    if (text == server_id_) return "${serverId}";
    auto known = names_.find(text);
    if (known == names_.end() && std::regex_match(text, connection_id))
        known = names_.emplace(text, "conn_" + std::to_string(++generated_)).first;
    if (known == names_.end()) return generalize_text(text);
    auto const& name = known->second;
    if (captured_[name]) return "${" + name + "}";
    captured_[name] = true;
    Json capture{{"$capture", name}};
    if (std::regex_match(text, connection_id)) capture["$regex"] = "conn_[0-9a-f]{16}";
    return capture;
}

Json TraceWriter::expect_step(std::string const& socket, std::optional<client::WireEvent> const& event, std::uint32_t waited_ms) {
    Json step{{"expect", socket}};
    if (!event) {
        step["nothing"] = true;
        step["within_ms"] = waited_ms;
        return step;
    }
    switch (event->kind) {
    case client::WireEvent::Kind::frame: {
        if (event->binary) {
            step["frame"] = event->payload.size() > inline_binary_limit ? Json{{"type", "binary"}, {"size", event->payload.size()}}
                                                                        : Json{{"binary_hex", boost::algorithm::hex_lower(event->payload)}};
            break;
        }
        auto parsed = Json::parse(event->payload, nullptr, false);
        if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array()))
            step["frame"] = {{"json", generalize(parsed, "")}};
        else if (event->payload.size() > inline_binary_limit)
            step["frame"] = {{"type", "text"}, {"size", event->payload.size()}};
        else
            step["frame"] = {{"text", generalize_text(event->payload)}};
        break;
    }
    case client::WireEvent::Kind::close: step["close"] = {{"code", event->code}, {"reason", generalize_text(event->reason)}}; break;
    case client::WireEvent::Kind::ended:
    case client::WireEvent::Kind::invalid: step["ended"] = true; break;
    }
    return step;
}

Json TraceWriter::http_expectation(client::HttpResponse const& response) {
    Json expected{{"status", response.status}};
    if (response.status != 101) expected["body"] = generalize_text(response.body);
    if (auto it = response.headers.find("content-type"); it != response.headers.end()) expected["headers"] = {{"content-type", it->second}};
    return expected;
}

}  // namespace conformance::interpreter
