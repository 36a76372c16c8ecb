#include "request_parser.hpp"

#include <algorithm>
#include <limits>

namespace relay::transport {

namespace http = boost::beast::http;

RequestParser::RequestParser(std::size_t limit) : limit_(limit) { body_limit(boost::none); }

std::size_t RequestParser::feed(boost::asio::const_buffer bytes, error_code& ec) {
    bool const in_head = !is_header_done();
    if (in_head) header_limit(static_cast<std::uint32_t>(limit_ - std::min(head_bytes_, limit_)));
    auto const used = put(bytes, ec);
    if (in_head) head_bytes_ += used;
    return used;
}

void RequestParser::on_request_impl(http::verb method, string_view method_string, string_view target, int version,
                                    error_code&) {
    // The fields get what the request line (method, target, `HTTP/x.y`, two spaces and CRLF) left.
    std::size_t const line = method_string.size() + target.size() + 12;
    std::size_t const left = limit_ - std::min(head_bytes_, limit_);
    header_limit(static_cast<std::uint32_t>(line < left ? left - line : 0));
    if (method == http::verb::unknown)
        request_.method_string(method_string);
    else
        request_.method(method);
    request_.target(target);
    request_.version(version);
}

void RequestParser::on_field_impl(http::field name, string_view name_string, string_view value, error_code&) {
    constexpr std::size_t storable = std::numeric_limits<std::uint16_t>::max() - 2;
    if (name_string.size() > storable || value.size() > storable) return;
    request_.insert(name, name_string, value);
}

}  // namespace relay::transport
