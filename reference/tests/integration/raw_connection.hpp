// A raw TCP connection to a relay, for what a WebSocket client cannot send: malformed requests,
// connections that never send anything, frames that break RFC 6455. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
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
    // The relay ended the connection, as a receive() found.
    bool ended() const { return ended_; }

    // Sends a valid WebSocket upgrade for /ws?<query> and reads the answer's head; true for a 101.
    bool upgrade(std::string const& query);
    struct Frame {
        unsigned char opcode;
        std::string payload;
    };
    // The relay's next whole frame; none if the connection ended or the deadline passed first.
    std::optional<Frame> next_frame(std::chrono::milliseconds deadline = std::chrono::seconds(5));
    // The code of the relay's next frame if it is a close frame, else 0.
    unsigned close_code(std::chrono::milliseconds deadline = std::chrono::seconds(5));

private:
    int fd_;
    bool ended_ = false;
};

}  // namespace relay::testing
