// The layer under Beast's WebSocket stream, batching system calls per pass of the event loop (one
// pass handles every ready event). Writes are gathered: whatever is queued for a socket during a pass
// leaves in one system call at the end of it. A read that drains the socket defers the next one to
// the end of the pass, when the socket has usually received more. One sendmsg per forwarded frame,
// and one recvmsg per arriving segment plus one that found nothing, were most of the relay's CPU time
// under load (docs/performance.md). Bytes leave in exactly the order they were queued, whether Beast
// wrote them (control frames, compressed messages) or the session framed them (send_frame).
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "socket.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relay::transport {

class BatchedSocket;

// What the event loop does at the end of each pass (main() calls end_pass()): send what each socket
// gathered, then start the reads that were deferred.
class PassBatcher {
public:
    using Read = boost::asio::any_completion_handler<void()>;

    void write_later(std::shared_ptr<BatchedSocket> socket) { writers_.push_back(std::move(socket)); }
    void read_later(Read start) { readers_.push_back(std::move(start)); }
    void end_pass();
    std::uint64_t pass() const { return pass_; }

private:
    std::uint64_t pass_ = 0;
    // Each list is swapped with its second before use, so what the pass's end itself queues waits for
    // the next pass, and both keep their capacity: a pass allocates nothing here.
    std::vector<std::shared_ptr<BatchedSocket>> writers_, writing_;
    std::vector<Read> readers_, starting_;
};

// A socket and its queued bytes, shared with the I/O under way, which may finish after the stream is gone.
class BatchedSocket : public std::enable_shared_from_this<BatchedSocket> {
public:
    using WriteHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
    using FlushHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    // Past this many queued bytes, Beast's writes complete only once the socket has taken some.
    static constexpr std::size_t high_water = 256 * 1024;
    // Payloads this large are sent from the shared frame buffer instead of being copied; below it, a
    // copy into the gathered bytes costs less than one more iovec and reference count per frame.
    static constexpr std::size_t shared_payload_bytes = 1024;
    // A socket's reads in one pass, beyond which the next waits for the pass's end: a peer that sends
    // faster than the relay reads never drains its socket, and held every other socket's output until
    // it stopped (1.6-2 s while 32 MiB frames were being kept). With a 1 MiB share, other sessions'
    // round trips meanwhile had p50 1.4-7.6 ms; with 256 KiB, 1.3-3.5 ms, and 1 MiB frames flow faster
    // too (docs/reliability.md, "Slow readers and memory").
    static constexpr std::size_t pass_read_share = 256 * 1024;

    BatchedSocket(Socket&& socket, PassBatcher& batcher) : socket(std::move(socket)), batcher_(batcher) {}

    Socket socket;
    std::function<void()> on_sent;  // after each completed write, to let held-back readers go
    std::function<void(boost::asio::const_buffer)> on_received;  // every byte read, in order, before Beast parses it

    // At once, unless the last read drained the socket or this pass's share is read: then at the end of the pass.
    template <class MutableBuffers, class Handler>
    void read_some(MutableBuffers const& buffers, Handler handler) {
        auto start = [self = shared_from_this(), buffers, handler = std::move(handler)]() mutable {
            auto const size = boost::asio::buffer_size(buffers);
            self->socket.async_read_some(buffers, [self, buffers, size, handler = std::move(handler)](
                                                      boost::system::error_code ec, std::size_t bytes) mutable {
                self->drained_ = !ec && bytes < size;
                self->count_read(bytes);
                if (self->on_received)
                    for (auto const& read : boost::beast::buffers_prefix(bytes, buffers)) self->on_received(read);
                std::move(handler)(ec, bytes);
            });
        };
        if (drained_ || (read_pass_ == batcher_.pass() && read_in_pass_ >= pass_read_share))
            return batcher_.read_later(std::move(start));
        start();
    }

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
    void count_read(std::size_t bytes);
    void schedule();
    void on_written(boost::system::error_code ec);
    void complete(WriteHandler handler, boost::system::error_code ec, std::size_t size);
    void finish_flush_if_done();

    PassBatcher& batcher_;
    std::vector<Chunk> pending_, in_flight_;
    std::vector<boost::asio::const_buffer> gather_;
    std::size_t queued_ = 0;  // pending and in flight
    bool writing_ = false;
    bool scheduled_ = false;
    bool drained_ = false;  // the last read took less than it asked for
    std::uint64_t read_pass_ = 0;   // the pass of the last read
    std::size_t read_in_pass_ = 0;  // bytes read in it
    boost::system::error_code error_;
    std::optional<Blocked> blocked_;  // Beast has at most one write under way
    std::optional<FlushHandler> flushed_;
};

// What Beast's websocket::stream sits on.
class CoalescingStream {
public:
    using executor_type = Executor;

    CoalescingStream(Socket&& socket, PassBatcher& batcher)
        : socket_(std::make_shared<BatchedSocket>(std::move(socket), batcher)) {}

    executor_type get_executor() noexcept { return socket_->socket.get_executor(); }
    Socket& next_layer() noexcept { return socket_->socket; }
    BatchedSocket& batched() noexcept { return *socket_; }
    BatchedSocket const& batched() const noexcept { return *socket_; }

    template <class MutableBuffers, class ReadToken>
    auto async_read_some(MutableBuffers const& buffers, ReadToken&& token) {
        return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
            [socket = socket_](auto handler, MutableBuffers const& data) { socket->read_some(data, std::move(handler)); },
            token, buffers);
    }

    template <class ConstBuffers, class WriteToken>
    auto async_write_some(ConstBuffers const& buffers, WriteToken&& token) {
        return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
            [socket = socket_](auto handler, ConstBuffers const& data) { socket->write_some(data, std::move(handler)); },
            token, buffers);
    }

private:
    std::shared_ptr<BatchedSocket> socket_;
};

// Beast's closing handshake ends with a teardown: what is still queued goes out first.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream& stream, TeardownHandler&& handler) {
    stream.batched().flush_then([role, &stream, h = std::forward<TeardownHandler>(handler)](boost::system::error_code) mutable {
        boost::beast::websocket::async_teardown(role, stream.next_layer(), std::move(h));
    });
}

}  // namespace relay::transport
