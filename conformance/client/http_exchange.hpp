// One HTTP/1.1 request (over TLS for wss://) on its own connection, for `http` steps and refused handshakes.
#pragma once

#include "client/wire.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cctype>
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

// Connected, but the relay's answer is not one a client could use: malformed, cut off, or not there
// by the deadline. A verdict on the relay, not a fault of the runner.
class BadResponse : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Resolves and connects with TCP_NODELAY, by the deadline.
boost::asio::awaitable<void> connect(boost::beast::tcp_stream& stream, Endpoint const& endpoint, Clock::time_point deadline);

// An HTTP message's header fields with lower-case names, as HttpResponse holds them.
template <class Fields>
std::map<std::string, std::string> lower_case_headers(Fields const& fields) {
    std::map<std::string, std::string> out;
    for (auto const& field : fields) {
        std::string name(field.name_string());
        for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        out[name] = std::string(field.value());
    }
    return out;
}

boost::asio::awaitable<HttpResponse> http_exchange(Endpoint endpoint, std::string method, std::string target,
                                                   std::map<std::string, std::string> headers, Clock::time_point deadline);

}  // namespace conformance::client
