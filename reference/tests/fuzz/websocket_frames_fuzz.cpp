// WebSocket frames as the relay receives them: Beast's websocket::stream in the server role, set up as
// WebSocketSession::run sets it up (no pings or idle close, permessage-deflate answered as the official
// runtime spells it, no Beast message cap, no auto-fragmenting), reading messages in pieces of at most
// one byte past the cap, with FrameLimit (transport/frame_limit) following the frame headers of the
// same bytes and a 1009 close once a frame crosses the cap. Runs over an in-memory stream.
//
// Input: byte 0 picks the client's extension offer (bits 0-1) and the cap (bits 2-7: 64 to 4096
// bytes); the rest is what the client sends once its handshake is answered, then the stream ends.
#include "transport/frame_limit.hpp"
#include "transport/message_buffer.hpp"
#include "transport/websocket_options.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using relay::transport::FrameLimit;

constexpr char const* offers[] = {"", "permessage-deflate; client_max_window_bits", "permessage-deflate",
                                  "permessage-deflate; server_no_context_takeover; client_no_context_takeover"};

http::request<http::string_body> upgrade_request(std::string const& offer) {
    http::request<http::string_body> request(http::verb::get, "/ws?serverId=fuzz&v=2&role=server", 11);
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    request.set(http::field::sec_websocket_version, "13");
    if (!offer.empty()) request.set(http::field::sec_websocket_extensions, offer);
    return request;
}

class Receiver {
public:
    Receiver(boost::asio::io_context& io, std::size_t max) : ws_(io), frames_(max), max_(max) {}

    beast::test::stream& wire() { return ws_.next_layer(); }
    FrameLimit& frames() { return frames_; }

    void accept(std::string const& offer) {
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = websocket::stream_base::none();
        timeouts.idle_timeout = websocket::stream_base::none();
        timeouts.keep_alive_pings = false;
        relay::transport::set_relay_options(ws_, timeouts, offer, [this](bool compressing) { compressing_ = compressing; });
        ws_.async_accept(upgrade_request(offer), [this](beast::error_code ec) {
            if (!ec) read();
        });
    }

private:
    void read() {
        if (closing_) return;
        auto const limit = std::min<std::size_t>(1024 * 1024, max_ - std::min(max_, incoming_.size()) + 1);
        ws_.async_read_some(incoming_, limit, [this](beast::error_code ec, std::size_t) { on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) return;
        if (frames_.crossing() && frames_.crossing()->message == messages_) return close_too_big();
        if (incoming_.size() > max_) {
            // Past the cap with no frame header over it: only a compressed message may inflate so.
            if (!compressing_) std::abort();
            return close_too_big();
        }
        if (!ws_.is_message_done()) return read();
        ++messages_;
        incoming_.take();
        read();
    }

    void close_too_big() {
        closing_ = true;
        ws_.async_close(websocket::close_reason(websocket::close_code::too_big, relay::transport::too_large_reason(frames_.crossing())),
                        [](beast::error_code) {});
    }

    websocket::stream<beast::test::stream> ws_;
    FrameLimit frames_;
    std::size_t max_;
    relay::transport::MessageBuffer incoming_;
    std::uint64_t messages_ = 0;
    bool compressing_ = false;
    bool closing_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size < 1) return 0;
    std::string const offer = offers[data[0] & 3];
    std::size_t const max = (std::size_t(data[0] >> 2) + 1) * 64;
    std::string_view const sent(reinterpret_cast<char const*>(data) + 1, size - 1);

    boost::asio::io_context io;
    Receiver receiver(io, max);
    beast::test::stream client(io);
    receiver.wire().connect(client);
    receiver.accept(offer);
    io.poll();  // the handshake is answered; the first read waits
    // The relay's FrameLimit sees the bytes as they are read; here they are all there at once.
    receiver.frames().consume(sent);
    receiver.wire().append(sent);
    client.close();
    io.run();
    return 0;
}
