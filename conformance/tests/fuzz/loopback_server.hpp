// A server on a loopback port for the client fuzz targets: it answers one connection at a time with
// the fuzz input's bytes, then ends its side, as a hostile relay might. The clients are the runner's
// own (conformance/client), which connect by address; only the answer comes from the fuzzer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <exception>
#include <functional>
#include <string>

namespace conformance::fuzz {

class LoopbackServer {
public:
    explicit LoopbackServer(boost::asio::io_context& io)
        : acceptor_(io, {boost::asio::ip::address_v4::loopback(), 0}) {}

    std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

    // Accepts one connection, reads the request head, writes what `answer` makes of it, ends sending,
    // and reads whatever else comes until the client is done with the connection.
    boost::asio::awaitable<void> answer_once(std::function<std::string(std::string const& head)> answer) {
        namespace net = boost::asio;
        auto socket = co_await acceptor_.async_accept(net::use_awaitable);
        boost::system::error_code ec;
        std::string head;
        co_await net::async_read_until(socket, net::dynamic_buffer(head), "\r\n\r\n", net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return;
        auto const bytes = answer(head);
        co_await net::async_write(socket, net::buffer(bytes), net::redirect_error(net::use_awaitable, ec));
        socket.shutdown(net::ip::tcp::socket::shutdown_send, ec);
        char sink[4096];
        while (!ec) co_await socket.async_read_some(net::buffer(sink), net::redirect_error(net::use_awaitable, ec));
    }

private:
    boost::asio::ip::tcp::acceptor acceptor_;
};

// For co_spawn: an exception that escapes is a crash, for the fuzzer to report.
inline void rethrow(std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
}

}  // namespace conformance::fuzz
