// One scenario socket: connects with a WebSocket handshake, then queues every event the relay sends
// (frames, its close frame, the connection ending) in arrival order for expect steps to take. When the
// runner plays the relay (client checks), the same socket stands for a connection it accepted: the
// events are then the client's.
#pragma once

#include "client/http_exchange.hpp"
#include "client/tls.hpp"
#include "client/wire.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace conformance::client {

// The relay answered the handshake with something other than 101.
struct HandshakeRefused {
    HttpResponse response;
};

// How the fragmented transport splits a message: every piece but the last goes out with fin unset.
std::vector<std::string_view> fragments(std::string_view payload);

class WsConnection : public std::enable_shared_from_this<WsConnection> {
public:
    WsConnection(boost::asio::any_io_executor executor, Endpoint endpoint);
    // A connection the runner accepted as the relay (server/listener.hpp), answered by accept().
    explicit WsConnection(boost::beast::tcp_stream accepted);

    // Throws ConnectionFault; returns the refusal if the relay did not switch protocols.
    boost::asio::awaitable<std::optional<HandshakeRefused>> open(std::string target, std::map<std::string, std::string> headers,
                                                                 Clock::time_point deadline);
    // Answers the client's upgrade request with 101, negotiating no extension whatever it offers.
    // Throws ConnectionFault.
    boost::asio::awaitable<void> accept(boost::beast::http::request<boost::beast::http::string_body> const& request,
                                        Clock::time_point deadline);
    boost::asio::awaitable<void> send(bool binary, std::string payload, Clock::time_point deadline);
    // Sends a close frame without waiting for an answer; the official relay gives none. On an accepted
    // socket the closing handshake then completes as a server's does: the client's answer is read,
    // then TCP is closed, within server_close_timeout.
    void send_close(std::uint16_t code, std::string reason);
    void drop();

    // The next event, or nullopt if none arrives by the deadline.
    boost::asio::awaitable<std::optional<WireEvent>> next(Clock::time_point deadline);

    // The longest message a relay forwards (docs/protocol.md, LIMIT-1). A longer one ends the socket as
    // an invalid event once this much of it has come, whatever length its frame header announced.
    static constexpr std::size_t max_message_bytes = 32 * 1024 * 1024;
    // Events held back for a flooding relay, payloads and bookkeeping: past this, the socket is dropped
    // and the scenario errs. Room for a longest message and more; the runner's peak RSS follows from it.
    static constexpr std::size_t max_queued_bytes = 64 * 1024 * 1024;
    // An accepted socket's closing handshake, either side's, ends the TCP connection within this.
    static constexpr std::chrono::seconds server_close_timeout{10};
    bool overflowed() const { return overflowed_; }

private:
    using PlainWs = boost::beast::websocket::stream<boost::beast::tcp_stream>;
    using TlsWs = boost::beast::websocket::stream<TlsStream>;

    // One stream type's operations, defined in ws_connection_streams.hpp and compiled once per stream
    // type (ws_connection_plain.cpp, ws_connection_tls.cpp): the two together take long to compile.
    template <class Ws>
    boost::asio::awaitable<std::optional<HandshakeRefused>> open_on(Ws& ws, std::string target,
                                                                    std::map<std::string, std::string> headers,
                                                                    Clock::time_point deadline);
    template <class Ws>
    boost::asio::awaitable<void> accept_on(Ws& ws, boost::beast::http::request<boost::beast::http::string_body> const& request,
                                           Clock::time_point deadline);
    // After either handshake: the options of an open socket, and its reading.
    template <class Ws>
    void start_reading(Ws& ws, bool server);
    template <class Ws>
    boost::asio::awaitable<void> read_loop(Ws& ws);
    template <class Ws>
    boost::asio::awaitable<void> write_on(Ws& ws, bool binary, std::string const& payload, boost::beast::error_code& ec);
    template <class Ws>
    void close_on(Ws& ws, std::uint16_t code, std::string reason);
    // The relay's answer to our close frame, when Beast's close operation read it instead of read_loop.
    template <class Ws>
    void report_close_answer(Ws& ws);
    // A close frame without a status code is reported as 1005 (RFC 6455 7.1.5), as pyharness does.
    void push_close(boost::beast::websocket::close_reason const& reason);
    boost::beast::tcp_stream& tcp();
    static std::size_t cost(WireEvent const& event);
    void push(WireEvent event);

    Endpoint endpoint_;
    std::variant<PlainWs, TlsWs> ws_;
    boost::asio::steady_timer arrival_;
    std::deque<WireEvent> events_;
    std::size_t queued_bytes_ = 0;
    bool close_seen_ = false;
    bool ended_ = false;
    bool closing_ = false;               // our close frame is sent or on its way
    bool close_done_ = false;            // Beast's close operation has completed, with close_error_
    bool close_answer_pending_ = false;  // read_loop left reporting the relay's answer to it
    boost::beast::error_code close_error_;
    bool overflowed_ = false;
};

}  // namespace conformance::client
