// wss:// and https:// support: one TLS context per run, and the client handshake both socket kinds share.
#pragma once

#include "client/wire.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <string>

namespace conformance::client {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Verifies the relay's certificate against the system's CAs, plus `ca_file` if given; `insecure`
// skips verification altogether. Throws std::runtime_error naming the file it could not read.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(bool insecure, std::string const& ca_file);

// The TLS client handshake on an already connected stream, with SNI and host name checks for `host`.
// Throws ConnectionFault with what went wrong and what to do about it.
boost::asio::awaitable<void> tls_handshake(TlsStream& stream, std::string const& host, Clock::time_point deadline);

}  // namespace conformance::client
