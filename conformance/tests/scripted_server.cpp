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

}  // namespace conformance::testing
