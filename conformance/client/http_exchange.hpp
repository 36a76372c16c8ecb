// One plain HTTP/1.1 request on its own connection, for `http` steps and refused handshakes.
#pragma once

#include "client/wire.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <stdexcept>
#include <string>

namespace conformance::client {

// Could not connect, send or read in time: an infrastructure fault, not a protocol verdict.
class ConnectionFault : public std::runtime_error {
public:
    ConnectionFault(std::string what, bool refused) : std::runtime_error(std::move(what)), refused(refused) {}
    bool refused;  // the TCP connection itself was refused
};

boost::asio::awaitable<HttpResponse> http_exchange(Endpoint endpoint, std::string method, std::string target,
                                                   std::map<std::string, std::string> headers, Clock::time_point deadline);

}  // namespace conformance::client
