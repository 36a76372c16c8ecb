// One TCP connection before it becomes a WebSocket: reads requests, answers those the router
// answers itself (keeping the connection alive if asked), hands upgrades to a WebSocketSession.
#pragma once

#include "socket.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace relay::transport {

class Hub;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(Socket&& socket, Hub& hub);
    void run();

private:
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);

    HttpStream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> response_;
    Hub& hub_;
};

}  // namespace relay::transport
