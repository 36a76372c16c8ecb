// How the relay sets up each WebSocket stream, for the sessions and for the fuzz target that feeds
// the same stream hostile frames (reference/tests/fuzz/websocket_frames_fuzz.cpp).
#pragma once

#include "core/extension_answer.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/option.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <string>

namespace relay::transport {

// Every option below is visible on the wire; each matches the official relay: permessage-deflate
// when the client offers it, its answer spelled as the official runtime spells it, one frame per
// message, and no Beast message cap: the cap is enforced as the runtime does (LIMIT-1), on frame
// headers as they arrive and in the session's reads. The timeouts are the caller's. `on_answer` hears
// whether compression was agreed, before the 101 leaves.
template <class Stream, class OnAnswer>
void set_relay_options(boost::beast::websocket::stream<Stream>& ws, boost::beast::websocket::stream_base::timeout timeouts,
                       std::string offer, OnAnswer on_answer) {
    namespace websocket = boost::beast::websocket;
    namespace http = boost::beast::http;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [offer = std::move(offer), on_answer = std::move(on_answer)](websocket::response_type& res) {
            bool const compressing = !res[http::field::sec_websocket_extensions].empty();
            on_answer(compressing);
            if (compressing)
                res.set(http::field::sec_websocket_extensions,
                        core::official_extension_answer(offer, res[http::field::sec_websocket_extensions]));
        }));
    websocket::permessage_deflate deflate;
    deflate.server_enable = true;
    ws.set_option(deflate);
    ws.read_message_max(0);
    ws.auto_fragment(false);
}

}  // namespace relay::transport
