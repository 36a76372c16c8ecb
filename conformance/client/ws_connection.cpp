#include "client/ws_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace conformance::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using net::use_awaitable;

WsConnection::WsConnection(net::any_io_executor executor) : ws_(executor), arrival_(executor) {}

net::awaitable<std::optional<HandshakeRefused>> WsConnection::open(Endpoint endpoint, std::string target,
                                                                   std::map<std::string, std::string> headers,
                                                                   Clock::time_point deadline) {
    beast::error_code ec;
    net::ip::tcp::resolver resolver(co_await net::this_coro::executor);
    auto const endpoints = co_await resolver.async_resolve(endpoint.host, endpoint.port, net::redirect_error(use_awaitable, ec));
    if (ec) throw ConnectionFault("cannot resolve " + endpoint.host + ": " + ec.message(), false);
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.expires_at(deadline);
    co_await tcp.async_connect(endpoints, net::redirect_error(use_awaitable, ec));
    if (ec) throw ConnectionFault("cannot connect to " + endpoint.host + ":" + endpoint.port + ": " + ec.message(),
                                  ec == net::error::connection_refused);
    tcp.socket().set_option(net::ip::tcp::no_delay(true), ec);

    // Wire-visible choices: no compression offered, no client pings, no message size cap (the
    // queue cap above bounds memory instead), one frame per message.
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
        for (auto const& [name, value] : headers) req.set(name, value);
    }));
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    websocket::response_type response;
    co_await ws_.async_handshake(response, endpoint.host + ":" + endpoint.port, target, net::redirect_error(use_awaitable, ec));
    if (ec == websocket::error::upgrade_declined) {
        HandshakeRefused refused;
        refused.response.status = response.result_int();
        refused.response.reason = std::string(response.reason());
        for (auto const& field : response) {
            std::string name(field.name_string());
            for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
            refused.response.headers[name] = std::string(field.value());
        }
        refused.response.body = response.body();
        co_return refused;
    }
    if (ec) throw ConnectionFault("WebSocket handshake failed: " + ec.message(), false);
    tcp.expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::milliseconds(500);  // closing: the official relay never answers
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    // A close frame is an event the moment it arrives, not when the TCP connection finally ends.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind != websocket::frame_type::close || close_seen_) return;
        close_seen_ = true;
        auto const& reason = ws_.reason();
        push({WireEvent::Kind::close, false, {}, std::uint16_t(reason.code), std::string(reason.reason.data(), reason.reason.size()),
              Clock::now()});
    });
    net::co_spawn(ws_.get_executor(), [self = shared_from_this()] { return self->read_loop(); }, net::detached);
    co_return std::nullopt;
}

net::awaitable<void> WsConnection::read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
        beast::error_code ec;
        co_await ws_.async_read(buffer, net::redirect_error(use_awaitable, ec));
        if (ec) {
            if (!close_seen_) push({WireEvent::Kind::ended, false, {}, 1006, ec.message(), Clock::now()});
            ended_ = true;
            co_return;
        }
        push({WireEvent::Kind::frame, ws_.got_binary(), beast::buffers_to_string(buffer.data()), 0, {}, Clock::now()});
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
    ws_.binary(binary);
    beast::get_lowest_layer(ws_).expires_at(deadline);
    beast::error_code ec;
    co_await ws_.async_write(net::buffer(payload), net::redirect_error(use_awaitable, ec));
    beast::get_lowest_layer(ws_).expires_never();
    if (ec) throw ConnectionFault("sending a frame failed: " + ec.message(), false);
}

void WsConnection::send_close(std::uint16_t code, std::string reason) {
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                    [self = shared_from_this()](beast::error_code) {});
}

void WsConnection::drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
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
