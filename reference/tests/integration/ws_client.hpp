// A loopback WebSocket/HTTP client for integration tests: every operation has a deadline.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

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
    std::string payload;
    bool binary = false;
    std::uint16_t code = 0;  // for closed: the code the relay sent, 1006 if none
    std::string reason;
};

std::ostream& operator<<(std::ostream& os, Event const& e);

class WsClient {
public:
    // Opens /ws?<query>; throws with the HTTP status if the upgrade is refused.
    WsClient(unsigned short port, std::string const& query, std::chrono::milliseconds deadline = 5s);

    void send_text(std::string const& text, std::chrono::milliseconds deadline = 10s);
    void send_binary(std::string const& bytes, std::chrono::milliseconds deadline = 10s);
    void ping(std::string const& payload, std::chrono::milliseconds deadline = 5s);
    // Sends a close frame; the relay's answer (if any) arrives as a `closed` event.
    void close(std::uint16_t code = 1000, std::chrono::milliseconds deadline = 5s);

    Event next(std::chrono::milliseconds deadline = 5s);
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
};

}  // namespace relay::testing
