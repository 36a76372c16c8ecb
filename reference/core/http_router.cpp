#include "http_router.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>

#include <array>

namespace relay::core {
namespace {

// The official Worker answers string bodies with the Fetch API's default content type.
constexpr char const* text_plain = "text/plain;charset=UTF-8";

HttpReply text_reply(unsigned status, std::string body) { return {status, text_plain, std::move(body)}; }

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

Routing route(std::string_view target, std::optional<std::string_view> upgrade) {
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

    if (!upgrade || !iequals(*upgrade, "websocket")) return text_reply(426, "Expected WebSocket upgrade");

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
