// One bench connection: a plain TCP socket that does the WebSocket opening handshake itself, then
// batches outgoing frames into single writes and decodes incoming frames in bulk. ws:// only.
#pragma once

#include "bench/frame_codec.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace conformance::bench {

class BenchSocket;

// Reads that found their socket drained wait here for the end of the event loop's pass (the bench's
// loop calls start_all()): by then the socket has usually received more, where reading at once
// would mostly find nothing, one wasted system call per arriving segment.
class DeferredReads {
public:
    void add(std::shared_ptr<BenchSocket> socket) { waiting_.push_back(std::move(socket)); }
    void start_all();

private:
    std::vector<std::shared_ptr<BenchSocket>> waiting_, starting_;
};

class BenchSocket : public std::enable_shared_from_this<BenchSocket> {
public:
    // The bench runs one io_context on one thread; its concrete executor type spares every socket
    // operation the cost of a type-erased one.
    using Executor = boost::asio::io_context::executor_type;

    struct Callbacks {
        std::function<void(BenchSocket&)> opened;
        std::function<void(BenchSocket&, std::string_view payload)> frame;  // complete data frames
        std::function<void(BenchSocket&, std::string const& why)> ended;    // once; `why` is for a person
    };

    BenchSocket(boost::asio::io_context& ioc, DeferredReads& deferred_reads, boost::asio::ip::tcp::endpoint relay,
                std::string host_header, std::string target, Callbacks callbacks);

    // `source`: the local address to connect from (any loopback address can be, on Linux).
    // A socket not open by `open_timeout` ends ("no WebSocket handshake within ..."): a relay out of
    // file descriptors leaves connections waiting in its backlog for ever.
    void start(std::chrono::milliseconds open_timeout, std::optional<boost::asio::ip::address> source = std::nullopt);
    // Queues a frame; frames queued while a write is in flight leave together in the next write.
    // `shared_tail`, if given, ends the frame's payload and is written from where it lies, without a
    // copy: it must stay as it is until the socket has written it.
    void send(Opcode opcode, std::string_view payload, std::string_view shared_tail = {});
    void close();  // close frame, then the relay ends the connection (or the bench drops it later)

    // While one is alive, sends only queue; the queue leaves in one write when it goes.
    class Cork {
    public:
        explicit Cork(BenchSocket& socket) : socket_(socket) { ++socket_.corks_; }
        ~Cork() {
            if (--socket_.corks_ == 0) socket_.flush_if_idle();
        }
        Cork(Cork const&) = delete;
        Cork& operator=(Cork const&) = delete;

    private:
        BenchSocket& socket_;
    };
    void drop();

    bool is_open() const { return state_ == State::open; }
    std::size_t queued_bytes() const { return pending_.size() + in_flight_.size() + shared_queued_; }
    int tag = 0;  // the owner's index for this socket

private:
    friend class DeferredReads;
    enum class State { connecting, handshaking, open, ended };

    void on_connect(boost::system::error_code ec);
    void on_handshake_written(boost::system::error_code ec, std::size_t);
    void read_more();
    void start_read();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    bool take_handshake_response();
    void take_frames();
    void flush();
    void flush_if_idle();
    void on_written(boost::system::error_code ec, std::size_t);
    void end(std::string const& why);

    boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> socket_;
    boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>
        open_deadline_;
    DeferredReads& deferred_reads_;
    boost::asio::ip::tcp::endpoint relay_;
    std::string host_header_;
    std::string target_;
    Callbacks callbacks_;
    State state_ = State::connecting;

    std::vector<char> read_buffer_;
    std::size_t read_begin_ = 0;
    std::size_t read_end_ = 0;
    bool drained_ = false;  // the last read took less than it asked for
    std::string message_;  // a fragmented message being put together

    struct SharedTail {
        std::size_t at;  // where in `pending_` it goes
        std::string_view bytes;
    };
    std::string pending_;
    std::string in_flight_;
    std::vector<SharedTail> pending_tails_, in_flight_tails_;
    std::vector<boost::asio::const_buffer> gather_;
    std::size_t shared_queued_ = 0;
    bool writing_ = false;
    int corks_ = 0;
};

}  // namespace conformance::bench
