// WsConnection's operations compiled for plain TCP (ws:// relays).
#include "client/ws_connection_streams.hpp"

namespace conformance::client {

template boost::asio::awaitable<std::optional<HandshakeRefused>> WsConnection::open_on(PlainWs&, std::string,
                                                                                       std::map<std::string, std::string>,
                                                                                       Clock::time_point);
template boost::asio::awaitable<void> WsConnection::write_on(PlainWs&, bool, std::string const&, boost::beast::error_code&);
template void WsConnection::close_on(PlainWs&, std::uint16_t, std::string);

// Accepted sockets (client checks) are plain TCP only.
boost::asio::awaitable<void> WsConnection::accept(boost::beast::http::request<boost::beast::http::string_body> const& request,
                                                  Clock::time_point deadline) {
    co_await accept_on(std::get<PlainWs>(ws_), request, deadline);
}

}  // namespace conformance::client
