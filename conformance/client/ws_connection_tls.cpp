// WsConnection's operations compiled for TLS (wss:// relays).
#include "client/ws_connection_streams.hpp"

#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace conformance::client {

template boost::asio::awaitable<std::optional<HandshakeRefused>> WsConnection::open_on(TlsWs&, std::string,
                                                                                       std::map<std::string, std::string>,
                                                                                       Clock::time_point);
template boost::asio::awaitable<void> WsConnection::write_on(TlsWs&, bool, std::string const&, boost::beast::error_code&);
template void WsConnection::close_on(TlsWs&, std::uint16_t, std::string);

}  // namespace conformance::client
