#include "client/tls.hpp"

#include "client/http_exchange.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <stdexcept>

namespace conformance::client {

namespace net = boost::asio;
namespace ssl = net::ssl;

std::shared_ptr<ssl::context> make_tls_context(bool insecure, std::string const& ca_file) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    if (insecure) {
        context->set_verify_mode(ssl::verify_none);
        return context;
    }
    context->set_verify_mode(ssl::verify_peer);
    context->set_default_verify_paths();
    if (!ca_file.empty()) {
        boost::system::error_code ec;
        context->load_verify_file(ca_file, ec);
        if (ec) throw std::runtime_error("cannot read CA certificates from " + ca_file + ": " + ec.message());
    }
    return context;
}

net::awaitable<void> tls_handshake(TlsStream& stream, std::string const& host, Clock::time_point deadline) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    // SNI takes names only; an address is still checked against the certificate's IP entries.
    if (ec) SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    stream.set_verify_callback(ssl::host_name_verification(host));
    boost::beast::get_lowest_layer(stream).expires_at(deadline);
    co_await stream.async_handshake(ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        std::string what = "TLS handshake with " + host + " failed: " + ec.message();
        if (ec.category() == net::error::get_ssl_category() &&
            ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED)
            what += "; pass --ca-file with the relay's CA certificate, or --insecure to skip certificate checks";
        throw ConnectionFault(what, false);
    }
}

}  // namespace conformance::client
