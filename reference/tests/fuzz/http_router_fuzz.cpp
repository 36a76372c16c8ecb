// The relay's router (core/http_router) on any request-target and handshake headers, including bytes
// Beast's parser would refuse: WHATWG-tolerant target repair, query decoding, version and role
// resolution, js_trim on UTF-8.
//
// Input: up to four lines, split at '\n': the target, then Upgrade, Sec-WebSocket-Version and
// Sec-WebSocket-Key; a line not given is a header not sent.
#include "core/http_router.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <variant>

namespace {

// The next line; none once the input is used up (a null view), so a final empty line still counts.
std::optional<std::string_view> next_line(std::string_view& rest) {
    if (rest.data() == nullptr) return std::nullopt;
    auto const end = rest.find('\n');
    auto const line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view rest(reinterpret_cast<char const*>(data), size);
    if (rest.data() == nullptr) rest = std::string_view("", 0);
    auto const target = next_line(rest).value_or("");
    relay::core::HandshakeHeaders headers;
    headers.upgrade = next_line(rest);
    headers.sec_websocket_version = next_line(rest);
    headers.sec_websocket_key = next_line(rest);
    auto const routing = relay::core::route(target, headers);
    // An admitted socket names a session: the router never admits one without a server id.
    if (auto const* admission = std::get_if<relay::core::Admission>(&routing); admission && admission->server_id.empty())
        std::abort();
    relay::core::js_trim(target);
    return 0;
}
