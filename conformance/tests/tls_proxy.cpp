#include "tls_proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <memory>

namespace conformance::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

using TlsSocket = net::ssl::stream<tcp::socket>;

struct Link {
    TlsSocket client;
    tcp::socket backend;
};

template <class From, class To>
net::awaitable<void> pipe(std::shared_ptr<Link> link, From& from, To& to) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        boost::system::error_code ec;
        auto const n = co_await from.async_read_some(net::buffer(buffer), net::redirect_error(use_awaitable, ec));
        if (ec) break;
        co_await net::async_write(to, net::buffer(buffer, n), net::redirect_error(use_awaitable, ec));
        if (ec) break;
    }
    // Either side ending ends both, as a plain TCP connection through the proxy would.
    boost::system::error_code ignored;
    link->client.lowest_layer().close(ignored);
    link->backend.close(ignored);
}

net::awaitable<void> serve(std::shared_ptr<Link> link, unsigned short backend_port) {
    boost::system::error_code ec;
    co_await link->client.async_handshake(net::ssl::stream_base::server, net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    co_await link->backend.async_connect({net::ip::make_address("127.0.0.1"), backend_port}, net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto executor = co_await net::this_coro::executor;
    net::co_spawn(executor, pipe(link, link->client, link->backend), net::detached);
    net::co_spawn(executor, pipe(link, link->backend, link->client), net::detached);
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, net::ssl::context& tls, unsigned short backend_port) {
    for (;;) {
        boost::system::error_code ec;
        auto socket = co_await acceptor.async_accept(net::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        auto executor = socket.get_executor();
        auto link = std::make_shared<Link>(Link{TlsSocket(std::move(socket), tls), tcp::socket(executor)});
        net::co_spawn(executor, serve(link, backend_port), net::detached);
    }
}

}  // namespace

TlsProxy::TlsProxy(unsigned short backend_port, std::string const& certificate, std::string const& key)
    : tls_(net::ssl::context::tls_server), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
      backend_port_(backend_port), port_(acceptor_.local_endpoint().port()) {
    tls_.use_certificate_chain_file(certificate);
    tls_.use_private_key_file(key, net::ssl::context::pem);
    net::co_spawn(ioc_, accept_loop(acceptor_, tls_, backend_port_), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
}

TlsProxy::~TlsProxy() {
    ioc_.stop();
    thread_.join();
}

}  // namespace conformance::testing
