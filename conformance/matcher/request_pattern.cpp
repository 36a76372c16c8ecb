#include "matcher/request_pattern.hpp"

namespace conformance::matcher {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A malformed escape is kept as it is, as URLSearchParams keeps it.
std::string percent_decoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
            out += char(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

std::string request_path(std::string_view target) { return std::string(target.substr(0, target.find('?'))); }

std::map<std::string, std::string> query_parameters(std::string_view target) {
    std::map<std::string, std::string> out;
    auto const question = target.find('?');
    if (question == std::string_view::npos) return out;
    auto query = target.substr(question + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
        auto const amp = query.find('&');
        auto const pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto const eq = pair.find('=');
        out.emplace(percent_decoded(pair.substr(0, eq)), eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1)));
    }
    return out;
}

MatchResult match_request(scenario::SocketPattern const& pattern, std::string const& default_path, HandshakeRequest const& request,
                          Variables const& vars) {
    auto path = match(pattern.path.value_or(Json(default_path)), Json(request_path(request.target)), false, vars);
    if (!path.matched) {
        path.why = "path: " + path.why;
        return path;
    }
    auto query = match_fields(pattern.fields, query_parameters(request.target), "query parameter", vars);
    if (!query.matched) return query;
    auto headers = match_fields(pattern.headers, request.headers, "header", vars);
    if (!headers.matched) return headers;
    for (auto* part : {&path, &query})
        for (auto& [k, v] : part->captures) headers.captures.emplace(k, std::move(v));
    for (auto* part : {&query, &path}) headers.nonstrict.insert(headers.nonstrict.begin(), part->nonstrict.begin(), part->nonstrict.end());
    return headers;
}

std::string describe(scenario::SocketPattern const& pattern, std::string const& default_path, Variables const& vars) {
    // A literal string shows the value it stands for, where every variable in it has one.
    auto const shown = [&vars](Json const& value) {
        if (!value.is_string()) return describe(value);
        try {
            return describe(Json(substitute(value.get<std::string>(), vars)));
        } catch (UnknownVariable const&) {
            return describe(value);
        }
    };
    std::string out = "a handshake for " + shown(pattern.path.value_or(Json(default_path)));
    std::string query;
    for (auto const& [name, value] : pattern.fields) query += (query.empty() ? "" : " ") + name + "=" + shown(value);
    if (!query.empty()) out += " with " + query;
    for (auto const& [name, value] : pattern.headers) out += ", header " + name + ": " + shown(value);
    return out;
}

}  // namespace conformance::matcher
