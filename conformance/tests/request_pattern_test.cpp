// Client scenarios' socket patterns against handshake requests: percent-decoded query values,
// $absent, captures, paths and headers.
#include "matcher/request_pattern.hpp"

#include <gtest/gtest.h>

using namespace conformance;
using matcher::HandshakeRequest;
using matcher::Json;

namespace {

scenario::SocketPattern control_pattern() {
    scenario::SocketPattern p;
    p.fields["serverId"] = Json{{"$capture", "serverId"}};
    p.fields["role"] = "server";
    p.fields["v"] = "2";
    p.fields["connectionId"] = Json{{"$absent", true}};
    return p;
}

matcher::MatchResult match(scenario::SocketPattern const& p, std::string const& target, matcher::Variables const& vars = {},
                           std::map<std::string, std::string> headers = {}) {
    return matcher::match_request(p, "/ws", HandshakeRequest{target, std::move(headers)}, vars);
}

}  // namespace

TEST(RequestPattern, QueryValuesArePercentDecoded) {
    auto const q = matcher::query_parameters("/ws?serverId=srv%20one%2Fa&role=server&x=a+b&empty&v=2&v=3#frag");
    EXPECT_EQ(q.at("serverId"), "srv one/a");
    EXPECT_EQ(q.at("x"), "a b");  // as URLSearchParams reads a query
    EXPECT_EQ(q.at("empty"), "");
    EXPECT_EQ(q.at("v"), "2");  // the first of a repeated parameter
    EXPECT_EQ(matcher::request_path("/ws?serverId=a"), "/ws");
    EXPECT_EQ(matcher::query_parameters("/ws?bad=%zz%4").at("bad"), "%zz%4");
}

TEST(RequestPattern, MatchesAndCapturesTheDecodedValue) {
    auto const result = match(control_pattern(), "/ws?serverId=srv%20one&role=server&v=2");
    ASSERT_TRUE(result.matched) << result.why;
    EXPECT_EQ(result.captures.at("serverId"), "srv one");
}

TEST(RequestPattern, AbsentMeansNotInTheQuery) {
    auto const result = match(control_pattern(), "/ws?serverId=s&role=server&v=2&connectionId=c1");
    EXPECT_FALSE(result.matched);
    EXPECT_EQ(result.why, "query parameter connectionId should be absent, is \"c1\"");
    // An empty value is present.
    EXPECT_FALSE(match(control_pattern(), "/ws?serverId=s&role=server&v=2&connectionId=").matched);
}

TEST(RequestPattern, NamedFieldsMustBePresentOthersAreNotChecked) {
    auto const missing = match(control_pattern(), "/ws?serverId=s&v=2");
    EXPECT_FALSE(missing.matched);
    EXPECT_EQ(missing.why, "query parameter role missing");
    EXPECT_TRUE(match(control_pattern(), "/ws?serverId=s&role=server&v=2&extra=1").matched);
    auto const wrong = match(control_pattern(), "/ws?serverId=s&role=client&v=2");
    EXPECT_FALSE(wrong.matched);
    EXPECT_NE(wrong.why.find("query parameter role: "), std::string::npos) << wrong.why;
}

TEST(RequestPattern, VariablesFromEarlierCapturesAndRegexes) {
    scenario::SocketPattern data;
    data.fields["serverId"] = "${serverId}";
    data.fields["connectionId"] = Json{{"$regex", "c[0-9]+"}};
    matcher::Variables vars{{"serverId", "srv one"}};
    EXPECT_TRUE(match(data, "/ws?serverId=srv+one&connectionId=c12", vars).matched);
    EXPECT_FALSE(match(data, "/ws?serverId=other&connectionId=c12", vars).matched);
    EXPECT_FALSE(match(data, "/ws?serverId=srv%20one&connectionId=x", vars).matched);
}

TEST(RequestPattern, PathAndHeaders) {
    auto p = control_pattern();
    auto const wrong_path = match(p, "/other?serverId=s&role=server&v=2");
    EXPECT_FALSE(wrong_path.matched);
    EXPECT_EQ(wrong_path.why.rfind("path: ", 0), 0u) << wrong_path.why;
    p.path = Json{{"$regex", "/(ws|other)"}};
    EXPECT_TRUE(match(p, "/other?serverId=s&role=server&v=2").matched);
    p.headers["sec-websocket-extensions"] = Json{{"$absent", true}};
    EXPECT_TRUE(match(p, "/ws?serverId=s&role=server&v=2", {}, {{"host", "x"}}).matched);
    auto const offered = match(p, "/ws?serverId=s&role=server&v=2", {}, {{"sec-websocket-extensions", "permessage-deflate"}});
    EXPECT_FALSE(offered.matched);
    EXPECT_EQ(offered.why, "header sec-websocket-extensions should be absent, is \"permessage-deflate\"");
}

TEST(RequestPattern, DescribedWithTheValuesKnown) {
    scenario::SocketPattern data;
    data.fields["serverId"] = "${serverId}";
    data.fields["connectionId"] = Json{{"$absent", true}};
    EXPECT_EQ(matcher::describe(data, "/ws", {{"serverId", "s1"}}), R"(a handshake for "/ws" with connectionId=absent serverId="s1")");
    EXPECT_EQ(matcher::describe(data, "/ws"), R"(a handshake for "/ws" with connectionId=absent serverId="${serverId}")");
}
