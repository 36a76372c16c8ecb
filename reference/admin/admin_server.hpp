// The admin port: an HTTP listener on a loopback address, apart from the relay's own port (which never
// learns of it), answering each request through the AdminApi.
#pragma once

#include "admin_api.hpp"
#include "transport/logger.hpp"
#include "transport/socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace relay::admin {

class AdminServer : public std::enable_shared_from_this<AdminServer> {
public:
    // Throws boost::system::system_error if the address cannot be bound.
    AdminServer(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint, AdminApi& api,
                transport::Logger const& log);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void run();
    void stop();

private:
    void do_accept();

    transport::Acceptor acceptor_;
    AdminApi& api_;
    transport::Logger const& log_;
};

// One connection to the admin port: requests answered in turn while the client keeps it alive.
class AdminConnection : public std::enable_shared_from_this<AdminConnection> {
public:
    AdminConnection(transport::Socket&& socket, AdminApi& api, transport::Logger const& log);
    void run() { do_read(); }

private:
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);

    transport::HttpStream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
    AdminApi& api_;
    transport::Logger const& log_;
};

}  // namespace relay::admin
