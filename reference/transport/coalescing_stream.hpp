// The layer under Beast's WebSocket stream. Reads go straight to the socket. Writes are gathered:
// whatever is queued for a socket during one pass of the event loop over ready events leaves in one
// system call at the end of the pass. One sendmsg per forwarded frame was most of the relay's CPU
// time under load (docs/performance.md). Bytes leave in exactly the order they were queued, whether
// Beast wrote them (control frames, compressed messages) or the session framed them (send_frame).
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relay::transport {

class OutboundBytes;

// Collects the sockets that have bytes to send; the event loop calls flush() after each pass.
class WriteBatcher {
public:
    void add(std::shared_ptr<OutboundBytes> outbound) { dirty_.push_back(std::move(outbound)); }
    void flush();

private:
    std::vector<std::shared_ptr<OutboundBytes>> dirty_;
    std::vector<std::shared_ptr<OutboundBytes>> flushing_;
};

// A socket's queued bytes, shared with the write under way, which may finish after the stream is gone.
class OutboundBytes : public std::enable_shared_from_this<OutboundBytes> {
public:
    using WriteHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
    using FlushHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    // Past this many queued bytes, Beast's writes complete only once the socket has taken some.
    static constexpr std::size_t high_water = 256 * 1024;
    // Payloads this large are sent from the shared frame buffer instead of being copied; below it, a
    // copy into the gathered bytes costs less than one more iovec and reference count per frame.
    static constexpr std::size_t shared_payload_bytes = 1024;

    OutboundBytes(boost::asio::ip::tcp::socket&& socket, WriteBatcher& batcher) : socket(std::move(socket)), batcher_(batcher) {}

    boost::asio::ip::tcp::socket socket;
    std::function<void()> on_sent;  // after each completed write, to let held-back readers go

    template <class ConstBuffers>
    void write_some(ConstBuffers const& data, WriteHandler handler) {
        auto const size = boost::asio::buffer_size(data);
        if (error_) return complete(std::move(handler), error_, 0);
        boost::asio::buffer_copy(boost::asio::buffer(owned_tail(size), size), data);
        queued_ += size;
        schedule();
        if (queued_ < high_water) return complete(std::move(handler), {}, size);
        blocked_.emplace(Blocked{std::move(handler), size});
    }
    // One unfragmented, uncompressed server frame (RFC 6455 5.2), sharing `payload` when it is large.
    void send_frame(bool binary, std::shared_ptr<std::string const> const& payload);
    void flush_then(FlushHandler done);
    std::size_t queued_bytes() const { return queued_; }

    void write_pending();  // for the batcher

private:
    struct Chunk {
        std::string owned;
        std::shared_ptr<std::string const> shared;
    };
    struct Blocked {
        WriteHandler handler;
        std::size_t size;
    };

    char* owned_tail(std::size_t size);
    void schedule();
    void on_written(boost::system::error_code ec);
    void complete(WriteHandler handler, boost::system::error_code ec, std::size_t size);
    void finish_flush_if_done();

    WriteBatcher& batcher_;
    std::vector<Chunk> pending_, in_flight_;
    std::vector<boost::asio::const_buffer> gather_;
    std::size_t queued_ = 0;  // pending and in flight
    bool writing_ = false;
    bool scheduled_ = false;
    boost::system::error_code error_;
    std::optional<Blocked> blocked_;  // Beast has at most one write under way
    std::optional<FlushHandler> flushed_;
};

// What Beast's websocket::stream sits on.
class CoalescingStream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;

    CoalescingStream(boost::asio::ip::tcp::socket&& socket, WriteBatcher& batcher)
        : outbound_(std::make_shared<OutboundBytes>(std::move(socket), batcher)) {}

    executor_type get_executor() noexcept { return outbound_->socket.get_executor(); }
    boost::asio::ip::tcp::socket& next_layer() noexcept { return outbound_->socket; }
    OutboundBytes& outbound() noexcept { return *outbound_; }
    OutboundBytes const& outbound() const noexcept { return *outbound_; }

    template <class MutableBuffers, class ReadToken>
    auto async_read_some(MutableBuffers const& buffers, ReadToken&& token) {
        return outbound_->socket.async_read_some(buffers, std::forward<ReadToken>(token));
    }

    template <class ConstBuffers, class WriteToken>
    auto async_write_some(ConstBuffers const& buffers, WriteToken&& token) {
        return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
            [out = outbound_](auto handler, ConstBuffers const& data) { out->write_some(data, std::move(handler)); }, token,
            buffers);
    }

private:
    std::shared_ptr<OutboundBytes> outbound_;
};

// Beast's closing handshake ends with a teardown: what is still queued goes out first.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream& stream, TeardownHandler&& handler) {
    stream.outbound().flush_then([role, &stream, h = std::forward<TeardownHandler>(handler)](boost::system::error_code) mutable {
        boost::beast::websocket::async_teardown(role, stream.next_layer(), std::move(h));
    });
}

}  // namespace relay::transport
