// What fuzzing the runner found (docs/reliability.md, "Fuzzing"), kept as unit tests beside the inputs
// added to the seed corpora.
#include "load_text.hpp"
#include "matcher/pattern.hpp"

#include <gtest/gtest.h>

#include <string>

using conformance::matcher::Json;
using conformance::matcher::match;

// std::regex recursed once per character and overflowed the stack near 100 KB: a relay's long frame,
// header or body crashed the runner wherever the library matches it with a $regex.
TEST(FuzzFindings, RegexMatchesAValueOfManyMegabytes) {
    std::string const long_tail(4 * 1024 * 1024, 'a');
    EXPECT_TRUE(match(Json{{"$regex", "hello.*"}}, Json("hello" + long_tail), false, {}).matched);
    EXPECT_TRUE(match(Json{{"$regex", "text/plain(;.*)?"}}, Json("text/plain;" + long_tail), false, {}).matched);
    EXPECT_FALSE(match(Json{{"$regex", "[0-9]+"}}, Json(std::string(4 * 1024 * 1024, '7') + "x"), false, {}).matched);
}

// A matcher operand of the wrong type passed the loader, then threw when the pattern was matched or
// described (pattern_fuzz: corpus/pattern_fuzz/found-capture-object). The loader now names it.
TEST(FuzzFindings, TheLoaderRefusesMatcherOperandsOfTheWrongType) {
    for (std::string const pattern : {R"({"$capture": {"$regex": "a"}})", R"({"$regex": 5})", R"({"$min": "1"})", R"({"$any": 1})"}) {
        auto const file = R"({"section": "T", "scenarios": [{"id": "t", "title": "t", "requirements": ["T-1"], "level": "MUST",
            "tags": [], "sockets": {"a": {}}, "steps": [{"expect": "a", "frame": {"json": {"x": )" + pattern + "}}}]}]}";
        EXPECT_THROW(conformance::fuzz::load_text(file), conformance::scenario::LoadError) << pattern;
    }
}
