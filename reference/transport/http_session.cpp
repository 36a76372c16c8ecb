#include "http_session.hpp"

#include "core/http_router.hpp"
#include "hub.hpp"
#include "websocket_session.hpp"

namespace relay::transport {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::size_t header_limit = 64 * 1024;
constexpr std::size_t body_limit = 1024 * 1024;
constexpr std::chrono::seconds request_timeout{30};
}  // namespace

HttpSession::HttpSession(Socket&& socket, Hub& hub) : stream_(std::move(socket)), hub_(hub) {}

void HttpSession::run() { do_read(); }

void HttpSession::do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(body_limit);
    stream_.expires_after(request_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
    if (ec) {
        if (ec != http::error::end_of_stream && ec != beast::error::timeout)
            hub_.log().log(LogLevel::debug, "http request failed: " + ec.message());
        stream_.socket().shutdown(Socket::shutdown_send, ec);
        return;
    }
    auto request = parser_->release();
    auto header = [&request](http::field name) -> std::optional<std::string_view> {
        auto it = request.find(name);
        if (it == request.end()) return std::nullopt;
        return it->value();
    };
    auto routing = core::route(request.target(), {header(http::field::upgrade), header(http::field::sec_websocket_version),
                                                  header(http::field::sec_websocket_key)});
    // Fault injection may refuse upgrades for a while; every other answer stays the router's.
    if (std::holds_alternative<core::Admission>(routing))
        if (auto refusal = hub_.upgrade_refusal()) routing = std::move(*refusal);
    if (auto* admission = std::get_if<core::Admission>(&routing)) {
        // The official runtime upgrades without `Connection: Upgrade`; Beast insists on it.
        if (!http::token_list{header(http::field::connection).value_or("")}.exists("upgrade"))
            request.set(http::field::connection, "Upgrade");
        stream_.expires_never();
        std::make_shared<WebSocketSession>(stream_.release_socket(), hub_, std::move(*admission))->run(std::move(request));
        return;
    }

    auto const& reply = std::get<core::HttpReply>(routing);
    hub_.log().log(LogLevel::debug, std::string(request.method_string()) + " " + std::string(request.target()) + " -> " +
                                       std::to_string(reply.status));
    response_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(reply.status),
                                                                     request.version());
    response_->set(http::field::content_type, reply.content_type);
    response_->keep_alive(request.keep_alive() && !reply.close_connection);
    // As the official runtime does, a HEAD answer carries neither body nor Content-Length.
    if (request.method() != http::verb::head) {
        response_->body() = reply.body;
        response_->prepare_payload();
    }
    bool const keep_alive = response_->keep_alive();
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), keep_alive));
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return;
    if (keep_alive) return do_read();
    stream_.socket().shutdown(Socket::shutdown_send, ec);
}

}  // namespace relay::transport
