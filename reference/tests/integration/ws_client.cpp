#include "ws_client.hpp"

#include "tests/support/client_frame.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <ostream>
#include <sstream>
#include <stdexcept>

namespace relay::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

std::ostream& operator<<(std::ostream& os, Event const& e) {
    switch (e.kind) {
    case Event::Kind::message: return os << (e.binary ? "binary " : "text ") << e.payload;
    case Event::Kind::ping: return os << "ping " << e.payload;
    case Event::Kind::pong: return os << "pong " << e.payload;
    case Event::Kind::closed: return os << "closed " << e.code << " " << e.reason;
    case Event::Kind::timeout: return os << "nothing (timeout)";
    }
    return os;
}

HttpResult http_request(unsigned short port, std::string const& method, std::string const& target,
                        std::string const& extra, std::chrono::milliseconds deadline) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(deadline);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + "\r\n";
    net::write(stream.socket(), net::buffer(request));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.skip(method == "HEAD");
    bool done = false;
    beast::error_code result;
    http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    ioc.run_for(deadline);
    if (!done) throw std::runtime_error("no HTTP response to " + target + " in time");
    if (result) throw std::runtime_error("HTTP response to " + target + " failed: " + result.message());
    HttpResult out;
    auto const& res = parser.get();
    out.status = res.result_int();
    for (auto const& field : res) {
        std::string name(field.name_string());
        for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
    }
    out.body = res.body();
    return out;
}

std::string Deflater::piece(std::string const& data, bool last) {
    std::string out(stream_.upper_bound(data.size()) + 16, '\0');  // the sync flush adds at most 10 bytes
    beast::zlib::z_params zs;
    zs.next_in = data.data();
    zs.avail_in = data.size();
    zs.next_out = out.data();
    zs.avail_out = out.size();
    beast::error_code ec;
    stream_.write(zs, beast::zlib::Flush::sync, ec);
    if (ec || zs.avail_in != 0 || zs.avail_out == 0) throw std::runtime_error("deflate failed: " + ec.message());
    out.resize(out.size() - zs.avail_out);
    if (last) out.resize(out.size() - 4);  // 00 00 FF FF
    return out;
}

WsClient::WsClient(unsigned short port, std::string const& query, Offer offer, std::chrono::milliseconds deadline)
    : ws_(ioc_) {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(deadline);
    tcp_layer.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    tcp_layer.socket().set_option(tcp::no_delay(true));
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    websocket::permessage_deflate deflate;
    deflate.client_enable = offer == Offer::deflate;
    ws_.set_option(deflate);
    bool done = false;
    beast::error_code result;
    ws_.async_handshake(response_, "127.0.0.1:" + std::to_string(port), "/ws?" + query, [&](beast::error_code ec) {
        result = ec;
        done = true;
    });
    run_until(done, deadline);
    if (!done) throw std::runtime_error("no handshake answer for " + query);
    if (result) throw std::runtime_error("handshake for " + query + " got HTTP " + std::to_string(response_.result_int()));
    tcp_layer.expires_never();
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong) events_.push_back({Event::Kind::pong, std::string(payload)});
        if (kind == websocket::frame_type::ping) events_.push_back({Event::Kind::ping, std::string(payload)});
        if (kind == websocket::frame_type::close)
            close_frame_ = Event{Event::Kind::closed, {}, false, ws_.reason().code, std::string(payload)};
    });
    read_loop();
}

void WsClient::read_loop() {
    ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
        if (ec) {
            auto code = ec == websocket::error::closed ? ws_.reason().code : std::uint16_t(1006);
            events_.push_back({Event::Kind::closed, {}, false, code, std::string(ws_.reason().reason.data(), ws_.reason().reason.size())});
            return;
        }
        events_.push_back({Event::Kind::message, beast::buffers_to_string(buffer_.data()), ws_.got_binary()});
        buffer_.consume(buffer_.size());
        read_loop();
    });
}

void WsClient::run_until(bool const& done, std::chrono::milliseconds deadline) {
    auto const until = std::chrono::steady_clock::now() + deadline;
    while (!done && std::chrono::steady_clock::now() < until) {
        ioc_.restart();
        ioc_.run_one_until(until);
    }
}

void WsClient::send(std::string const& data, bool binary, std::chrono::milliseconds deadline) {
    ws_.binary(binary);
    bool done = false;
    beast::error_code result;
    ws_.async_write(net::buffer(data), [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    run_until(done, deadline);
    if (!done) throw std::runtime_error("sending a frame took longer than the deadline");
}

void WsClient::send_text(std::string const& text, std::chrono::milliseconds deadline) { send(text, false, deadline); }
void WsClient::send_binary(std::string const& bytes, std::chrono::milliseconds deadline) { send(bytes, true, deadline); }

void WsClient::send_frames(std::vector<RawFrame> const& frames) {
    std::string bytes;
    for (auto const& frame : frames)
        bytes += client_frame_header(frame.opcode, frame.length.value_or(frame.payload.size()), frame.fin, frame.rsv1) +
                 frame.payload;
    beast::error_code ignored;
    net::write(beast::get_lowest_layer(ws_).socket(), net::buffer(bytes), ignored);
}

void WsClient::close(std::uint16_t code, std::chrono::milliseconds deadline) {
    bool done = false;
    ws_.async_close(websocket::close_reason(code), [&](beast::error_code) { done = true; });
    run_until(done, deadline);
}

void WsClient::ping(std::string const& payload, std::chrono::milliseconds deadline) {
    bool done = false;
    ws_.async_ping(websocket::ping_data(payload), [&](beast::error_code) { done = true; });
    run_until(done, deadline);
}

Event WsClient::next(std::chrono::milliseconds deadline) {
    auto const until = std::chrono::steady_clock::now() + deadline;
    while (events_.empty() && std::chrono::steady_clock::now() < until) {
        ioc_.restart();
        ioc_.run_one_until(until);
    }
    if (events_.empty()) return {Event::Kind::timeout};
    auto e = std::move(events_.front());
    events_.pop_front();
    return e;
}

Event WsClient::next_close_frame(std::chrono::milliseconds deadline) {
    auto const until = std::chrono::steady_clock::now() + deadline;
    while (!close_frame_ && std::chrono::steady_clock::now() < until) {
        ioc_.restart();
        ioc_.run_one_until(until);
    }
    return close_frame_.value_or(Event{Event::Kind::timeout});
}

std::string WsClient::next_text(std::chrono::milliseconds deadline) {
    auto e = next(deadline);
    if (e.kind != Event::Kind::message || e.binary) {
        std::ostringstream os;
        os << "expected a text frame, got " << e;
        throw std::runtime_error(os.str());
    }
    return e.payload;
}

bool WsClient::quiet_for(std::chrono::milliseconds window) { return next(window).kind == Event::Kind::timeout; }

}  // namespace relay::testing
