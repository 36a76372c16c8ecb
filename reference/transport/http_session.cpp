#include "http_session.hpp"

#include "core/http_router.hpp"
#include "hub.hpp"
#include "websocket_session.hpp"

namespace relay::transport {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {
// The official runtime's limit on a request's head, request line included (docs/protocol.md,
// "Malformed and unusual HTTP requests"): a byte more gets 431.
constexpr std::size_t head_limit = 128 * 1024;
// The official runtime's deadlines (docs/protocol.md, "Malformed and unusual HTTP requests"): a
// connection's first request head within 15 s of the connection, a later one within 15 s of its first
// byte, which comes within 5 s of the previous answer; else the connection ends without an answer. The
// runtime waits for a body without end; here the head's deadline covers the body too.
constexpr std::chrono::seconds head_timeout{15};
constexpr std::chrono::seconds keep_alive_timeout{5};
constexpr std::size_t read_size = 64 * 1024;

// An answer of the runtime's own HTTP server, given before the relay code sees the request.
struct RuntimeAnswer {
    http::status status;
    std::string_view body;
    std::string_view content_type;  // empty: none
    bool close;                     // `Connection: close`, then the connection ends
};
constexpr RuntimeAnswer header_too_large{http::status::request_header_fields_too_large, "ERROR: header too large.",
                                         "text/plain", true};
constexpr RuntimeAnswer unrecognized_method{http::status::not_implemented, "ERROR: Unrecognized request method.",
                                            "text/plain", true};
constexpr RuntimeAnswer invalid_request_line{http::status::bad_request, "ERROR: Invalid request line.", "text/plain",
                                             true};
constexpr RuntimeAnswer invalid_headers{http::status::bad_request,
                                        "ERROR: The headers sent by your client are not valid.", "text/plain", true};
constexpr RuntimeAnswer internal_error{http::status::internal_server_error, "Internal Server Error", "", true};
constexpr RuntimeAnswer missing_host{http::status::bad_request, "Bad Request", "", false};

// The runtime's answer to a head Beast could not parse; none for errors that are not the request's.
std::optional<RuntimeAnswer> answer_to_parse_error(beast::error_code ec) {
    if (ec.category() != http::make_error_code(http::error::header_limit).category()) return std::nullopt;
    switch (static_cast<http::error>(ec.value())) {
        case http::error::header_limit: return header_too_large;
        case http::error::bad_method: return unrecognized_method;
        case http::error::bad_target:
        case http::error::bad_version: return invalid_request_line;
        case http::error::bad_line_ending:
        case http::error::bad_field:
        case http::error::bad_value:
        case http::error::bad_obs_fold: return invalid_headers;
        case http::error::bad_content_length:
        case http::error::multiple_content_length:
        case http::error::bad_transfer_encoding: return internal_error;
        case http::error::bad_chunk:  // only in a body: the head is answered first (HttpSession::on_read)
        case http::error::bad_chunk_extension: return internal_error;
        default: return std::nullopt;
    }
}

// The methods the runtime serves (docs/protocol.md): Beast's verbs less those the runtime does not
// know, and QUERY, which Beast does not know.
bool runtime_serves(http::request<http::string_body> const& request) {
    switch (request.method()) {
        case http::verb::unknown: return request.method_string() == "QUERY";
        case http::verb::bind:
        case http::verb::rebind:
        case http::verb::unbind:
        case http::verb::link:
        case http::verb::unlink:
        case http::verb::mkcalendar:
        case http::verb::msearch: return false;
        default: return true;
    }
}

// The runtime's answer to a parsed request it does not pass on, in the order it checks.
std::optional<RuntimeAnswer> runtime_refusal(http::request<http::string_body> const& request, bool chunked) {
    if (!runtime_serves(request)) return unrecognized_method;
    auto const host = request.find(http::field::host);
    if (request.method() == http::verb::connect || !request.target().starts_with('/') ||
        request.count(http::field::host) > 1 || (request.count(http::field::transfer_encoding) > 0 && !chunked))
        return internal_error;
    if (host == request.end() || host->value().empty()) return missing_host;
    return std::nullopt;
}

// The runtime's answer as it writes it: `Connection: close` first when it ends the connection, then
// Content-Length and Content-Type. A HEAD gets no body unless the answer ends the connection.
std::shared_ptr<http::response<http::string_body>> runtime_response(RuntimeAnswer const& answer, bool head) {
    auto response = std::make_shared<http::response<http::string_body>>(answer.status, 11);
    if (answer.close) response->keep_alive(false);
    response->content_length(answer.body.size());
    if (!answer.content_type.empty()) response->set(http::field::content_type, answer.content_type);
    if (!head || answer.close) response->body() = answer.body;
    return response;
}
}  // namespace

HttpSession::HttpSession(Socket&& socket, Hub& hub) : stream_(std::move(socket)), hub_(hub) {}

void HttpSession::run() {
    stream_.expires_after(head_timeout);
    do_read();
}

void HttpSession::do_read() {
    parser_.emplace(head_limit);
    if (answered_) stream_.expires_after(keep_alive_timeout);
    parse();
}

// What http::async_read does, with the head limit kept between puts: feed what is buffered (a
// pipelined request may be there already), read more while the parser needs more.
void HttpSession::parse() {
    for (;;) {
        beast::error_code ec;
        std::size_t used = 0;
        if (buffer_.size() > 0) {
            if (answered_ && !parser_->got_some()) stream_.expires_after(head_timeout);  // a later request begins
            used = parser_->feed(buffer_.data(), ec);
            buffer_.consume(used);
            if (ec && ec != http::error::need_more) return on_read(ec);
            if (parser_->is_done()) return on_read({});
        }
        if (ec || used == 0 || buffer_.size() == 0) break;
    }
    stream_.async_read_some(buffer_.prepare(read_size),
                            beast::bind_front_handler(&HttpSession::on_read_some, shared_from_this()));
}

void HttpSession::on_read_some(beast::error_code ec, std::size_t bytes) {
    buffer_.commit(bytes);
    if (ec == net::error::eof) {
        // As http::read: a connection that ends between requests is end_of_stream.
        if (parser_->got_some())
            parser_->put_eof(ec);
        else
            ec = http::error::end_of_stream;
        return on_read(ec ? ec : beast::error_code(http::error::partial_message));
    }
    if (ec) return on_read(ec);
    parse();
}

void HttpSession::on_read(beast::error_code ec) {
    if (!ec) return answer(false);
    auto const refusal = answer_to_parse_error(ec);
    if (!refusal) {
        if (ec != http::error::end_of_stream && ec != beast::error::timeout)
            hub_.log().log(LogLevel::debug, "http request failed: " + ec.message());
        stream_.socket().shutdown(Socket::shutdown_send, ec);
        return;
    }
    hub_.log().log(LogLevel::debug, "http request refused: " + ec.message());
    // A body the runtime cannot read spoils only what follows: the head is answered, then the connection ends.
    if (parser_->is_header_done()) return answer(true);
    response_ = runtime_response(*refusal, false);
    write(false);
}

void HttpSession::answer(bool body_failed) {
    auto& request = parser_->get();
    bool const head = request.method() == http::verb::head;
    if (auto refusal = runtime_refusal(request, parser_->chunked())) {
        hub_.log().log(LogLevel::debug, std::string(request.method_string()) + " " + std::string(request.target()) +
                                           " -> " + std::to_string(static_cast<unsigned>(refusal->status)) + " (runtime)");
        response_ = runtime_response(*refusal, head);
        return write(!refusal->close && !body_failed);
    }
    // The runtime takes an empty field for a missing one: an empty Sec-WebSocket-Key is missing (HTTP-9).
    auto header = [&request](http::field name) -> std::optional<std::string_view> {
        auto it = request.find(name);
        if (it == request.end() || it->value().empty()) return std::nullopt;
        return it->value();
    };
    auto routing = core::route(request.target(), {header(http::field::upgrade), header(http::field::sec_websocket_version),
                                                  header(http::field::sec_websocket_key)});
    // Fault injection, or the socket ceiling (--max-sockets), may refuse upgrades for a while; every
    // other answer stays the router's.
    if (std::holds_alternative<core::Admission>(routing))
        if (auto refusal = hub_.upgrade_refusal()) routing = std::move(*refusal);
    if (auto* admission = std::get_if<core::Admission>(&routing)) {
        if (body_failed) return write_nothing();
        // The runtime fails an upgrade by any other method.
        if (request.method() != http::verb::get) {
            response_ = runtime_response(internal_error, head);
            return write(false);
        }
        // The official runtime upgrades whatever the version and without `Connection: Upgrade`; Beast
        // insists on HTTP/1.1 and on the header.
        request.version(11);
        if (!http::token_list{header(http::field::connection).value_or("")}.exists("upgrade"))
            request.set(http::field::connection, "Upgrade");
        stream_.expires_never();
        hub_.make_session(stream_.release_socket(), std::move(*admission))->run(std::move(request));
        return;
    }

    auto const& reply = std::get<core::HttpReply>(routing);
    hub_.log().log(LogLevel::debug, std::string(request.method_string()) + " " + std::string(request.target()) + " -> " +
                                       std::to_string(reply.status));
    // The runtime answers HTTP/1.1 whatever the request's version, and keeps the connection whatever
    // the request's `Connection` says; only its own refusals end it.
    response_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(reply.status), 11);
    if (reply.close_connection) response_->keep_alive(false);
    // As the official runtime does, a HEAD answer carries neither body nor Content-Length.
    if (!head) response_->content_length(reply.body.size());
    response_->set(http::field::content_type, reply.content_type);
    if (!head) response_->body() = reply.body;
    write(!reply.close_connection && !body_failed);
}

void HttpSession::write(bool keep_alive) {
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), keep_alive));
}

void HttpSession::write_nothing() {
    beast::error_code ec;
    stream_.socket().shutdown(Socket::shutdown_send, ec);
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return;
    if (keep_alive) {
        answered_ = true;
        return do_read();
    }
    stream_.socket().shutdown(Socket::shutdown_send, ec);
}

}  // namespace relay::transport
