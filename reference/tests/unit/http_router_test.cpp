// HTTP-*: what the router answers before any WebSocket exists. Test names carry the requirement id.
#include "core/http_router.hpp"

#include <gtest/gtest.h>

using namespace relay::core;

namespace {

constexpr char const* text_plain = "text/plain;charset=UTF-8";
HandshakeHeaders const websocket{"websocket", "13", "dGhlIHNhbXBsZSBub25jZQ=="};
HandshakeHeaders const plain_get{};

HandshakeHeaders with_upgrade(std::string_view value) { return {value, "13", "dGhlIHNhbXBsZSBub25jZQ=="}; }

HttpReply reply(std::string_view target, HandshakeHeaders const& headers = websocket) {
    auto r = route(target, headers);
    EXPECT_TRUE(std::holds_alternative<HttpReply>(r)) << target << " was admitted";
    return std::holds_alternative<HttpReply>(r) ? std::get<HttpReply>(r) : HttpReply{};
}

Admission admitted(std::string_view target, HandshakeHeaders const& headers = websocket) {
    auto r = route(target, headers);
    EXPECT_TRUE(std::holds_alternative<Admission>(r)) << target << " got " << std::get<HttpReply>(r).status;
    return std::holds_alternative<Admission>(r) ? std::get<Admission>(r) : Admission{};
}

void expect_reply(HttpReply const& r, unsigned status, std::string_view type, std::string_view body) {
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.content_type, type);
    EXPECT_EQ(r.body, body);
}

}  // namespace

TEST(HttpRouter, HTTP_1_HealthIsOkJson) {
    expect_reply(reply("/health", plain_get), 200, "application/json", R"({"status":"ok"})");
    expect_reply(reply("/health?serverId=x"), 200, "application/json", R"({"status":"ok"})");
}

TEST(HttpRouter, HTTP_2_OtherPathsAreNotFound) {
    for (auto target : {"/", "/ws/", "/WS", "/health/", "/nope", "/ws2?serverId=a&role=server"})
        expect_reply(reply(target), 404, text_plain, "Not found");
}

TEST(HttpRouter, HTTP_3_MissingOrEmptyServerIdComesFirst) {
    for (auto target : {"/ws", "/ws?role=server", "/ws?serverId=&role=server", "/ws?serverId&v=9&role=bad"})
        expect_reply(reply(target, plain_get), 400, text_plain, "Missing serverId parameter");
}

TEST(HttpRouter, HTTP_4_VersionMustBeOneOrTwoAfterTrimming) {
    for (auto target : {"/ws?serverId=a&v=3&role=bad", "/ws?serverId=a&v=abc", "/ws?serverId=a&v=02", "/ws?serverId=a&v=2.0"})
        expect_reply(reply(target, plain_get), 400, text_plain, "Invalid v parameter (expected 1 or 2)");
    EXPECT_EQ(admitted("/ws?serverId=a&role=server").version, Version::v1);
    EXPECT_EQ(admitted("/ws?serverId=a&role=server&v=").version, Version::v1);
    EXPECT_EQ(admitted("/ws?serverId=a&role=server&v=%20%20").version, Version::v1);
    EXPECT_EQ(admitted("/ws?serverId=a&role=server&v=1").version, Version::v1);
    EXPECT_EQ(admitted("/ws?serverId=a&role=server&v=+2%09").version, Version::v2);
    EXPECT_EQ(admitted("/ws?serverId=a&role=server&v=%C2%A02%E3%80%80").version, Version::v2);
}

TEST(HttpRouter, HTTP_5_RoleMustBeServerOrClientUntrimmed) {
    for (auto target : {"/ws?serverId=a", "/ws?serverId=a&role=admin", "/ws?serverId=a&role=%20server",
                        "/ws?serverId=a&role=Server", "/ws?serverId=a&v=2&role=client+"})
        expect_reply(reply(target, plain_get), 400, text_plain, "Missing or invalid role parameter");
}

TEST(HttpRouter, HTTP_6_UpgradeIsCheckedLast) {
    expect_reply(reply("/ws?serverId=a&role=server", plain_get), 426, text_plain, "Expected WebSocket upgrade");
    expect_reply(reply("/ws?serverId=a&role=server", with_upgrade("h2c")), 426, text_plain, "Expected WebSocket upgrade");
    expect_reply(reply("/ws?serverId=a&role=server", with_upgrade("")), 426, text_plain, "Expected WebSocket upgrade");
    admitted("/ws?serverId=a&role=server", with_upgrade("WebSocket"));
}

TEST(HttpRouter, HTTP_9_BrokenHandshakesGetTheRuntimesAnswer) {
    std::string const bad_version = "ERROR: The requested WebSocket version is not supported.";
    for (auto version : {std::optional<std::string_view>{}, std::optional<std::string_view>{"8"}}) {
        auto r = reply("/ws?serverId=a&role=server", {"websocket", version, std::nullopt});
        expect_reply(r, 400, "text/plain", bad_version);
        EXPECT_TRUE(r.close_connection);
    }
    auto r = reply("/ws?serverId=a&role=server", {"websocket", "13", std::nullopt});
    expect_reply(r, 400, "text/plain", "ERROR: Missing Sec-WebSocket-Key");
    EXPECT_TRUE(r.close_connection);
    EXPECT_FALSE(reply("/nope").close_connection);
}

TEST(HttpRouter, HTTP_7_QueryIsFormDecodedFirstValueWins) {
    auto a = admitted("/ws?serverId=my+id%21&role=client&v=2&connectionId=%20abc%20&serverId=other");
    EXPECT_EQ(a.server_id, "my id!");
    EXPECT_EQ(a.role, Role::client);
    EXPECT_EQ(a.connection_id, "abc");
    EXPECT_EQ(admitted("/ws?serverId=%20&role=server").server_id, " ");
    EXPECT_EQ(admitted("/ws?role=server&role=client&serverId=a").role, Role::server);
    EXPECT_EQ(admitted("/ws?serverId=a&v=2&role=server&connectionId=%20").connection_id, "");
}

TEST(HttpRouter, HTTP_7_MalformedEscapesAreTakenLiterallyAsUrlSearchParamsDoes) {
    EXPECT_EQ(admitted("/ws?serverId=%zz&role=server").server_id, "%zz");
    EXPECT_EQ(admitted("/ws?serverId=a|b%&role=server").server_id, "a|b%");
    EXPECT_EQ(admitted("/ws?serverId=a b&role=server#frag").server_id, "a b");
    expect_reply(reply("/%77s?serverId=a&role=server"), 404, text_plain, "Not found");
}

TEST(HttpRouter, HTTP_7_ConnectionIdIsIgnoredInV1) {
    EXPECT_EQ(admitted("/ws?serverId=a&role=client&connectionId=abc").connection_id, "");
}

TEST(HttpRouter, JsTrimMatchesStringPrototypeTrim) {
    EXPECT_EQ(js_trim(" \t\n\v\f\r x y \r\n"), "x y");
    EXPECT_EQ(js_trim("\u00A0\uFEFF\u2028x\u3000\u205F"), "x");
    EXPECT_EQ(js_trim("\u200Bx"), "\u200Bx");  // zero-width space is not white space
    EXPECT_EQ(js_trim(""), "");
    EXPECT_EQ(js_trim("\u2003"), "");
}
