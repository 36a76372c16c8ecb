#include "raw_connection.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace relay::testing {

using Clock = std::chrono::steady_clock;

RawConnection::RawConnection(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        if (fd_ >= 0) ::close(fd_);
        throw std::runtime_error("cannot connect to the relay");
    }
}

RawConnection::~RawConnection() { ::close(fd_); }

void RawConnection::send(std::string const& bytes) {
    std::size_t sent = 0;
    auto const deadline = Clock::now() + std::chrono::seconds(5);
    while (sent < bytes.size() && Clock::now() < deadline) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        auto const n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
    }
}

std::string RawConnection::receive(std::size_t size, std::chrono::milliseconds deadline) {
    std::string out;
    auto const until = Clock::now() + deadline;
    while (out.size() < size && !ended_) {
        auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        if (left <= 0) break;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char chunk[4096];
        auto const n = ::recv(fd_, chunk, std::min(sizeof chunk, size - out.size()), 0);
        if (n <= 0) {
            ended_ = true;
            break;
        }
        out.append(chunk, static_cast<std::size_t>(n));
    }
    return out;
}

bool RawConnection::ends(std::chrono::milliseconds deadline) {
    auto const extra = receive(1, deadline);
    return ended_ && extra.empty();
}

bool RawConnection::upgrade(std::string const& query) {
    send("GET /ws?" + query + " HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    // A byte at a time, so nothing after the head (the first frame) is taken with it.
    std::string head;
    while (!head.ends_with("\r\n\r\n")) {
        auto const byte = receive(1);
        if (byte.empty()) return false;
        head += byte;
    }
    return head.starts_with("HTTP/1.1 101 ");
}

std::optional<RawConnection::Frame> RawConnection::next_frame(std::chrono::milliseconds deadline) {
    auto const until = Clock::now() + deadline;
    auto take = [&](std::size_t size) {
        auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        return receive(size, std::max(left, std::chrono::milliseconds(1)));
    };
    auto const head = take(2);
    if (head.size() < 2) return std::nullopt;
    std::uint64_t length = static_cast<unsigned char>(head[1]) & 0x7F;
    if (length >= 126) {
        auto const extended = take(length == 126 ? 2 : 8);
        if (extended.size() < (length == 126 ? 2u : 8u)) return std::nullopt;
        length = 0;
        for (unsigned char byte : extended) length = length << 8 | byte;
    }
    auto payload = take(length);
    if (payload.size() < length) return std::nullopt;
    return Frame{static_cast<unsigned char>(head[0] & 0x0F), std::move(payload)};
}

unsigned RawConnection::close_code(std::chrono::milliseconds deadline) {
    auto const frame = next_frame(deadline);
    if (!frame || frame->opcode != 8 || frame->payload.size() < 2) return 0;
    return static_cast<unsigned char>(frame->payload[0]) << 8 | static_cast<unsigned char>(frame->payload[1]);
}

}  // namespace relay::testing
