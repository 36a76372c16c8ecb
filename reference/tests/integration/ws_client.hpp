// A loopback WebSocket/HTTP client for integration tests: every operation has a deadline.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/zlib/deflate_stream.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace relay::testing {

using namespace std::chrono_literals;

struct HttpResult {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// One raw HTTP/1.1 request; `extra` lines are added verbatim (e.g. "Upgrade: websocket\r\n").
HttpResult http_request(unsigned short port, std::string const& method, std::string const& target,
                        std::string const& extra = {}, std::chrono::milliseconds deadline = 5s);

struct Event {
    enum class Kind { message, ping, pong, closed, timeout } kind;
    std::string payload{};  // the braces let events list only their first members, warning-free
    bool binary = false;
    std::uint16_t code = 0;  // for closed: the code the relay sent, 1006 if none
    std::string reason{};
};

std::ostream& operator<<(std::ostream& os, Event const& e);

// One frame exactly as it goes on the wire (but masked), for what a WebSocket stream will not send.
struct RawFrame {
    std::uint8_t opcode;  // 0 continuation, 1 text, 2 binary, 9 ping
    std::string payload;
    bool fin = true;
    bool rsv1 = false;  // a compressed message's first frame
    std::optional<std::uint64_t> length = {};  // announced instead of the payload's, for a header whose payload never comes
};

// Raw DEFLATE as a permessage-deflate sender writes it (RFC 7692 7.2.1): every piece ends with a sync
// flush, so it inflates without waiting for the next; a message's last piece drops the final 00 00 FF FF.
class Deflater {
public:
    std::string piece(std::string const& data, bool last = true);

private:
    boost::beast::zlib::deflate_stream stream_;
};

// What the client offers in Sec-WebSocket-Extensions.
enum class Offer { nothing, deflate };

class WsClient {
public:
    // Opens /ws?<query>; throws with the HTTP status if the upgrade is refused.
    WsClient(unsigned short port, std::string const& query, std::chrono::milliseconds deadline = 5s)
        : WsClient(port, query, Offer::nothing, deadline) {}
    WsClient(unsigned short port, std::string const& query, Offer offer, std::chrono::milliseconds deadline = 5s);

    void send_text(std::string const& text, std::chrono::milliseconds deadline = 10s);
    void send_binary(std::string const& bytes, std::chrono::milliseconds deadline = 10s);
    void ping(std::string const& payload, std::chrono::milliseconds deadline = 5s);
    // Writes the frames as they are, masked with the all-zero key. The relay may close before all of
    // them are in, as it may for an oversized message, so a failed write is not an error.
    void send_frames(std::vector<RawFrame> const& frames);
    // Sends a close frame; the relay's answer (if any) arrives as a `closed` event.
    void close(std::uint16_t code = 1000, std::chrono::milliseconds deadline = 5s);

    Event next(std::chrono::milliseconds deadline = 5s);
    // The relay's close frame as soon as it arrives, as a `closed` event: next() reports it only once the
    // closing handshake is over, which waits for the relay to read this client's answer, and a relay
    // still reading an oversized frame's payload takes that answer for part of it.
    Event next_close_frame(std::chrono::milliseconds deadline = 5s);
    std::string next_text(std::chrono::milliseconds deadline = 5s);
    // No event arrives within `window`; for checks no sentinel can replace.
    bool quiet_for(std::chrono::milliseconds window);

    boost::beast::websocket::response_type const& handshake_response() const { return response_; }

private:
    void send(std::string const& data, bool binary, std::chrono::milliseconds deadline);
    void read_loop();
    void run_until(bool const& done, std::chrono::milliseconds deadline);

    boost::asio::io_context ioc_;
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    boost::beast::websocket::response_type response_;
    boost::beast::flat_buffer buffer_;
    std::deque<Event> events_;
    std::optional<Event> close_frame_;
};

}  // namespace relay::testing
