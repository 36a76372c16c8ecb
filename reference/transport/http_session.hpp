// One TCP connection before it becomes a WebSocket: reads requests, answers those the router
// answers itself (keeping the connection alive as the official runtime does), hands upgrades to a
// WebSocketSession. Requests the runtime's own HTTP server turns away get its answers (docs/protocol.md,
// "Malformed and unusual HTTP requests").
#pragma once

#include "request_parser.hpp"
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
    void parse();
    void on_read_some(boost::beast::error_code ec, std::size_t bytes);
    void on_read(boost::beast::error_code ec);
    void answer(bool body_failed);
    void write(bool keep_alive);
    void write_nothing();
    void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);

    HttpStream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<RequestParser> parser_;
    std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> response_;
    Hub& hub_;
    bool answered_ = false;  // a request was answered: the next one's deadlines start from its first byte
};

}  // namespace relay::transport
