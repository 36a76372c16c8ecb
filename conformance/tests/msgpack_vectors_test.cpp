// Every vector in scenarios/msgpack-vectors.json: pyharness runs the same file, so both runners send the
// same bytes for a `msgpack` send and give every `msgpack` frame matcher the same verdict and captures.
#include "matcher/msgpack.hpp"

#include <gtest/gtest.h>

#include <boost/algorithm/hex.hpp>

#include <fstream>

using conformance::matcher::Json;

namespace {

struct Vector {
    std::string name;
    Json data;
};

std::vector<Vector> vectors(char const* kind) {
    std::ifstream in(std::string(SCENARIOS_DIR) + "/msgpack-vectors.json");
    auto const doc = Json::parse(in);
    std::vector<Vector> out;
    for (auto const& v : doc.at(kind)) out.push_back({v.at("name").get<std::string>(), v});
    return out;
}

std::string test_name(std::string const& name) {
    std::string out;
    for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
}

std::string unhex(std::string const& hex) { return boost::algorithm::unhex(hex); }

class MsgpackEncode : public ::testing::TestWithParam<Vector> {};
class MsgpackDecode : public ::testing::TestWithParam<Vector> {};

}  // namespace

TEST_P(MsgpackEncode, SendsTheSharedBytes) {
    auto const& v = GetParam().data;
    EXPECT_EQ(boost::algorithm::hex_lower(conformance::matcher::msgpack_bytes(v.at("value"))), v.at("hex").get<std::string>());
}

TEST_P(MsgpackDecode, AgreesWithTheSharedVerdict) {
    auto const& v = GetParam().data;
    conformance::matcher::Variables vars;
    auto const given = v.value("vars", Json::object());
    for (auto const& [name, value] : given.items()) vars[name] = value;
    auto const decoded = conformance::matcher::msgpack_value(unhex(v.at("payload_hex").get<std::string>()));
    bool const expected = v.at("matches").get<bool>();
    if (!decoded) {
        EXPECT_FALSE(expected) << "the payload did not decode";
        return;
    }
    auto result = conformance::matcher::match(v.at("pattern"), *decoded, v.value("subset", false), vars);
    EXPECT_EQ(result.matched, expected) << result.why;
    if (!result.matched) return;
    auto const captures = v.value("captures", Json::object());
    for (auto const& [name, value] : captures.items()) EXPECT_EQ(result.captures[name], value) << name;
}

INSTANTIATE_TEST_SUITE_P(Vectors, MsgpackEncode, ::testing::ValuesIn(vectors("encode")),
                         [](auto const& info) { return test_name(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Vectors, MsgpackDecode, ::testing::ValuesIn(vectors("decode")),
                         [](auto const& info) { return test_name(info.param.name); });
