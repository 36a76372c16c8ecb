#include "server/listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>

namespace conformance::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
using client::Clock;
using net::ip::tcp;

namespace {
// A client that connects and never finishes its request is let go after this.
constexpr auto request_timeout = std::chrono::seconds(30);
}  // namespace

Listener::Listener(net::any_io_executor executor, unsigned short port)
    : acceptor_(executor, tcp::endpoint(net::ip::make_address("127.0.0.1"), port)), arrival_(executor) {
    port_ = acceptor_.local_endpoint().port();
}

void Listener::start() {
    net::co_spawn(acceptor_.get_executor(), [self = shared_from_this()] { return self->accept_loop(); }, net::detached);
}

void Listener::stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& incoming : pending_) incoming->stream.socket().close(ignored);
    pending_.clear();
    arrival_.cancel();
}

net::awaitable<void> Listener::accept_loop() {
    auto const self = shared_from_this();
    while (!stopped_) {
        boost::system::error_code ec;
        auto socket = co_await acceptor_.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (stopped_ || ec == net::error::operation_aborted) co_return;
            continue;  // this one connection failed (say, reset before it was accepted)
        }
        net::co_spawn(acceptor_.get_executor(), read_request(std::make_shared<Incoming>(std::move(socket))), net::detached);
    }
}

net::awaitable<void> Listener::read_request(std::shared_ptr<Incoming> incoming) {
    auto const self = shared_from_this();
    boost::system::error_code ec;
    incoming->stream.expires_after(request_timeout);
    co_await http::async_read(incoming->stream, incoming->buffer, incoming->request, net::redirect_error(net::use_awaitable, ec));
    incoming->stream.expires_never();
    if (ec || stopped_) co_return;  // the connection closes with `incoming`
    incoming->at = Clock::now();
    incoming->handshake.target = std::string(incoming->request.target());
    for (auto const& field : incoming->request) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        incoming->handshake.headers.emplace(std::move(name), std::string(field.value()));
    }
    pending_.push_back(std::move(incoming));
    arrival_.cancel();
}

net::awaitable<std::shared_ptr<Incoming>> Listener::claim(std::function<bool(Incoming const&)> wanted, Clock::time_point deadline) {
    for (;;) {
        auto const found = std::find_if(pending_.begin(), pending_.end(), [&](auto const& incoming) { return wanted(*incoming); });
        if (found != pending_.end()) {
            auto incoming = std::move(*found);
            pending_.erase(found);
            co_return incoming;
        }
        if (stopped_ || Clock::now() >= deadline) co_return nullptr;
        arrival_.expires_at(deadline);
        boost::system::error_code ec;
        co_await arrival_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

net::awaitable<void> refuse(Incoming& incoming, unsigned status, std::string body, std::map<std::string, std::string> const& headers,
                            Clock::time_point deadline) {
    http::response<http::string_body> response;
    response.version(incoming.request.version());
    response.result(status);
    for (auto const& [name, value] : headers) response.set(name, value);
    response.body() = std::move(body);
    response.keep_alive(false);
    response.prepare_payload();
    incoming.stream.expires_at(deadline);
    boost::system::error_code ec;
    co_await http::async_write(incoming.stream, response, net::redirect_error(net::use_awaitable, ec));
    incoming.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    incoming.stream.close();
}

}  // namespace conformance::server
