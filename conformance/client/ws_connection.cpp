#include "client/ws_connection.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace conformance::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using net::use_awaitable;

namespace {

using AnyWs = std::variant<websocket::stream<beast::tcp_stream>, websocket::stream<TlsStream>>;

AnyWs make_stream(net::any_io_executor executor, Endpoint const& endpoint) {
    if (endpoint.tls) return AnyWs(std::in_place_index<1>, executor, *endpoint.tls);
    return AnyWs(std::in_place_index<0>, executor);
}

}  // namespace

WsConnection::WsConnection(net::any_io_executor executor, Endpoint endpoint)
    : endpoint_(std::move(endpoint)), ws_(make_stream(executor, endpoint_)), arrival_(executor) {}

WsConnection::WsConnection(beast::tcp_stream accepted)
    : ws_(std::in_place_index<0>, std::move(accepted)), arrival_(std::get<PlainWs>(ws_).get_executor()) {}

beast::tcp_stream& WsConnection::tcp() {
    return std::visit([](auto& ws) -> beast::tcp_stream& { return beast::get_lowest_layer(ws); }, ws_);
}

net::awaitable<std::optional<HandshakeRefused>> WsConnection::open(std::string target, std::map<std::string, std::string> headers,
                                                                   Clock::time_point deadline) {
    if (auto* tls = std::get_if<TlsWs>(&ws_)) co_return co_await open_on(*tls, std::move(target), std::move(headers), deadline);
    co_return co_await open_on(std::get<PlainWs>(ws_), std::move(target), std::move(headers), deadline);
}

// What an event holds in the queue: a flood of tiny frames costs its bookkeeping, not its payloads.
std::size_t WsConnection::cost(WireEvent const& event) { return sizeof(WireEvent) + event.payload.size() + event.reason.size(); }

void WsConnection::push(WireEvent event) {
    queued_bytes_ += cost(event);
    if (queued_bytes_ > max_queued_bytes) {
        overflowed_ = true;
        drop();
        return;
    }
    events_.push_back(std::move(event));
    arrival_.cancel();
}

net::awaitable<void> WsConnection::send(bool binary, std::string payload, Clock::time_point deadline) {
    tcp().expires_at(deadline);
    beast::error_code ec;
    if (auto* tls = std::get_if<TlsWs>(&ws_))
        co_await write_on(*tls, binary, payload, ec);
    else
        co_await write_on(std::get<PlainWs>(ws_), binary, payload, ec);
    tcp().expires_never();
    if (ec) throw ConnectionFault("sending a frame failed: " + ec.message(), false);
}

std::vector<std::string_view> fragments(std::string_view payload) {
    // Pieces of a third of the message, rounded up, and never fewer than two (empty ones where the
    // message is shorter), as pyharness splits them.
    std::size_t const size = std::max<std::size_t>(1, (payload.size() + 2) / 3);
    std::vector<std::string_view> out;
    for (std::size_t from = 0; from < payload.size(); from += size) out.push_back(payload.substr(from, size));
    while (out.size() < 2) out.push_back(payload.substr(payload.size()));
    return out;
}

char const* to_string(Transport t) {
    switch (t) {
    case Transport::plain: return "plain";
    case Transport::deflate: return "deflate";
    case Transport::fragmented: return "fragmented";
    }
    return "?";
}

void WsConnection::send_close(std::uint16_t code, std::string reason) {
    if (auto* tls = std::get_if<TlsWs>(&ws_))
        close_on(*tls, code, std::move(reason));
    else
        close_on(std::get<PlainWs>(ws_), code, std::move(reason));
}

void WsConnection::push_close(websocket::close_reason const& reason) {
    std::uint16_t const code = reason.code == websocket::close_code::none ? 1005 : std::uint16_t(reason.code);
    push({WireEvent::Kind::close, false, {}, code, std::string(reason.reason.data(), reason.reason.size()), Clock::now()});
}

void WsConnection::drop() {
    beast::error_code ignored;
    tcp().socket().close(ignored);
}

net::awaitable<std::optional<WireEvent>> WsConnection::next(Clock::time_point deadline) {
    while (events_.empty()) {
        if (Clock::now() >= deadline) co_return std::nullopt;
        arrival_.expires_at(deadline);
        beast::error_code ec;
        co_await arrival_.async_wait(net::redirect_error(use_awaitable, ec));
    }
    auto event = std::move(events_.front());
    events_.pop_front();
    queued_bytes_ -= cost(event);
    co_return event;
}

}  // namespace conformance::client
