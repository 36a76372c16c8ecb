#include "client/http_exchange.hpp"

#include "client/tls.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace conformance::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::use_awaitable;

namespace {

template <class Stream>
net::awaitable<HttpResponse> exchange(Stream& stream, Endpoint const& endpoint, std::string const& method, std::string const& target,
                                      std::map<std::string, std::string> const& headers) {
    beast::error_code ec;
    http::request<http::empty_body> request(http::string_to_verb(method), target, 11);
    if (request.method() == http::verb::unknown) request.method_string(method);
    request.set(http::field::host, endpoint.host + ":" + endpoint.port);
    for (auto const& [name, value] : headers) request.set(name, value);
    co_await http::async_write(stream, request, net::redirect_error(use_awaitable, ec));
    if (ec) throw BadResponse("sending " + method + " " + target + " failed: " + ec.message());

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    parser.skip(request.method() == http::verb::head);
    co_await http::async_read_header(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
    if (ec) throw BadResponse("no complete HTTP response to " + method + " " + target + ": " + ec.message());
    // A 101 has no body and what follows is WebSocket traffic, not for this exchange.
    if (parser.get().result_int() != 101 && !parser.is_done()) {
        co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
        if (ec && ec != http::error::end_of_stream)
            throw BadResponse("reading the body of " + method + " " + target + " failed: " + ec.message());
    }
    HttpResponse out;
    auto const& res = parser.get();
    out.status = res.result_int();
    out.reason = std::string(res.reason());
    out.headers = lower_case_headers(res);
    out.body = res.body();
    co_return out;
}

}  // namespace

net::awaitable<void> connect(beast::tcp_stream& stream, Endpoint const& endpoint, Clock::time_point deadline) {
    beast::error_code ec;
    net::ip::tcp::resolver resolver(stream.get_executor());
    auto const endpoints = co_await resolver.async_resolve(endpoint.host, endpoint.port, net::redirect_error(use_awaitable, ec));
    if (ec) throw ConnectionFault("cannot resolve " + endpoint.host + ": " + ec.message(), false);
    stream.expires_at(deadline);
    co_await stream.async_connect(endpoints, net::redirect_error(use_awaitable, ec));
    if (ec) throw ConnectionFault("cannot connect to " + endpoint.host + ":" + endpoint.port + ": " + ec.message(),
                                  ec == net::error::connection_refused);
    stream.socket().set_option(net::ip::tcp::no_delay(true), ec);
}

net::awaitable<HttpResponse> http_exchange(Endpoint endpoint, std::string method, std::string target,
                                           std::map<std::string, std::string> headers, Clock::time_point deadline) {
    auto executor = co_await net::this_coro::executor;
    if (!endpoint.tls) {
        beast::tcp_stream stream(executor);
        co_await connect(stream, endpoint, deadline);
        co_return co_await exchange(stream, endpoint, method, target, headers);
    }
    TlsStream stream(executor, *endpoint.tls);
    co_await connect(beast::get_lowest_layer(stream), endpoint, deadline);
    co_await tls_handshake(stream, endpoint.host, deadline);
    co_return co_await exchange(stream, endpoint, method, target, headers);
}

}  // namespace conformance::client
