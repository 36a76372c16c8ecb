#include "admin_server.hpp"

#include <boost/beast/core/bind_handler.hpp>

namespace relay::admin {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::size_t body_limit = 64 * 1024;
constexpr std::chrono::seconds request_timeout{30};
}  // namespace

AdminServer::AdminServer(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint, AdminApi& api,
                         transport::Logger const& log)
    : acceptor_(ioc), api_(api), log_(log) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
}

void AdminServer::run() { do_accept(); }

void AdminServer::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

void AdminServer::do_accept() {
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, transport::Socket socket) {
        if (ec == boost::asio::error::operation_aborted) return;
        if (!ec) std::make_shared<AdminConnection>(std::move(socket), self->api_, self->log_)->run();
        self->do_accept();
    });
}

AdminConnection::AdminConnection(transport::Socket&& socket, AdminApi& api, transport::Logger const& log)
    : stream_(std::move(socket)), api_(api), log_(log) {}

void AdminConnection::do_read() {
    parser_.emplace();
    parser_->body_limit(body_limit);
    stream_.expires_after(request_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&AdminConnection::on_read, shared_from_this()));
}

void AdminConnection::on_read(beast::error_code ec, std::size_t) {
    if (ec) {
        stream_.socket().shutdown(transport::Socket::shutdown_send, ec);
        return;
    }
    auto const& request = parser_->get();
    auto answer = api_.answer(request.method(), request.target(), request.body());
    log_.log(transport::LogLevel::debug, "admin: " + std::string(request.method_string()) + " " +
                                             std::string(request.target()) + " -> " + std::to_string(answer.status));
    response_ = {static_cast<http::status>(answer.status), request.version()};
    response_.set(http::field::content_type, answer.content_type);
    response_.keep_alive(request.keep_alive());
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&AdminConnection::on_write, shared_from_this(), response_.keep_alive()));
}

void AdminConnection::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec) return;
    if (keep_alive) return do_read();
    stream_.socket().shutdown(transport::Socket::shutdown_send, ec);
}

}  // namespace relay::admin
