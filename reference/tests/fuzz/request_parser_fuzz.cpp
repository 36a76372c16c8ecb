// The relay's HTTP request parsing as a connection's bytes reach it (transport/http_session.cpp):
// RequestParser fed the pieces a socket delivers, pipelined requests one after another, and each
// parsed request routed as HttpSession::answer routes it (core/http_router: target, query decoding,
// handshake headers).
//
// Input: byte 0 sets the size of the pieces the bytes arrive in (1 to 256), byte 1 the head limit (16
// to 4096 bytes, so that small inputs reach it); the rest is what the client sends.
#include "core/http_router.hpp"
#include "transport/request_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

std::optional<std::string_view> header(http::request<http::string_body> const& request, http::field name) {
    auto it = request.find(name);
    if (it == request.end()) return std::nullopt;
    return it->value();
}

void route(http::request<http::string_body> const& request) {
    relay::core::route(request.target(), {header(request, http::field::upgrade), header(request, http::field::sec_websocket_version),
                                          header(request, http::field::sec_websocket_key)});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size < 2) return 0;
    std::size_t const piece = std::size_t(data[0]) + 1;
    std::size_t const limit = (std::size_t(data[1]) + 1) * 16;
    std::string_view arriving(reinterpret_cast<char const*>(data) + 2, size - 2);

    // As HttpSession::parse: what has arrived is buffered, fed until the parser needs more, and a
    // finished request makes way for the next one on the same connection.
    beast::flat_buffer buffer;
    std::optional<relay::transport::RequestParser> parser(std::in_place, limit);
    while (!arriving.empty()) {
        auto const chunk = arriving.substr(0, piece);
        arriving.remove_prefix(chunk.size());
        buffer.commit(boost::asio::buffer_copy(buffer.prepare(chunk.size()), boost::asio::buffer(chunk)));
        for (;;) {
            beast::error_code ec;
            auto const used = parser->feed(buffer.data(), ec);
            buffer.consume(used);
            if (ec && ec != http::error::need_more) return 0;  // the relay answers or closes: the connection is done
            if (parser->is_done()) {
                route(parser->get());
                parser.emplace(limit);
                continue;
            }
            if (ec || used == 0 || buffer.size() == 0) break;
        }
    }
    // The connection ends: what is buffered is a request cut short.
    beast::error_code ec;
    if (parser->got_some()) parser->put_eof(ec);
    if (!ec && parser->is_done()) route(parser->get());
    return 0;
}
