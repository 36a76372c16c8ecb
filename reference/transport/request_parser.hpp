// The relay's HTTP request parser, apart from the session that feeds it so that a fuzz target
// (reference/tests/fuzz) can drive it without a socket.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>

namespace relay::transport {

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

}  // namespace relay::transport
