// A server that misbehaves on purpose, for proving that every kind of check can fail. It serves the
// scenarios in tests/data/misbehaving/, telling them apart by the scenario id in the serverId, and
// (the hostile modes) those in tests/data/hostile/, for proving that the runner survives a relay that
// attacks it. Every hostile mode answers `GET /` (the runner's latency calibration) at once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace conformance::testing {

enum class Misbehaviour {
    none,     // what the scenarios expect
    wrong,    // wrong frame, wrong close code, wrong status, a late timer
    silent,   // a missing frame, no close, 404, an early timer
    garbage,  // bytes that are not WebSocket, a drop mid-handshake, a flood of frames
    // Hostile: what they do on every WebSocket but one whose serverId ends in "-quiet", which hears nothing.
    flood,          // 1 KiB text frames without end, as fast as the runner reads
    endless_frame,  // a frame header announcing 2^63 - 1 bytes, then its payload without end
    max_frames,     // text frames of 32 MiB, the longest a relay forwards, without end
    mute,           // sends nothing after the 101 and never answers a close frame
    dribble,        // every answer but to `GET /` one byte per 100 ms, without end
    reset,          // half a frame (half an HTTP head on /health), then a TCP reset
};

class ScriptedServer {
public:
    explicit ScriptedServer(Misbehaviour mode);
    ~ScriptedServer();
    unsigned short port() const { return port_; }
    std::uint64_t bytes_attacked() const { return attacked_; }  // written by the hostile modes

private:
    void serve(boost::asio::ip::tcp::socket socket);
    void attack(boost::asio::ip::tcp::socket& socket, boost::beast::http::request<boost::beast::http::string_body> const& request);

    Misbehaviour mode_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> active_{0};
    std::atomic<std::uint64_t> attacked_{0};
    std::thread thread_;
};

}  // namespace conformance::testing
