#include "bench/bench_socket.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <limits>

#include <netinet/in.h>

namespace conformance::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
// Small for idle sockets (thousands of them); doubled whenever a read fills it, up to a size that
// takes a busy socket's backlog in one system call.
constexpr std::size_t initial_read_buffer = 4 * 1024;
constexpr std::size_t busy_read_buffer = 256 * 1024;
constexpr std::size_t small_carry = 4 * 1024;

// asio::async_write's default (transfer_all) offers the socket at most 64 KiB per system call; large
// frames would cost the bench sixteen system calls per megabyte.
std::size_t as_much_as_the_socket_takes(boost::system::error_code const& ec, std::size_t) {
    return ec ? 0 : std::numeric_limits<std::size_t>::max();
}
// A fixed key is fine: the relay only checks that the accept header matches it.
constexpr char const* handshake_key = "dGhlIHNhbXBsZSBub25jZQ==";
}  // namespace

void DeferredReads::start_all() {
    starting_.swap(waiting_);
    for (auto& socket : starting_) socket->start_read();
    starting_.clear();
}

BenchSocket::BenchSocket(net::io_context& ioc, DeferredReads& deferred_reads, tcp::endpoint relay, std::string host_header,
                         std::string target, Callbacks callbacks)
    : socket_(ioc), open_deadline_(ioc), deferred_reads_(deferred_reads), relay_(relay),
      host_header_(std::move(host_header)), target_(std::move(target)), callbacks_(std::move(callbacks)),
      read_buffer_(initial_read_buffer) {}

void BenchSocket::start(std::chrono::milliseconds open_timeout, std::optional<net::ip::address> source) {
    open_deadline_.expires_after(open_timeout);
    open_deadline_.async_wait([self = shared_from_this(), open_timeout](boost::system::error_code ec) {
        if (!ec && self->state_ != State::open)
            self->end("no WebSocket handshake within " + std::to_string(open_timeout.count()) + " ms");
    });
    if (source) {
        // Many connections from one address to one port make the kernel's search for a free source
        // port slow (quadratic in the socket count); distinct loopback sources keep it short.
        // IP_BIND_ADDRESS_NO_PORT leaves the port to connect(), which checks the whole 4-tuple.
        boost::system::error_code ec;
        socket_.open(relay_.protocol(), ec);
        socket_.set_option(net::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>(true), ec);
        socket_.bind(tcp::endpoint(*source, 0), ec);
    }
    socket_.async_connect(relay_, [self = shared_from_this()](boost::system::error_code ec) { self->on_connect(ec); });
}

void BenchSocket::on_connect(boost::system::error_code ec) {
    if (ec) return end("connect: " + ec.message());
    socket_.set_option(tcp::no_delay(true), ec);
    state_ = State::handshaking;
    in_flight_ = "GET " + target_ + " HTTP/1.1\r\nHost: " + host_header_ +
                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
                 handshake_key + "\r\n\r\n";
    writing_ = true;
    net::async_write(socket_, net::buffer(in_flight_),
                     [self = shared_from_this()](boost::system::error_code e, std::size_t n) {
                         self->on_handshake_written(e, n);
                     });
    read_more();
}

void BenchSocket::on_handshake_written(boost::system::error_code ec, std::size_t) {
    in_flight_.clear();
    writing_ = false;
    if (ec) return end("handshake write: " + ec.message());
    flush_if_idle();
}

void BenchSocket::read_more() {
    auto const carried = read_end_ - read_begin_;  // the start of a frame not all here yet
    // Moving a few bytes to the front now is cheap, and spares moving a large frame's first part
    // when the buffer fills. When it has to move that much, the buffer grows, so it happens rarely.
    if (read_begin_ > 0 && (carried <= small_carry || read_end_ == read_buffer_.size())) {
        std::memmove(read_buffer_.data(), read_buffer_.data() + read_begin_, carried);
        read_end_ = carried;
        read_begin_ = 0;
        if (carried > read_buffer_.size() / 4) read_buffer_.resize(read_buffer_.size() * 2);
    }
    if (read_end_ == read_buffer_.size()) read_buffer_.resize(read_buffer_.size() * 2);  // one frame fills it
    if (drained_) return deferred_reads_.add(shared_from_this());
    start_read();
}

void BenchSocket::start_read() {
    if (state_ == State::ended) return;
    socket_.async_read_some(net::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                self->on_read(ec, n);
                            });
}

void BenchSocket::on_read(boost::system::error_code ec, std::size_t bytes) {
    if (state_ == State::ended) return;
    if (ec) return end(ec == net::error::eof ? "the relay ended the connection" : "read: " + ec.message());
    bool const filled = read_end_ + bytes == read_buffer_.size();
    drained_ = !filled;
    read_end_ += bytes;
    if (filled && read_buffer_.size() < busy_read_buffer) read_buffer_.resize(read_buffer_.size() * 2);
    if (state_ == State::handshaking && !take_handshake_response()) {
        if (state_ != State::ended) read_more();
        return;
    }
    try {
        take_frames();
    } catch (std::exception const& e) {
        return end(e.what());
    }
    if (state_ != State::ended) read_more();
}

bool BenchSocket::take_handshake_response() {
    std::string_view data(read_buffer_.data() + read_begin_, read_end_ - read_begin_);
    auto const end_of_head = data.find("\r\n\r\n");
    if (end_of_head == std::string_view::npos) {
        if (data.size() > 16 * 1024) end("handshake response too long");
        return false;
    }
    if (data.substr(0, 12) != "HTTP/1.1 101") {
        end("handshake refused: " + std::string(data.substr(0, data.find("\r\n"))));
        return false;
    }
    read_begin_ += end_of_head + 4;
    state_ = State::open;
    open_deadline_.cancel();
    if (callbacks_.opened) callbacks_.opened(*this);
    flush_if_idle();
    return true;
}

void BenchSocket::take_frames() {
    while (state_ == State::open) {
        auto frame = decode_server_frame({read_buffer_.data() + read_begin_, read_end_ - read_begin_});
        if (!frame) return;
        read_begin_ += frame->size;
        switch (frame->opcode) {
        case Opcode::close: return end("closed by the relay");
        case Opcode::ping: send(Opcode::pong, frame->payload); break;
        case Opcode::pong: break;
        default:
            if (frame->fin && message_.empty()) {
                callbacks_.frame(*this, frame->payload);
            } else {
                message_ += frame->payload;
                if (frame->fin) {
                    callbacks_.frame(*this, message_);
                    message_.clear();
                }
            }
        }
    }
}

void BenchSocket::send(Opcode opcode, std::string_view payload, std::string_view shared_tail) {
    if (state_ == State::ended) return;
    append_client_frame_header(pending_, opcode, payload.size() + shared_tail.size());
    pending_ += payload;
    if (!shared_tail.empty()) {
        pending_tails_.push_back({pending_.size(), shared_tail});
        shared_queued_ += shared_tail.size();
    }
    if (corks_ == 0) flush_if_idle();
}

void BenchSocket::flush_if_idle() {
    if (state_ == State::open && !writing_ && !pending_.empty()) flush();
}

void BenchSocket::flush() {
    std::swap(in_flight_, pending_);
    pending_.clear();
    std::swap(in_flight_tails_, pending_tails_);
    pending_tails_.clear();
    gather_.clear();
    std::size_t at = 0;
    for (auto const& tail : in_flight_tails_) {
        gather_.push_back(net::buffer(in_flight_.data() + at, tail.at - at));
        gather_.push_back(net::buffer(tail.bytes.data(), tail.bytes.size()));
        at = tail.at;
    }
    gather_.push_back(net::buffer(in_flight_.data() + at, in_flight_.size() - at));
    writing_ = true;
    net::async_write(socket_, gather_, as_much_as_the_socket_takes, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->on_written(ec, n);
    });
}

void BenchSocket::on_written(boost::system::error_code ec, std::size_t) {
    writing_ = false;
    in_flight_.clear();
    for (auto const& tail : in_flight_tails_) shared_queued_ -= tail.bytes.size();
    in_flight_tails_.clear();
    if (ec) return end("write: " + ec.message());
    flush_if_idle();
}

void BenchSocket::close() {
    if (state_ != State::open) return drop();
    send(Opcode::close, std::string_view("\x03\xe8", 2));
}

void BenchSocket::drop() { end("dropped by the bench"); }

void BenchSocket::end(std::string const& why) {
    if (state_ == State::ended) return;
    state_ = State::ended;
    open_deadline_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (callbacks_.ended) callbacks_.ended(*this, why);
}

}  // namespace conformance::bench
