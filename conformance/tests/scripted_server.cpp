#include "scripted_server.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>

namespace conformance::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

ScriptedServer::ScriptedServer(Misbehaviour mode)
    : mode_(mode), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
      port_(acceptor_.local_endpoint().port()) {
    thread_ = std::thread([this] {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket(ioc_);
            acceptor_.accept(socket, ec);
            if (ec || stopping_) return;
            ++active_;
            std::thread([this, s = std::move(socket)]() mutable {
                serve(std::move(s));
                --active_;
            }).detach();
        }
    });
}

ScriptedServer::~ScriptedServer() {
    stopping_ = true;
    beast::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    // Connection threads end when the runner drops their sockets; wait for them, boundedly.
    for (int i = 0; i < 500 && active_ > 0; ++i) std::this_thread::sleep_for(10ms);
}

void ScriptedServer::serve(tcp::socket socket) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) return;
    std::string const target(request.target());
    auto is = [&](char const* scenario) { return target.find(std::string("serverId=") + scenario) != std::string::npos; };

    if (mode_ >= Misbehaviour::flood && target != "/") return attack(socket, request);
    if (target.rfind("/health", 0) == 0) {
        if (mode_ == Misbehaviour::garbage) {
            net::write(socket, net::buffer(std::string("\x01\x02 not http\r\n\r\n")), ec);
            return;
        }
        http::response<http::string_body> res(mode_ == Misbehaviour::none ? http::status::ok
                                              : mode_ == Misbehaviour::wrong ? http::status::internal_server_error
                                                                              : http::status::not_found,
                                              11);
        res.body() = "ok";
        res.prepare_payload();
        http::write(socket, res, ec);
        return;
    }
    if (mode_ == Misbehaviour::garbage && is("close-1008")) return;  // drops the connection mid-handshake

    websocket::stream<tcp::socket> ws(std::move(socket));
    ws.accept(request, ec);
    if (ec) return;
    auto send = [&](std::string const& text) {
        ws.text(true);
        ws.write(net::buffer(text), ec);
    };
    auto drain = [&] {
        beast::flat_buffer sink;
        while (!ec) ws.read(sink, ec);
    };
    if (is("frame-hello")) {
        if (mode_ == Misbehaviour::none) send("hello");
        if (mode_ == Misbehaviour::wrong) send("junk");
        if (mode_ == Misbehaviour::garbage) {
            net::write(ws.next_layer(), net::buffer(std::string("\xff\xff\xff\xff garbage")), ec);
            ws.next_layer().close(ec);
            return;
        }
    } else if (is("close-1008")) {
        if (mode_ == Misbehaviour::none) ws.close(websocket::close_reason(websocket::close_code::policy_error, "bye"), ec);
        if (mode_ == Misbehaviour::wrong) ws.close(websocket::close_reason(websocket::close_code::normal, "bye"), ec);
    } else if (is("timer-one-second")) {
        if (mode_ == Misbehaviour::garbage) {
            while (!ec) send("x");  // a flood, until the runner drops the socket
            return;
        }
        std::this_thread::sleep_for(mode_ == Misbehaviour::none ? 1000ms : mode_ == Misbehaviour::wrong ? 3000ms : 100ms);
        send("tick");
    }
    drain();
}

void ScriptedServer::attack(tcp::socket& socket, http::request<http::string_body> const& request) {
    beast::error_code ec;
    auto write = [&](std::string_view bytes) {
        attacked_ += net::write(socket, net::buffer(bytes.data(), bytes.size()), ec);
        return !ec && !stopping_;
    };
    auto reset = [&] {
        socket.set_option(net::socket_base::linger(true, 0), ec);
        socket.close(ec);
    };
    bool const health = request.target().starts_with("/health");
    if (mode_ == Misbehaviour::dribble) {
        std::string_view const head = "HTTP/1.1 101 Switching Protocols\r\nX-Pad: ";  // and then a header that never ends
        for (std::size_t i = 0; write(i < head.size() ? head.substr(i, 1) : "a"); ++i) std::this_thread::sleep_for(100ms);
        return;
    }
    if (health) {
        if (mode_ != Misbehaviour::reset)
            write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        else if (write("HTTP/1.1 200 OK\r\nContent-Le"))
            reset();
        return;
    }
    websocket::stream<tcp::socket&> ws(socket);
    ws.accept(request, ec);
    if (ec) return;
    if (mode_ == Misbehaviour::mute || request.target().find("-quiet") != beast::string_view::npos) {
        // Reads everything, answers nothing, closes never: it ends when the runner drops the socket.
        char sink[64 * 1024];
        while (!ec) socket.read_some(net::buffer(sink), ec);
        return;
    }
    if (mode_ == Misbehaviour::flood) {
        std::string frames;  // 1,024 frames to a write
        for (int i = 0; i < 1024; ++i) frames += std::string("\x81\x7e\x04\x00", 4) + std::string(1024, 'x');
        while (write(frames)) {
        }
    } else if (mode_ == Misbehaviour::endless_frame) {
        std::string const payload(1 << 20, 'x');
        if (write(std::string_view("\x81\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10)))
            while (write(payload)) {
            }
    } else if (mode_ == Misbehaviour::max_frames) {
        std::string frame("\x81\x7f\x00\x00\x00\x00\x02\x00\x00\x00", 10);
        frame.append(32 << 20, 'x');
        while (write(frame)) {
        }
    } else if (mode_ == Misbehaviour::reset) {
        // A 1,000-byte frame cut after 500.
        if (write(std::string("\x81\x7e\x03\xe8", 4) + std::string(500, 'x'))) reset();
    }
}

}  // namespace conformance::testing
