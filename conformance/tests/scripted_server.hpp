// A server that misbehaves on purpose, for proving that every kind of check can fail. It serves the
// scenarios in tests/data/misbehaving/, telling them apart by the scenario id in the serverId.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <string>
#include <thread>

namespace conformance::testing {

enum class Misbehaviour {
    none,     // what the scenarios expect
    wrong,    // wrong frame, wrong close code, wrong status, a late timer
    silent,   // a missing frame, no close, 404, an early timer
    garbage,  // bytes that are not WebSocket, a drop mid-handshake, a flood of frames
};

class ScriptedServer {
public:
    explicit ScriptedServer(Misbehaviour mode);
    ~ScriptedServer();
    unsigned short port() const { return port_; }

private:
    void serve(boost::asio::ip::tcp::socket socket);

    Misbehaviour mode_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> active_{0};
    std::thread thread_;
};

}  // namespace conformance::testing
