// The buffer a WebSocket message is read into (a DynamicBuffer for Beast), then handed on whole.
// asio::dynamic_string_buffer shrinks its string back after every read, so each read re-zeroes all the
// space Beast prepares for the rest of a large message: megabytes of memset per megabyte received.
// Here the string only grows, and each byte is zeroed once.
#pragma once

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

namespace relay::transport {

class MessageBuffer {
public:
    using const_buffers_type = boost::asio::const_buffer;
    using mutable_buffers_type = boost::asio::mutable_buffer;

    std::size_t size() const noexcept { return size_; }
    std::size_t max_size() const noexcept { return bytes_.max_size(); }
    std::size_t capacity() const noexcept { return bytes_.size(); }
    bool empty() const noexcept { return size_ == 0; }

    const_buffers_type data() const noexcept { return {bytes_.data(), size_}; }
    mutable_buffers_type prepare(std::size_t n) {
        if (bytes_.size() < size_ + n) bytes_.resize(size_ + n);
        return {bytes_.data() + size_, n};
    }
    void commit(std::size_t n) noexcept { size_ += std::min(n, bytes_.size() - size_); }
    void consume(std::size_t n) {
        n = std::min(n, size_);
        bytes_.erase(0, n);
        size_ -= n;
    }

    // Drops the content; the space stays for the next message.
    void clear() noexcept { size_ = 0; }
    // The message read so far; the buffer starts empty again.
    std::string take() {
        bytes_.resize(size_);
        size_ = 0;
        return std::exchange(bytes_, {});
    }

private:
    std::string bytes_;  // [0, size_) is content; the rest is prepared space
    std::size_t size_ = 0;
};

}  // namespace relay::transport
