#include "websocket_session.hpp"

#include "hub.hpp"
#include "websocket_options.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>

namespace relay::transport {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {
constexpr std::size_t first_read_limit = 256;
constexpr std::size_t read_chunk_limit = 1024 * 1024;
constexpr std::uint64_t oversized_read_factor = 4;
}

WebSocketSession::WebSocketSession(Socket&& socket, Hub& hub, core::Admission admission)
    : ws_(std::move(socket), hub.batcher()),
      hub_(hub),
      id_(hub.next_id()),
      admission_(std::move(admission)),
      frames_(hub.options().max_message_bytes) {}

void WebSocketSession::run(http::request<http::string_body> request) {
    // Like the official relay's: no idle pings and no idle close (LIMIT-2).
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = hub_.options().handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    set_relay_options(ws_, timeouts, std::string(request[http::field::sec_websocket_extensions]),
                      [this](bool compressing) { compressing_ = compressing; });
    ws_.async_accept(request, beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
}

void WebSocketSession::on_accept(beast::error_code ec) {
    if (ec) {
        hub_.log().log(LogLevel::debug, "websocket handshake failed: " + ec.message());
        finished_ = true;
        return;
    }
    // Like the official runtime, the socket counts as closed when the peer's close frame arrives, not
    // when the TCP connection finally ends, so cascades (V2-CLOSE-*) start as early as there.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::close) finish({});
    });
    ws_.next_layer().batched().on_sent = [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->notice_failure();
        if (!self->congested()) self->wake_waiters();
    };
    ws_.next_layer().batched().on_received = [weak = weak_from_this()](boost::asio::const_buffer bytes) {
        if (auto self = weak.lock()) self->watch(bytes);
    };
    hub_.opened(shared_from_this(), admission_);
    admission_ = {};
    // Until its first bytes arrive, a socket only waits to become readable: a pending WebSocket read
    // holds close to a kilobyte, which the many sockets that sit idle need not pay.
    ws_.next_layer().next_layer().async_wait(boost::asio::socket_base::wait_read,
                                             [self = shared_from_this()](beast::error_code) { self->start_reading(); });
}

void WebSocketSession::start_reading() {
    if (reading_) return;
    reading_ = true;
    do_read();
}

void WebSocketSession::do_read() {
    if (finished_ || closing_for_size()) return;
    auto const max = hub_.options().max_message_bytes;
    // Read at most one byte past the cap, so an oversized message is seen without buffering it whole.
    // A message's first read is small: Beast sizes the buffer by the limit before anything arrives,
    // and most sockets sit idle most of the time.
    auto const chunk = incoming_.empty() ? first_read_limit : read_chunk_limit;
    auto const limit = inflated_over_ ? chunk : std::min(chunk, max - std::min(max, incoming_.size()) + 1);
    ws_.async_read_some(incoming_, limit,
                        beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
}

void WebSocketSession::on_read(beast::error_code ec, std::size_t) {
    if (ec) return finish(ec);
    if (closing_for_size()) return;  // async_close reads and discards until the peer's close frame
    auto const max = hub_.options().max_message_bytes;
    if (inflated_over_ || incoming_.size() > max) {
        // Only a compressed message gets here: an uncompressed one crosses the cap in a frame header
        // first. The runtime judges the inflated size once the message is whole, and a later frame that
        // crosses the cap still names sizes, so the rest is read and dropped; the bound stops a
        // compression bomb, taking it that no such frame would come.
        inflated_over_ += incoming_.size();
        incoming_.clear();
        if (!ws_.is_message_done() && inflated_over_ <= max * oversized_read_factor) return do_read();
        return close_too_big(too_large_reason(std::nullopt));
    }
    if (!ws_.is_message_done()) return do_read();

    ++messages_read_;
    auto frame = core::Frame{std::make_shared<std::string const>(incoming_.take()), ws_.got_binary()};
    hub_.received(*this, std::move(frame));
    if (holds_ > 0)
        read_paused_ = true;
    else
        do_read();
}

void WebSocketSession::watch(boost::asio::const_buffer bytes) {
    // Checked apart from the read chain too: a read waits for payload that may never come, while the
    // runtime closes on the header alone.
    if (frames_.consume({static_cast<char const*>(bytes.data()), bytes.size()}))
        boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
            if (!self->finished_) self->closing_for_size();
        });
}

// True once this socket is closing for a message over the cap, which the message being read is as soon
// as one of its frame headers crossed it.
bool WebSocketSession::closing_for_size() {
    if (too_big_) return true;
    auto const& crossing = frames_.crossing();
    if (!crossing || crossing->message != messages_read_) return false;
    close_too_big(too_large_reason(crossing));
    return true;
}

void WebSocketSession::close_too_big(std::string const& reason) {
    too_big_ = true;
    hub_.too_big(*this, reason);
}

// Beast fails a connection that breaks RFC 6455 by itself: it sends 1002 (1007 for invalid UTF-8)
// and FIN, and the read ends only once the peer sends anything more or ends TCP. The official runtime
// closes such a socket without running the relay's close handler (docs/protocol.md, "WebSocket-level
// hostility"), so the core forgets it as soon as the close frame has left, with no cascade.
void WebSocketSession::notice_failure() {
    if (ws_.is_open() || closing()) return;
    failed_ = true;
    hub_.failed(*this);
    // That wait has no deadline of its own: the closing handshake's timeout ends it, as for the
    // relay's own closes.
    auto deadline = std::make_shared<boost::asio::steady_timer>(ws_.get_executor(), hub_.options().handshake_timeout);
    deadline->async_wait([weak = weak_from_this(), deadline](beast::error_code) {
        auto self = weak.lock();
        if (!self || self->finished_) return;
        boost::system::error_code ignored;
        self->ws_.next_layer().next_layer().close(ignored);
    });
}

void WebSocketSession::send(core::Frame const& frame) {
    if (finished_ || close_queued_ || !ws_.is_open()) return;  // nothing after Beast's own close frame
    // Uncompressed frames are framed here and gathered with the socket's other output; with
    // permessage-deflate, Beast compresses them one message at a time.
    if (!compressing_) return ws_.next_layer().batched().send_frame(frame.binary, frame.payload);
    queued_bytes_ += frame.payload->size();
    queue_.push_back(Outgoing{frame, std::nullopt});
    if (!writing_) do_write();
}

void WebSocketSession::close(std::uint16_t code, std::string reason) {
    if (closing()) return;
    close_queued_ = true;
    queue_.push_back(Outgoing{{}, websocket::close_reason(static_cast<websocket::close_code>(code), reason)});
    if (!writing_) do_write();
}

void WebSocketSession::do_write() {
    writing_ = true;
    auto const& next = queue_.front();
    if (next.close) {
        // The peer's answering close frame must reach a read (and control_callback), even on a
        // socket that never sent anything, so that it counts as closed when that frame arrives.
        start_reading();
        ws_.async_close(*next.close, beast::bind_front_handler(&WebSocketSession::on_close, shared_from_this()));
        return;
    }
    ws_.binary(next.frame.binary);
    ws_.async_write(boost::asio::buffer(*next.frame.payload),
                    beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
}

void WebSocketSession::on_write(beast::error_code ec, std::size_t) {
    queued_bytes_ -= queue_.front().frame.payload->size();
    queue_.pop_front();
    if (ec) {
        writing_ = false;
        return finish(ec);
    }
    if (!congested()) wake_waiters();
    if (queue_.empty() || finished_)
        writing_ = false;
    else
        do_write();
}

void WebSocketSession::on_close(beast::error_code ec) {
    writing_ = false;
    finish(ec);
}

bool WebSocketSession::congested() const {
    return queued_bytes_ + ws_.next_layer().batched().queued_bytes() > hub_.options().max_queue_bytes;
}

void WebSocketSession::hold_reads_until_drained(std::shared_ptr<WebSocketSession> const& reader) {
    if (finished_) return;
    waiters_.push_back(reader);
    ++reader->holds_;
}

void WebSocketSession::release_hold() {
    if (--holds_ > 0 || !read_paused_) return;
    read_paused_ = false;
    do_read();
}

void WebSocketSession::wake_waiters() {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& weak : waiters)
        if (auto waiter = weak.lock()) waiter->release_hold();
}

void WebSocketSession::reset() {
    if (finished_) return;
    boost::system::error_code ignored;
    auto& socket = ws_.next_layer().next_layer();
    socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
    finish_as({false, 0, "reset by fault injection"});
}

void WebSocketSession::finish(beast::error_code ec) {
    if (finished_) return;
    // Beast's own close frame is known by the error it ends the read with: 1007 for invalid UTF-8.
    if (failed_) ++hub_.counters().closes[ec == websocket::error::bad_frame_payload ? 1007 : 1002];
    if (ec == websocket::error::closed || !ec) {
        auto const& reason = ws_.reason();
        finish_as({true, reason.code, std::string(reason.reason.data(), reason.reason.size())});
    } else {
        finish_as({false, 0, ec.message()});
    }
}

void WebSocketSession::finish_as(SocketEnd const& end) {
    finished_ = true;
    wake_waiters();
    hub_.closed(id_, end);
}

}  // namespace relay::transport
