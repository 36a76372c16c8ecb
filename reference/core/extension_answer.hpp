// The Sec-WebSocket-Extensions answer spelled as the official runtime spells it. Beast negotiates
// permessage-deflate; this only rewrites its answer's text, so what is agreed stays Beast's.
#pragma once

#include <string>
#include <string_view>

namespace relay::core {

// `offer` is the request's header, `negotiated` Beast's answer ("" when it declined). The official
// runtime lists parameters in one fixed order (client_no_context_takeover; server_no_context_takeover;
// client_max_window_bits=N; server_max_window_bits=N) and answers a bare client_max_window_bits with
// the window it grants, 15.
std::string official_extension_answer(std::string_view offer, std::string_view negotiated);

}  // namespace relay::core
