#include "raw_connection.hpp"

#include <algorithm>
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

}  // namespace relay::testing
