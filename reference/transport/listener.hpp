// Accepts TCP connections on one address and gives each to an HttpSession.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "socket.hpp"

#include <chrono>
#include <cstddef>
#include <memory>

namespace relay::transport {

class Hub;

class Listener : public std::enable_shared_from_this<Listener> {
public:
    // Throws boost::system::system_error if the address cannot be bound.
    Listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint, Hub& hub);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void run();
    void stop();

private:
    void do_accept();
    void on_accept(boost::system::error_code ec, Socket socket);

    static constexpr std::chrono::milliseconds retry_interval{100};
    static constexpr std::chrono::seconds warning_interval{10};

    Acceptor acceptor_;
    boost::asio::steady_timer retry_;
    Hub& hub_;
    std::size_t failed_accepts_ = 0;  // in a row, since the last accept that succeeded
    std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace relay::transport
