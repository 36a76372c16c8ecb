#include "coalescing_stream.hpp"

#include <boost/asio/write.hpp>

#include <cstring>
#include <limits>

namespace relay::transport {

namespace net = boost::asio;
using boost::system::error_code;

namespace {
// asio::async_write's default (transfer_all) offers the socket at most 64 KiB per system call: sixteen
// sendmsg calls for each megabyte. This offers all that is left, as far as the socket takes it.
std::size_t as_much_as_the_socket_takes(error_code const& ec, std::size_t) {
    return ec ? 0 : std::numeric_limits<std::size_t>::max();
}
}  // namespace

void PassBatcher::end_pass() {
    ++pass_;
    writing_.swap(writers_);
    for (auto& socket : writing_) socket->write_pending();
    writing_.clear();
    starting_.swap(readers_);
    for (auto& start : starting_) std::move(start)();
    starting_.clear();
}

char* BatchedSocket::owned_tail(std::size_t size) {
    if (pending_.empty() || pending_.back().shared) pending_.emplace_back();
    auto& owned = pending_.back().owned;
    auto const at = owned.size();
    owned.resize(at + size);
    return owned.data() + at;
}

void BatchedSocket::count_read(std::size_t bytes) {
    if (read_pass_ != batcher_.pass()) {
        read_pass_ = batcher_.pass();
        read_in_pass_ = 0;
    }
    read_in_pass_ += bytes;
}

void BatchedSocket::send_frame(bool binary, std::shared_ptr<std::string const> const& payload) {
    if (error_) return;
    auto const size = payload->size();
    unsigned char header[10];
    std::size_t header_size = 2;
    header[0] = 0x80 | (binary ? 0x2 : 0x1);  // FIN, binary or text
    if (size < 126) {
        header[1] = static_cast<unsigned char>(size);
    } else if (size <= 0xFFFF) {
        header[1] = 126;
        header[2] = static_cast<unsigned char>(size >> 8);
        header[3] = static_cast<unsigned char>(size);
        header_size = 4;
    } else {
        header[1] = 127;
        for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<unsigned char>(std::uint64_t(size) >> (56 - 8 * i));
        header_size = 10;
    }
    bool const share = size >= shared_payload_bytes;
    char* tail = owned_tail(header_size + (share ? 0 : size));
    std::memcpy(tail, header, header_size);
    if (share)
        pending_.push_back(Chunk{{}, payload});
    else
        std::memcpy(tail + header_size, payload->data(), size);
    queued_ += header_size + size;
    schedule();
}

void BatchedSocket::flush_then(FlushHandler done) {
    flushed_.emplace(std::move(done));
    finish_flush_if_done();
}

void BatchedSocket::schedule() {
    if (scheduled_ || writing_) return;
    scheduled_ = true;
    batcher_.write_later(shared_from_this());
}

void BatchedSocket::write_pending() {
    scheduled_ = false;
    if (writing_ || pending_.empty() || error_) return;
    pending_.swap(in_flight_);
    gather_.clear();
    for (auto const& chunk : in_flight_)
        gather_.push_back(chunk.shared ? net::buffer(*chunk.shared) : net::buffer(chunk.owned));
    writing_ = true;
    net::async_write(socket, gather_, as_much_as_the_socket_takes,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_written(ec); });
}

void BatchedSocket::on_written(error_code ec) {
    writing_ = false;
    for (auto const& chunk : in_flight_) queued_ -= chunk.shared ? chunk.shared->size() : chunk.owned.size();
    in_flight_.clear();
    if (ec && !error_) {
        error_ = ec;
        pending_.clear();
        queued_ = 0;
    }
    if (!pending_.empty()) schedule();
    if (blocked_ && (error_ || queued_ < high_water)) {
        auto blocked = std::move(*std::exchange(blocked_, std::nullopt));
        complete(std::move(blocked.handler), error_, error_ ? 0 : blocked.size);
    }
    finish_flush_if_done();
    if (on_sent) on_sent();
}

void BatchedSocket::complete(WriteHandler handler, error_code ec, std::size_t size) {
    net::post(socket.get_executor(), boost::beast::bind_front_handler(std::move(handler), ec, size));
}

void BatchedSocket::finish_flush_if_done() {
    if (!flushed_ || writing_ || (!pending_.empty() && !error_)) return;
    net::post(socket.get_executor(), boost::beast::bind_front_handler(std::move(*std::exchange(flushed_, std::nullopt)), error_));
}

}  // namespace relay::transport
