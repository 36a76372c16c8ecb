// One accepted WebSocket: reads whole messages into shared frames for the hub, writes the frames the
// hub queues, in order, and closes when told. Knows nothing of the protocol.
#pragma once

#include "coalescing_stream.hpp"
#include "frame_limit.hpp"
#include "message_buffer.hpp"
#include "core/protocol.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relay::transport {

class Hub;
struct SocketEnd;

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
public:
    WebSocketSession(Socket&& socket, Hub& hub, core::Admission admission);

    void run(boost::beast::http::request<boost::beast::http::string_body> request);
    core::SocketId id() const { return id_; }

    void send(core::Frame const& frame);
    // Closes after the frames already queued; later sends are dropped.
    void close(std::uint16_t code, std::string reason);
    // A close frame is queued or sent, or the socket is gone: close() would do nothing.
    bool closing() const { return close_queued_ || finished_ || failed_; }

    // Fault injection: a TCP reset (SO_LINGER 0, then close), no close frame; the socket ends at once.
    void reset();
    // Fault injection: the cap for the frames whose headers arrive from now on.
    void set_max_message_bytes(std::uint64_t bytes) { frames_.set_max(bytes); }

    bool congested() const;
    // `reader` stops reading until this socket's queue is back under its limit, or it is gone.
    void hold_reads_until_drained(std::shared_ptr<WebSocketSession> const& reader);

private:
    struct Outgoing {
        core::Frame frame;
        std::optional<boost::beast::websocket::close_reason> close;
    };

    void on_accept(boost::beast::error_code ec);
    void start_reading();  // the first read, once the socket becomes readable or is being closed
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void watch(boost::asio::const_buffer bytes);
    bool closing_for_size();
    void close_too_big(std::string const& reason);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void on_close(boost::beast::error_code ec);
    void notice_failure();
    void release_hold();
    void wake_waiters();
    void finish(boost::beast::error_code ec);
    void finish_as(SocketEnd const& end);

    boost::beast::websocket::stream<CoalescingStream> ws_;
    Hub& hub_;
    core::SocketId id_;
    core::Admission admission_;

    MessageBuffer incoming_;
    FrameLimit frames_;  // the frame headers of every byte read
    std::uint64_t messages_read_ = 0;  // whole messages handed to the hub
    std::uint64_t inflated_over_ = 0;  // size so far of a compressed message that inflated past the cap, being dropped
    bool too_big_ = false;  // closing for a message over the cap
    int holds_ = 0;  // slow readers this socket waits on before reading again
    bool read_paused_ = false;
    bool reading_ = false;  // the read chain has started
    bool compressing_ = false;  // permessage-deflate was negotiated

    std::deque<Outgoing> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool close_queued_ = false;
    bool finished_ = false;
    bool failed_ = false;  // Beast closed it for breaking RFC 6455 (1002, or 1007 for bad UTF-8)
    std::vector<std::weak_ptr<WebSocketSession>> waiters_;
};

}  // namespace relay::transport
