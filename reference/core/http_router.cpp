#include "http_router.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <cctype>

namespace relay::core {
namespace {

// The official Worker answers string bodies with the Fetch API's default content type.
constexpr char const* text_plain = "text/plain;charset=UTF-8";

HttpReply text_reply(unsigned status, std::string body) { return {status, text_plain, std::move(body)}; }

// The runtime's own answers to a broken WebSocket handshake, after the Worker has accepted it.
HttpReply handshake_error(std::string body) { return {400, "text/plain", std::move(body), true}; }

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The Worker sees the target through WHATWG URL parsing, which takes what RFC 3986 refuses (a stray
// `%`, spaces, `|`...). Percent-encoding such bytes first lets the strict parser read the same values.
std::string tolerant_target(std::string_view target) {
    target = target.substr(0, target.find('#'));
    static constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/?";
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        unsigned char c = target[i];
        bool const valid_escape = c == '%' && i + 2 < target.size() && is_hex(target[i + 1]) && is_hex(target[i + 2]);
        bool const plain = (c < 0x80 && std::isalnum(c)) || (c != '%' && allowed.find(char(c)) != std::string_view::npos);
        if (plain || valid_escape) {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// URLSearchParams.get(): the first value of `key`, form-decoded ('+' is a space); none if absent.
std::optional<std::string> first_param(boost::urls::url_view const& url, std::string_view key) {
    auto params = url.params(boost::urls::encoding_opts(true));
    auto it = params.find(key);
    if (it == params.end()) return std::nullopt;
    return std::string((*it).value);
}

// Absent or blank means v1, as the official resolveRelayVersion does.
std::optional<Version> resolve_version(std::optional<std::string> const& raw) {
    if (!raw) return Version::v1;
    auto v = js_trim(*raw);
    if (v.empty() || v == "1") return Version::v1;
    if (v == "2") return Version::v2;
    return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// Length of the white space code point starting at s[i] (0 if none). JavaScript's WhiteSpace and
// LineTerminator sets: ASCII TAB LF VT FF CR SPACE, plus NBSP, BOM, the Zs block and U+2028/2029.
std::size_t space_at(std::string_view s, std::size_t i) {
    unsigned char c = s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
    static constexpr std::array<std::string_view, 19> unicode{
        "\u00A0", "\uFEFF", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
        "\u2007", "\u2008", "\u2009", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000"};
    for (auto u : unicode)
        if (s.substr(i, u.size()) == u) return u.size();
    return 0;
}

// Length of the white space code point that ends just before s[end] (0 if none).
std::size_t space_before(std::string_view s, std::size_t end) {
    for (std::size_t len = 1; len <= 3 && len <= end; ++len)
        if (space_at(s, end - len) == len) return len;
    return 0;
}

}  // namespace

std::string_view js_trim(std::string_view s) {
    std::size_t begin = 0;
    while (begin < s.size()) {
        auto n = space_at(s, begin);
        if (n == 0) break;
        begin += n;
    }
    std::size_t end = s.size();
    while (end > begin) {
        auto n = space_before(s, end);
        if (n == 0) break;
        end -= n;
    }
    return s.substr(begin, end - begin);
}

Routing route(std::string_view raw_target, HandshakeHeaders const& headers) {
    auto const target = tolerant_target(raw_target);
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return text_reply(404, "Not found");
    auto const& url = *parsed;
    auto path = url.encoded_path();

    if (path == "/health") return HttpReply{200, "application/json", R"({"status":"ok"})"};
    if (path != "/ws") return text_reply(404, "Not found");

    // The order of these checks is observable: it decides which 400 a request with several faults gets.
    auto server_id = first_param(url, "serverId");
    if (!server_id || server_id->empty()) return text_reply(400, "Missing serverId parameter");

    auto version = resolve_version(first_param(url, "v"));
    if (!version) return text_reply(400, "Invalid v parameter (expected 1 or 2)");

    auto role = first_param(url, "role");
    if (!role || (*role != "server" && *role != "client")) return text_reply(400, "Missing or invalid role parameter");

    if (!headers.upgrade || !iequals(*headers.upgrade, "websocket"))
        return text_reply(426, "Expected WebSocket upgrade");
    if (headers.sec_websocket_version != "13")
        return handshake_error("ERROR: The requested WebSocket version is not supported.");
    if (!headers.sec_websocket_key) return handshake_error("ERROR: Missing Sec-WebSocket-Key");

    Admission admission;
    admission.version = *version;
    admission.role = *role == "server" ? Role::server : Role::client;
    admission.server_id = std::move(*server_id);
    if (admission.version == Version::v2) {
        auto connection_id = first_param(url, "connectionId");
        if (connection_id) admission.connection_id = std::string(js_trim(*connection_id));
    }
    return admission;
}

}  // namespace relay::core
