// One TCP connection before it becomes a WebSocket: reads requests, answers those the router
// answers itself (keeping the connection alive as the official runtime does), hands upgrades to a
// WebSocketSession. Requests the runtime's own HTTP server turns away get its answers (docs/protocol.md,
// "Malformed and unusual HTTP requests").
#pragma once

#include "socket.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace relay::transport {

class Hub;

// A request parser that measures the head as the official runtime does: the request line and the
// header fields together at most `limit` bytes. Beast's header_limit (1.81) bounds what one put() sees
// after the request line, so feed() sets it to what earlier puts and the request line left. The relay
// reads no body: it is parsed and dropped, whatever its size. A field too long for Beast's field
// storage (64 KiB) is dropped too: the relay reads none such.
class RequestParser : public boost::beast::http::basic_parser<true> {
public:
    explicit RequestParser(std::size_t limit);
    // put() within the head limit; the bytes used.
    std::size_t feed(boost::asio::const_buffer bytes, boost::beast::error_code& ec);
    boost::beast::http::request<boost::beast::http::string_body>& get() { return request_; }

private:
    using string_view = boost::beast::string_view;
    using error_code = boost::beast::error_code;
    void on_request_impl(boost::beast::http::verb method, string_view method_string, string_view target, int version,
                         error_code&) override;
    void on_response_impl(int, string_view, int, error_code&) override {}
    void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value, error_code&) override;
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
    std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override { return body.size(); }
    void on_finish_impl(error_code&) override {}

    std::size_t limit_;
    std::size_t head_bytes_ = 0;  // of the head, used by earlier puts
    boost::beast::http::request<boost::beast::http::string_body> request_;
};

//------------------------------------------------------------------------------

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
};

}  // namespace relay::transport
