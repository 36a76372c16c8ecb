// The runner's HTTP client (conformance/client/http_exchange), as `http` steps and refused handshakes
// use it, reading a hostile server's answer over loopback: any status line, header block, body framing
// (chunked, Content-Length, until the end), truncation. It must end with a response or BadResponse,
// never a crash, another exception, or a hang (libFuzzer's -timeout catches that).
//
// Input: byte 0 picks the method (even GET, odd HEAD); the rest is the server's answer.
#include "client/http_exchange.hpp"
#include "interpreter/event_matching.hpp"
#include "loopback_server.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace conformance;

boost::asio::awaitable<void> exchange(client::Endpoint endpoint, std::string method) {
    try {
        auto const response = co_await client::http_exchange(endpoint, method, "/health", {{"Origin", "http://127.0.0.1"}},
                                                             client::Clock::now() + std::chrono::seconds(60));
        interpreter::describe(response);
    } catch (client::BadResponse const&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    static boost::asio::io_context io;
    static fuzz::LoopbackServer server(io);
    if (size < 1) return 0;
    std::string const method = data[0] % 2 ? "HEAD" : "GET";
    std::string const answer(reinterpret_cast<char const*>(data) + 1, size - 1);
    io.restart();
    boost::asio::co_spawn(io, server.answer_once([&](std::string const&) { return answer; }), fuzz::rethrow);
    boost::asio::co_spawn(io, exchange({"127.0.0.1", server.port(), nullptr, client::Transport::plain}, method), fuzz::rethrow);
    io.run();
    return 0;
}
