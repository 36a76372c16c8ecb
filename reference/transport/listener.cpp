#include "listener.hpp"

#include "http_session.hpp"
#include "hub.hpp"

#include <boost/beast/core/bind_handler.hpp>

namespace relay::transport {

Listener::Listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint, Hub& hub)
    : acceptor_(ioc), retry_(ioc), hub_(hub) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
}

void Listener::run() { do_accept(); }

void Listener::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

void Listener::do_accept() {
    acceptor_.async_accept(boost::beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code ec, Socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
        ++hub_.counters().accept_errors;
        // Running out of file descriptors must not stop the relay: say so, wait a moment, accept again.
        // Said once, then once per warning_interval while it lasts, not at every retry.
        auto const now = std::chrono::steady_clock::now();
        if (failed_accepts_++ == 0 || now - last_warning_ >= warning_interval) {
            last_warning_ = now;
            hub_.log().log(LogLevel::warn, "accept failed: " + ec.message() + " (" + std::to_string(failed_accepts_) +
                                               " times so far); retrying every " + std::to_string(retry_interval.count()) +
                                               " ms; raise ulimit -n for more sockets");
        }
        retry_.expires_after(retry_interval);
        retry_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
            if (!wait_ec) self->do_accept();
        });
        return;
    }
    if (failed_accepts_ > 0) {
        hub_.log().log(LogLevel::warn, "accepting again after " + std::to_string(failed_accepts_) + " failed accepts");
        failed_accepts_ = 0;
    }
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    std::make_shared<HttpSession>(std::move(socket), hub_)->run();
    do_accept();
}

}  // namespace relay::transport
