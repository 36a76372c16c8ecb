#include "admin_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

namespace relay::admin {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

AdminAnswer call_admin(std::string const& admin_url, http::verb method, std::string const& path, std::string const& body,
                       std::chrono::seconds deadline) {
    auto url = boost::urls::parse_uri(admin_url);
    if (!url || url->scheme() != "http" || !url->has_port() || url->host().empty())
        throw std::invalid_argument("--admin " + admin_url + " is not an admin URL; use what the relay printed, e.g. http://127.0.0.1:41238");
    // An IPv6 host comes in brackets, which the resolver does not take.
    auto host = std::string(url->encoded_host());
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);

    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    http::request<http::string_body> request{method, path, 11};
    request.set(http::field::host, url->encoded_host_and_port());
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    beast::error_code failure;

    tcp::resolver resolver(ioc);
    stream.expires_after(deadline);
    resolver.async_resolve(host, std::string(url->port()), [&](beast::error_code ec, tcp::resolver::results_type found) {
        if (ec) return void(failure = ec);
        stream.async_connect(found, [&](beast::error_code ec, tcp::endpoint const&) {
            if (ec) return void(failure = ec);
            http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
                if (ec) return void(failure = ec);
                http::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) { failure = ec; });
            });
        });
    });
    ioc.run();
    if (failure)
        throw std::runtime_error("cannot reach the admin port at " + admin_url + ": " + failure.message() +
                                 "; start the relay with --admin-port and use the URL it prints");
    return {response.result_int(), response.body()};
}

}  // namespace relay::admin
