#include "client/ws_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>

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

beast::tcp_stream& WsConnection::tcp() {
    return std::visit([](auto& ws) -> beast::tcp_stream& { return beast::get_lowest_layer(ws); }, ws_);
}

net::awaitable<std::optional<HandshakeRefused>> WsConnection::open(std::string target, std::map<std::string, std::string> headers,
                                                                   Clock::time_point deadline) {
    if (auto* tls = std::get_if<TlsWs>(&ws_)) co_return co_await open_on(*tls, std::move(target), std::move(headers), deadline);
    co_return co_await open_on(std::get<PlainWs>(ws_), std::move(target), std::move(headers), deadline);
}

template <class Ws>
net::awaitable<std::optional<HandshakeRefused>> WsConnection::open_on(Ws& ws, std::string target, std::map<std::string, std::string> headers,
                                                                      Clock::time_point deadline) {
    co_await connect(tcp(), endpoint_, deadline);
    if constexpr (std::is_same_v<Ws, TlsWs>) co_await tls_handshake(ws.next_layer(), endpoint_.host, deadline);

    // Wire-visible choices: compression only for the deflate transport, no client pings, no message
    // size cap (the queue cap above bounds memory instead).
    bool const deflate = endpoint_.transport == Transport::deflate;
    if (deflate) {
        websocket::permessage_deflate pmd;
        pmd.client_enable = true;
        pmd.msg_size_threshold = 0;  // every message, so the relay's inflating is exercised even for small ones
        ws.set_option(pmd);
    }
    ws.set_option(websocket::stream_base::decorator([headers, deflate](websocket::request_type& req) {
        // Beast would offer both window sizes; Paseo's clients (Node's `ws`) offer exactly this.
        if (deflate) req.set(beast::http::field::sec_websocket_extensions, "permessage-deflate; client_max_window_bits");
        for (auto const& [name, value] : headers) req.set(name, value);
    }));
    ws.read_message_max(0);
    ws.auto_fragment(false);
    websocket::response_type response;
    beast::error_code ec;
    tcp().expires_at(deadline);
    co_await ws.async_handshake(response, endpoint_.host + ":" + endpoint_.port, target, net::redirect_error(use_awaitable, ec));
    if (ec == websocket::error::upgrade_declined) {
        HandshakeRefused refused;
        refused.response.status = response.result_int();
        refused.response.reason = std::string(response.reason());
        refused.response.headers = lower_case_headers(response);
        refused.response.body = response.body();
        co_return refused;
    }
    if (ec) throw BadResponse("no usable handshake answer: " + ec.message());
    tcp().expires_never();
    websocket::stream_base::timeout timeouts{};
    // Our own close frame waits for no answer (the official relay gives none) and ends nothing by
    // itself: only what the relay does becomes an event.
    timeouts.handshake_timeout = websocket::stream_base::none();
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    // A close frame is an event the moment it arrives, not when the TCP connection finally ends.
    ws.control_callback([this, &ws](websocket::frame_type kind, beast::string_view) {
        if (kind != websocket::frame_type::close || close_seen_) return;
        close_seen_ = true;
        auto const& reason = ws.reason();
        push({WireEvent::Kind::close, false, {}, std::uint16_t(reason.code), std::string(reason.reason.data(), reason.reason.size()),
              Clock::now()});
    });
    net::co_spawn(ws.get_executor(), [self = shared_from_this(), &ws] { return self->read_loop(ws); }, net::detached);
    co_return std::nullopt;
}

template <class Ws>
net::awaitable<void> WsConnection::read_loop(Ws& ws) {
    beast::flat_buffer buffer;
    for (;;) {
        beast::error_code ec;
        co_await ws.async_read(buffer, net::redirect_error(use_awaitable, ec));
        if (ec) {
            bool const invalid = ec == websocket::condition::protocol_violation;
            if (!close_seen_ || invalid)
                push({invalid ? WireEvent::Kind::invalid : WireEvent::Kind::ended, false, {}, 1006, ec.message(), Clock::now()});
            ended_ = true;
            co_return;
        }
        push({WireEvent::Kind::frame, ws.got_binary(), beast::buffers_to_string(buffer.data()), 0, {}, Clock::now()});
        buffer.consume(buffer.size());
        if (overflowed_) co_return;
    }
}

void WsConnection::push(WireEvent event) {
    queued_bytes_ += event.payload.size();
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
    if (endpoint_.transport == Transport::fragmented) {
        auto const pieces = fragments(payload);
        for (std::size_t i = 0; i < pieces.size() && !ec; ++i) {
            co_await std::visit(
                [&](auto& ws) {
                    ws.binary(binary);
                    return ws.async_write_some(i + 1 == pieces.size(), net::buffer(pieces[i]), net::redirect_error(use_awaitable, ec));
                },
                ws_);
        }
    } else {
        co_await std::visit(
            [&](auto& ws) {
                ws.binary(binary);
                return ws.async_write(net::buffer(payload), net::redirect_error(use_awaitable, ec));
            },
            ws_);
    }
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
    std::visit(
        [&](auto& ws) {
            ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                           [self = shared_from_this()](beast::error_code) {});
        },
        ws_);
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
    queued_bytes_ -= event.payload.size();
    co_return event;
}

}  // namespace conformance::client
