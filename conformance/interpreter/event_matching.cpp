#include "interpreter/event_matching.hpp"

#include "matcher/msgpack.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace conformance::interpreter {

using client::HttpResponse;
using client::WireEvent;
using matcher::Json;
using matcher::MatchResult;
using namespace scenario;

namespace {

MatchResult no(std::string why) {
    MatchResult result;
    result.why = std::move(why);
    return result;
}
MatchResult yes() {
    MatchResult result;
    result.matched = true;
    return result;
}

// Adds a part's captures and non-strict differences (named after the part) to the whole.
MatchResult merge(MatchResult into, MatchResult const& part, std::string const& what) {
    for (auto const& [k, v] : part.captures) into.captures[k] = v;
    for (auto const& why : part.nonstrict) into.nonstrict.push_back(what + ": " + why);
    return into;
}

MatchResult match_frame(FrameMatcher const& f, WireEvent const& e, matcher::Variables const& vars) {
    if (e.kind != WireEvent::Kind::frame) return no("not a frame");
    if (f.type && (*f.type == FrameType::binary) != e.binary)
        return no(std::string("expected a ") + (*f.type == FrameType::binary ? "binary" : "text") + " frame");
    if (f.size && e.payload.size() != *f.size)
        return no("expected " + std::to_string(*f.size) + " bytes, got " + std::to_string(e.payload.size()));
    if (f.binary) return e.payload == *f.binary ? yes() : no("payload differs");
    if (f.text) return matcher::match(*f.text, Json(e.payload), false, vars);
    if (f.json) {
        auto parsed = Json::parse(e.payload, nullptr, false);
        if (parsed.is_discarded()) return no("the frame is not JSON");
        return matcher::match(*f.json, parsed, f.subset, vars);
    }
    if (f.msgpack) {
        auto decoded = matcher::msgpack_value(e.payload);
        if (!decoded) return no("the frame is not MessagePack of a JSON value");
        return matcher::match(*f.msgpack, *decoded, f.subset, vars);
    }
    return yes();
}

std::string hex(std::string const& bytes, std::size_t max) {
    std::string out;
    char buf[3];
    for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(bytes[i]));
        out += buf;
    }
    return out;
}

// Whether `text` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
bool valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        auto const byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
        unsigned char const lead = byte(i);
        std::size_t const length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                                 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
        if (length == 0 || i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k)
            if ((byte(i + k) & 0xC0) != 0x80) return false;
        if ((lead == 0xE0 && byte(i + 1) < 0xA0) || (lead == 0xED && byte(i + 1) > 0x9F) ||
            (lead == 0xF0 && byte(i + 1) < 0x90) || (lead == 0xF4 && byte(i + 1) > 0x8F))
            return false;
        i += length;
    }
    return true;
}

}  // namespace

std::string preview(std::string const& payload, bool binary, std::size_t max) {
    auto const more = [&](std::size_t shown) { return shown < payload.size() ? "… (" + std::to_string(payload.size()) + " bytes)" : ""; };
    // A text frame that is not UTF-8 (a scenario's text_hex) is shown as hex too: reports are UTF-8.
    if (binary || !valid_utf8(payload)) return (binary ? "" : "(not UTF-8) ") + hex(payload, max / 2) + more(max / 2);
    std::size_t cut = std::min(max, payload.size());
    while (cut < payload.size() && cut > 0 && (static_cast<unsigned char>(payload[cut]) & 0xC0) == 0x80) --cut;
    return payload.substr(0, cut) + more(cut);
}

MatchResult match_event(EventMatcher const& expected, std::optional<WireEvent> const& event, matcher::Variables const& vars) {
    if (std::holds_alternative<NothingMatcher>(expected)) return event ? no("something arrived") : yes();
    if (!event) return no("nothing arrived");
    if (event->kind == WireEvent::Kind::invalid) return no("a client rejects an invalid frame");
    if (std::holds_alternative<EndedMatcher>(expected))
        return event->kind == WireEvent::Kind::frame ? no("a frame, not the end") : yes();
    if (auto const* c = std::get_if<CloseMatcher>(&expected)) {
        if (event->kind != WireEvent::Kind::close) return no("not a close frame");
        if (!c->codes.empty() && std::find(c->codes.begin(), c->codes.end(), event->code) == c->codes.end())
            return no("close code " + std::to_string(event->code));
        auto result = yes();
        if (c->code_pattern) {
            auto code = matcher::match(*c->code_pattern, Json(event->code), false, vars);
            if (!code.matched) return no("close code: " + code.why);
            result = merge(result, code, "code");
        }
        if (!c->reason) return result;
        auto reason = matcher::match(*c->reason, Json(event->reason), false, vars);
        if (!reason.matched) return reason;
        reason.nonstrict.insert(reason.nonstrict.begin(), result.nonstrict.begin(), result.nonstrict.end());
        return reason;
    }
    return match_frame(std::get<FrameMatcher>(expected), *event, vars);
}

MatchResult match_http(HttpExpectation const& expected, HttpResponse const& response, matcher::Variables const& vars) {
    if (response.status != expected.status)
        return no("status " + std::to_string(response.status) + " instead of " + std::to_string(expected.status));
    MatchResult result = yes();
    if (expected.body) {
        auto body = matcher::match(*expected.body, Json(response.body), false, vars);
        if (!body.matched) return no("body: " + body.why);
        result = merge(result, body, "body");
    }
    auto headers = matcher::match_fields(expected.headers, response.headers, "header", vars);
    if (!headers.matched) return headers;
    for (auto const& [k, v] : result.captures) headers.captures.emplace(k, v);
    headers.nonstrict.insert(headers.nonstrict.begin(), result.nonstrict.begin(), result.nonstrict.end());
    return headers;
}

std::string describe(EventMatcher const& expected, std::uint32_t wait_ms) {
    if (std::holds_alternative<NothingMatcher>(expected)) return "nothing for " + std::to_string(wait_ms) + " ms";
    if (std::holds_alternative<EndedMatcher>(expected)) return "the connection ending (a close frame or a drop)";
    if (auto const* c = std::get_if<CloseMatcher>(&expected)) {
        std::string out = "close frame";
        if (!c->codes.empty()) {
            out += " with code ";
            for (std::size_t i = 0; i < c->codes.size(); ++i) out += (i ? " or " : "") + std::to_string(c->codes[i]);
        }
        if (c->code_pattern) out += " with code " + matcher::describe(*c->code_pattern);
        if (c->reason) out += ", reason " + matcher::describe(*c->reason);
        return out;
    }
    auto const& f = std::get<FrameMatcher>(expected);
    std::string out = f.type == FrameType::binary ? "binary frame" : f.type == FrameType::text ? "text frame" : "frame";
    if (f.size) out += " of " + std::to_string(*f.size) + " bytes";
    if (f.binary) out += " " + hex(*f.binary, 64);
    if (f.text) out += " " + matcher::describe(*f.text);
    if (f.json) out += std::string(" with JSON ") + (f.subset ? "containing " : "") + matcher::describe(*f.json);
    if (f.msgpack) out += std::string(" with MessagePack ") + (f.subset ? "containing " : "") + matcher::describe(*f.msgpack);
    return out;
}

std::string describe(HttpExpectation const& expected) {
    std::string out = "HTTP " + std::to_string(expected.status);
    if (expected.body) out += " body " + matcher::describe(*expected.body);
    for (auto const& [name, pattern] : expected.headers) out += ", " + name + ": " + matcher::describe(pattern);
    return out;
}

std::string describe(WireEvent const& event) {
    switch (event.kind) {
    case WireEvent::Kind::frame:
        return std::string(event.binary ? "binary frame " : "text frame ") + preview(event.payload, event.binary);
    case WireEvent::Kind::close: return "close frame " + std::to_string(event.code) + " \"" + event.reason + "\"";
    case WireEvent::Kind::ended: return "the connection ended without a close frame (" + event.reason + ")";
    case WireEvent::Kind::invalid: return "an invalid frame from the relay (" + event.reason + ")";
    }
    return {};
}

std::string describe(HttpResponse const& response) {
    std::string out = "HTTP " + std::to_string(response.status);
    if (auto it = response.headers.find("content-type"); it != response.headers.end()) out += " (" + it->second + ")";
    if (!response.body.empty()) out += " " + preview(response.body, false, 200);
    return out;
}

}  // namespace conformance::interpreter
