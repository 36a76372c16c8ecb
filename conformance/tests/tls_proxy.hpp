// Terminates TLS in front of a plain relay, so wss:// can be tested against the real reference relay:
// every accepted TLS connection is piped byte for byte to the backend port.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <string>
#include <thread>

namespace conformance::testing {

class TlsProxy {
public:
    // `certificate` and `key` are PEM files; the proxy listens on an ephemeral loopback port.
    TlsProxy(unsigned short backend_port, std::string const& certificate, std::string const& key);
    ~TlsProxy();
    unsigned short port() const { return port_; }

private:
    boost::asio::io_context ioc_;
    boost::asio::ssl::context tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short backend_port_;
    unsigned short port_;
    std::thread thread_;
};

}  // namespace conformance::testing
