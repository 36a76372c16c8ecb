// A raw TCP connection to a relay, for what a WebSocket client cannot send: malformed requests, or
// connections that never send anything. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace relay::testing {

class RawConnection {
public:
    // Connects to 127.0.0.1:port; throws std::runtime_error if it cannot.
    explicit RawConnection(unsigned short port);
    ~RawConnection();
    RawConnection(RawConnection const&) = delete;
    RawConnection& operator=(RawConnection const&) = delete;

    // Writes what the relay takes within 5 s; it may end the connection before all is in, as it does
    // for a head over the limit.
    void send(std::string const& bytes);
    // Reads until `size` bytes came, the connection ended or the deadline passed.
    std::string receive(std::size_t size, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    // The relay ends the connection (FIN or RST) within the deadline, sending nothing more.
    bool ends(std::chrono::milliseconds deadline = std::chrono::seconds(5));

private:
    int fd_;
    bool ended_ = false;
};

}  // namespace relay::testing
