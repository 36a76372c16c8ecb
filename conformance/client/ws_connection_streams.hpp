// WsConnection's operations on one stream type, included only by the file that compiles them for that
// type (ws_connection_plain.cpp, ws_connection_tls.cpp); ws_connection.cpp picks the type at run time.
#pragma once

#include "client/ws_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace conformance::client {

template <class Ws>
boost::asio::awaitable<std::optional<HandshakeRefused>> WsConnection::open_on(Ws& ws, std::string target,
                                                                              std::map<std::string, std::string> headers,
                                                                              Clock::time_point deadline) {
    namespace net = boost::asio;
    namespace beast = boost::beast;
    namespace websocket = beast::websocket;
    co_await connect(tcp(), endpoint_, deadline);
    if constexpr (std::is_same_v<Ws, TlsWs>) co_await tls_handshake(ws.next_layer(), endpoint_.host, deadline);

    // Wire-visible choices: compression only for the deflate transport, no client pings, no message
    // size cap on the wire (read_loop refuses a message over max_message_bytes itself, without the
    // closing handshake Beast's cap would wait on).
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
    co_await ws.async_handshake(response, endpoint_.host + ":" + endpoint_.port, target, net::redirect_error(net::use_awaitable, ec));
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
    start_reading(ws, false);
    co_return std::nullopt;
}

template <class Ws>
boost::asio::awaitable<void> WsConnection::accept_on(Ws& ws, boost::beast::http::request<boost::beast::http::string_body> const& request,
                                                     Clock::time_point deadline) {
    namespace net = boost::asio;
    namespace websocket = boost::beast::websocket;
    // Wire-visible choices, as the official relay's: no extension negotiated (permessage-deflate off
    // whatever the client offers), no pings of our own, no message size cap on the wire (read_loop
    // refuses a message over max_message_bytes itself).
    websocket::permessage_deflate pmd;
    pmd.server_enable = false;
    pmd.client_enable = false;
    ws.set_option(pmd);
    ws.read_message_max(0);
    ws.auto_fragment(false);
    boost::beast::error_code ec;
    tcp().expires_at(deadline);
    co_await ws.async_accept(request, net::redirect_error(net::use_awaitable, ec));
    tcp().expires_never();
    if (ec) throw ConnectionFault("answering the client's handshake failed: " + ec.message(), false);
    start_reading(ws, true);
}

template <class Ws>
void WsConnection::start_reading(Ws& ws, bool server) {
    namespace net = boost::asio;
    namespace websocket = boost::beast::websocket;
    websocket::stream_base::timeout timeouts{};
    // A client's own close frame waits for no answer (the official relay gives none) and ends nothing
    // by itself: only what the relay does becomes an event. A server completes the closing handshake
    // and ends TCP, in bounded time: Node's `ws` reports a close only once TCP has ended.
    timeouts.handshake_timeout = server ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(server_close_timeout)
                                        : websocket::stream_base::none();
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    // A close frame is an event the moment it arrives, not when the TCP connection finally ends.
    ws.control_callback([this, &ws](websocket::frame_type kind, boost::beast::string_view) {
        if (kind != websocket::frame_type::close || close_seen_) return;
        close_seen_ = true;
        push_close(ws.reason());
    });
    net::co_spawn(ws.get_executor(), [self = shared_from_this(), &ws] { return self->read_loop(ws); }, net::detached);
}

template <class Ws>
boost::asio::awaitable<void> WsConnection::read_loop(Ws& ws) {
    namespace net = boost::asio;
    namespace beast = boost::beast;
    for (;;) {
        // A buffer for each message, never larger than the cap allows: between messages a socket holds
        // no buffer, only its queue.
        beast::flat_buffer buffer(max_message_bytes + 1);
        do {
            beast::error_code ec;
            // Never more than one byte past the cap into memory, however long the frame says it is.
            co_await ws.async_read_some(buffer, max_message_bytes + 1 - buffer.size(), net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                bool const invalid = ec == beast::websocket::condition::protocol_violation;
                ended_ = true;
                if (!invalid && !close_seen_ && closing_ && ec == net::error::operation_aborted) {
                    // Our own close is under way: Beast's close operation read the relay's answer (or
                    // failed) and ended this read. Its completion tells which.
                    close_answer_pending_ = true;
                    if (close_done_) report_close_answer(ws);
                    co_return;
                }
                if (!close_seen_ || invalid)
                    push({invalid ? WireEvent::Kind::invalid : WireEvent::Kind::ended, false, {}, 1006, ec.message(), Clock::now()});
                co_return;
            }
            if (buffer.size() > max_message_bytes) {
                push({WireEvent::Kind::invalid, false, {}, 1006,
                      "a message longer than " + std::to_string(max_message_bytes) + " bytes, more than a relay forwards", Clock::now()});
                drop();
                ended_ = true;
                co_return;
            }
        } while (!ws.is_message_done());
        push({WireEvent::Kind::frame, ws.got_binary(), beast::buffers_to_string(buffer.data()), 0, {}, Clock::now()});
        if (overflowed_) co_return;
    }
}

template <class Ws>
boost::asio::awaitable<void> WsConnection::write_on(Ws& ws, bool binary, std::string const& payload, boost::beast::error_code& ec) {
    namespace net = boost::asio;
    ws.binary(binary);
    if (endpoint_.transport != Transport::fragmented) {
        co_await ws.async_write(net::buffer(payload), net::redirect_error(net::use_awaitable, ec));
        co_return;
    }
    auto const pieces = fragments(payload);
    for (std::size_t i = 0; i < pieces.size() && !ec; ++i)
        co_await ws.async_write_some(i + 1 == pieces.size(), net::buffer(pieces[i]), net::redirect_error(net::use_awaitable, ec));
}

template <class Ws>
void WsConnection::close_on(Ws& ws, std::uint16_t code, std::string reason) {
    namespace websocket = boost::beast::websocket;
    closing_ = true;
    ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                   [self = shared_from_this(), &ws](boost::beast::error_code ec) {
                       self->close_done_ = true;
                       self->close_error_ = ec;
                       if (self->close_answer_pending_) self->report_close_answer(ws);
                   });
}

template <class Ws>
void WsConnection::report_close_answer(Ws& ws) {
    if (close_seen_) return;
    if (!close_error_) {
        close_seen_ = true;
        push_close(ws.reason());
    } else {
        push({WireEvent::Kind::ended, false, {}, 1006, close_error_.message(), Clock::now()});
    }
}

}  // namespace conformance::client
