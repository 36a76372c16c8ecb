// HTTP-8: the extension answer as the official runtime spells it (observed under wrangler, see
// docs/protocol.md), from what Beast negotiated for each offer.
#include "core/extension_answer.hpp"

#include <gtest/gtest.h>

using relay::core::official_extension_answer;

TEST(ExtensionAnswer, HTTP_8_NoOfferNoAnswer) { EXPECT_EQ(official_extension_answer("", ""), ""); }

TEST(ExtensionAnswer, HTTP_8_NodeWsOfferIsAnsweredWithTheGrantedWindow) {
    EXPECT_EQ(official_extension_answer("permessage-deflate; client_max_window_bits", "permessage-deflate"),
              "permessage-deflate; client_max_window_bits=15");
    EXPECT_EQ(official_extension_answer("permessage-deflate;client_max_window_bits", "permessage-deflate"),
              "permessage-deflate; client_max_window_bits=15");
}

TEST(ExtensionAnswer, HTTP_8_ParametersComeInTheRuntimesOrder) {
    EXPECT_EQ(official_extension_answer("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                                        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
              "permessage-deflate; client_no_context_takeover; server_no_context_takeover");
    EXPECT_EQ(official_extension_answer(
                  "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12; server_no_context_takeover; client_no_context_takeover",
                  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"),
              "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=12; server_max_window_bits=10");
    EXPECT_EQ(official_extension_answer("permessage-deflate; server_max_window_bits=10; client_max_window_bits",
                                        "permessage-deflate; server_max_window_bits=10"),
              "permessage-deflate; client_max_window_bits=15; server_max_window_bits=10");
}

TEST(ExtensionAnswer, HTTP_8_PlainOffersAreEchoed) {
    EXPECT_EQ(official_extension_answer("permessage-deflate", "permessage-deflate"), "permessage-deflate");
    EXPECT_EQ(official_extension_answer("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10"),
              "permessage-deflate; server_max_window_bits=10");
}
