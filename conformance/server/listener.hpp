// The relay's listening side, for client checks (relay-conformance check-client): accepts TCP
// connections on a loopback port, reads each one's HTTP upgrade request, and keeps the connections,
// unanswered, in arrival order until an accept step claims one (or the listener stops). A connection
// arrives when its request has been read in full.
#pragma once

#include "client/wire.hpp"
#include "matcher/request_pattern.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace conformance::server {

// A connection whose upgrade request has been read and not yet answered.
struct Incoming {
    explicit Incoming(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
    boost::beast::tcp_stream stream;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    matcher::HandshakeRequest handshake;  // its target and lower-case headers
    client::Clock::time_point at;         // when the request was read in full
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    // Binds 127.0.0.1:port (0: an ephemeral port). Throws boost::system::system_error.
    Listener(boost::asio::any_io_executor executor, unsigned short port);

    void start();
    // Closes the port and every unclaimed connection.
    void stop();

    unsigned short port() const { return port_; }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_); }

    // The first unclaimed connection, in arrival order, that `wanted` takes, waiting for one until the
    // deadline (nullptr then). One claim at a time.
    boost::asio::awaitable<std::shared_ptr<Incoming>> claim(std::function<bool(Incoming const&)> wanted,
                                                            client::Clock::time_point deadline);

    // The connections no step has claimed, in arrival order.
    std::deque<std::shared_ptr<Incoming>> const& unclaimed() const { return pending_; }

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> read_request(std::shared_ptr<Incoming> incoming);

    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    boost::asio::steady_timer arrival_;
    std::deque<std::shared_ptr<Incoming>> pending_;
    bool stopped_ = false;
};

// Answers an upgrade request with this HTTP response instead of 101 and ends the connection.
boost::asio::awaitable<void> refuse(Incoming& incoming, unsigned status, std::string body, std::map<std::string, std::string> const& headers,
                                    client::Clock::time_point deadline);

}  // namespace conformance::server
