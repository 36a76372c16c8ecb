// The runner's WebSocket client (conformance/client/ws_connection), as scenario sockets use it,
// reading a hostile server over loopback: the handshake answer (a refusal with any status and body, a
// 101 with any headers and extensions), then any frames (bad opcodes, reserved bits, masks, invalid
// UTF-8, bad close codes, compressed or not) until the server ends its side. It must end with the
// refusal, BadResponse or a series of events ending in a close, `ended` or `invalid` event: never a
// crash, another exception, or a hang (libFuzzer's -timeout catches that).
//
// Input: the server's answer. `{accept}` in it becomes the Sec-WebSocket-Accept the client's key calls
// for, so that fuzzed handshakes can succeed and the frames after them be read. The client offers
// permessage-deflate as Node's `ws` does.
#include "client/ws_connection.hpp"
#include "interpreter/event_matching.hpp"
#include "loopback_server.hpp"

#include <boost/beast/websocket/detail/hybi13.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace conformance;
namespace beast = boost::beast;

// The answer with `{accept}` replaced by the accept value for the key in the request `head`.
std::string with_accept(std::string answer, std::string const& head) {
    static std::string const field = "Sec-WebSocket-Key: ";
    auto const start = head.find(field);
    if (start == std::string::npos) return answer;
    auto const key = head.substr(start + field.size(), head.find("\r\n", start) - start - field.size());
    beast::websocket::detail::sec_ws_accept_type accept;
    beast::websocket::detail::make_sec_ws_accept(accept, key);
    for (auto at = answer.find("{accept}"); at != std::string::npos; at = answer.find("{accept}", at + accept.size()))
        answer.replace(at, 8, accept.data(), accept.size());
    return answer;
}

boost::asio::awaitable<void> converse(client::Endpoint endpoint) {
    auto const deadline = client::Clock::now() + std::chrono::seconds(60);
    auto socket = std::make_shared<client::WsConnection>(co_await boost::asio::this_coro::executor, endpoint);
    try {
        if (auto refused = co_await socket->open("/ws?serverId=fuzz&v=2&role=client", {}, deadline)) {
            interpreter::describe(refused->response);
            co_return;
        }
    } catch (client::BadResponse const&) {
        co_return;
    }
    // Events as expect steps take them, until the last one a connection has: its close frame, its end
    // without one, or an invalid frame. The server always ends its side, so one comes.
    for (;;) {
        auto event = co_await socket->next(deadline);
        if (!event) std::abort();
        interpreter::describe(*event);
        if (event->kind != client::WireEvent::Kind::frame) break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    static boost::asio::io_context io;
    static fuzz::LoopbackServer server(io);
    std::string const answer(reinterpret_cast<char const*>(data), size);
    io.restart();
    boost::asio::co_spawn(io, server.answer_once([&](std::string const& head) { return with_accept(answer, head); }), fuzz::rethrow);
    boost::asio::co_spawn(io, converse({"127.0.0.1", server.port(), nullptr, client::Transport::deflate}), fuzz::rethrow);
    io.run();
    return 0;
}
