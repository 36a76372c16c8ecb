#include "matcher/pattern.hpp"

#include <boost/regex.hpp>

namespace conformance::matcher {

namespace {

bool is_matcher(Json const& pattern) {
    if (!pattern.is_object() || pattern.empty()) return false;
    for (auto const& [key, _] : pattern.items())
        if (!key.empty() && key[0] == '$') return true;
    return false;
}

std::string show(Json const& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string pointer_join(std::string const& at, std::string const& key) {
    std::string escaped;
    for (char c : key) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return at + "/" + escaped;
}

class Matcher {
public:
    Matcher(bool subset, Variables const& vars) : subset_(subset), vars_(vars) {}

    bool run(Json const& pattern, Json const& value, std::string const& at) {
        if (is_matcher(pattern)) return matcher(pattern, value, at);
        if (pattern.is_string()) {
            auto const expected = substitute(pattern.get<std::string>(), vars_);
            if (value.is_string() && value.get<std::string>() == expected) return true;
            return fail(at, "expected " + show(Json(expected)) + ", got " + show(value));
        }
        if (pattern.is_boolean() || pattern.is_null()) {
            if (value.type() == pattern.type() && value == pattern) return true;
            return fail(at, "expected " + show(pattern) + ", got " + show(value));
        }
        if (pattern.is_number()) {
            if (value.is_number() && value == pattern) return true;
            return fail(at, "expected " + show(pattern) + ", got " + show(value));
        }
        if (pattern.is_array()) return array(pattern, value, at);
        return object(pattern, value, at);
    }

    Variables captures;
    std::string why;
    std::vector<std::string> nonstrict;

private:
    bool fail(std::string const& at, std::string const& message) {
        why = "at " + (at.empty() ? std::string("/") : at) + ": " + message;
        return false;
    }

    bool matcher(Json const& pattern, Json const& value, std::string const& at) {
        if (pattern.contains("$absent")) return fail(at, "expected no value, got " + show(value));
        if (pattern.contains("$integer") && !(value.is_number_integer() || value.is_number_unsigned()))
            return fail(at, "expected an integer, got " + show(value));
        if (pattern.contains("$min") && !(value.is_number() && value >= pattern["$min"]))
            return fail(at, "expected at least " + show(pattern["$min"]) + ", got " + show(value));
        if (pattern.contains("$max") && !(value.is_number() && value <= pattern["$max"]))
            return fail(at, "expected at most " + show(pattern["$max"]) + ", got " + show(value));
        if (auto regex = pattern.find("$regex"); regex != pattern.end()) {
            if (!value.is_string()) return fail(at, "expected a string matching /" + regex->get<std::string>() + "/, got " + show(value));
            // Boost's matcher keeps its backtracking on the heap, within a bound: libstdc++'s std::regex
            // recurses per character and overflowed the stack on a 100 KB frame against "hello.*"
            // (docs/reliability.md, "Fuzzing"). Past Boost's bound it throws: a runner fault, not a crash.
            if (!boost::regex_match(value.get<std::string>(), boost::regex(regex->get<std::string>(), boost::regex::ECMAScript)))
                return fail(at, show(value) + " does not match /" + regex->get<std::string>() + "/");
        }
        if (auto capture = pattern.find("$capture"); capture != pattern.end()) captures[capture->get<std::string>()] = value;
        if (auto strict = pattern.find("$strict"); strict != pattern.end()) {
            // The official relay's exact value, which no client depends on: a miss is NON-STRICT, not FAILED.
            Matcher stricter(subset_, vars_);
            if (!stricter.run(*strict, value, at)) nonstrict.push_back(std::move(stricter.why));
        }
        return true;
    }

    bool array(Json const& pattern, Json const& value, std::string const& at) {
        if (!value.is_array()) return fail(at, "expected an array, got " + show(value));
        if (value.size() != pattern.size())
            return fail(at, "expected " + std::to_string(pattern.size()) + " elements, got " + std::to_string(value.size()) +
                                ": " + show(value));
        for (std::size_t i = 0; i < pattern.size(); ++i)
            if (!run(pattern[i], value[i], at + "/" + std::to_string(i))) return false;
        return true;
    }

    bool object(Json const& pattern, Json const& value, std::string const& at) {
        if (!value.is_object()) return fail(at, "expected an object, got " + show(value));
        for (auto const& [key, sub] : pattern.items()) {
            auto const here = pointer_join(at, key);
            auto found = value.find(key);
            if (sub.is_object() && sub.contains("$absent")) {
                if (found != value.end()) return fail(here, "expected no such key, got " + show(*found));
                continue;
            }
            if (found == value.end()) return fail(here, "key missing");
            if (!run(sub, *found, here)) return false;
        }
        if (!subset_)
            for (auto const& [key, _] : value.items())
                if (!pattern.contains(key)) return fail(pointer_join(at, key), "unexpected key");
        return true;
    }

    bool subset_;
    Variables const& vars_;
};

}  // namespace

std::string substitute(std::string const& text, Variables const& vars) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
            continue;
        }
        if (text.compare(i, 2, "${") == 0) {
            auto const end = text.find('}', i + 2);
            if (end != std::string::npos) {
                auto const name = text.substr(i + 2, end - i - 2);
                auto it = vars.find(name);
                if (it == vars.end()) throw UnknownVariable("${" + name + "} has no value here");
                out += it->second.is_string() ? it->second.get<std::string>() : show(it->second);
                i = end + 1;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

Json substitute_json(Json const& value, Variables const& vars) {
    if (value.is_string()) return substitute(value.get<std::string>(), vars);
    if (value.is_array()) {
        auto out = Json::array();
        for (auto const& item : value) out.push_back(substitute_json(item, vars));
        return out;
    }
    if (value.is_object()) {
        auto out = Json::object();
        for (auto const& [key, item] : value.items()) out[substitute(key, vars)] = substitute_json(item, vars);
        return out;
    }
    return value;
}

MatchResult match(Json const& pattern, Json const& value, bool subset, Variables const& vars) {
    Matcher m(subset, vars);
    MatchResult result;
    result.matched = m.run(pattern, value, "");
    if (result.matched) {
        result.captures = std::move(m.captures);
        result.nonstrict = std::move(m.nonstrict);
    } else
        result.why = std::move(m.why);
    return result;
}

MatchResult match_fields(std::map<std::string, Json> const& patterns, std::map<std::string, std::string> const& values,
                         std::string const& what, Variables const& vars) {
    MatchResult result;
    for (auto const& [name, pattern] : patterns) {
        auto it = values.find(name);
        if (pattern.is_object() && pattern.contains("$absent")) {
            if (it == values.end()) continue;
            result.why = what + " " + name + " should be absent, is \"" + it->second + "\"";
            return result;
        }
        if (it == values.end()) {
            result.why = what + " " + name + " missing";
            return result;
        }
        auto one = match(pattern, Json(it->second), false, vars);
        if (!one.matched) {
            result.why = what + " " + name + ": " + one.why;
            return result;
        }
        for (auto& [k, v] : one.captures) result.captures[k] = std::move(v);
        for (auto& why : one.nonstrict) result.nonstrict.push_back(what + " " + name + ": " + why);
    }
    result.matched = true;
    return result;
}

std::string describe(Json const& pattern) {
    if (is_matcher(pattern)) {
        std::string out;
        auto add = [&](std::string part) { out += (out.empty() ? "" : " ") + part; };
        if (pattern.contains("$any")) add("any value");
        if (pattern.contains("$absent")) add("absent");
        if (pattern.contains("$integer")) add("any integer");
        if (pattern.contains("$min")) add(">= " + show(pattern["$min"]));
        if (pattern.contains("$max")) add("<= " + show(pattern["$max"]));
        if (pattern.contains("$regex")) add("string matching /" + pattern["$regex"].get<std::string>() + "/");
        if (pattern.contains("$capture")) add("(captured as ${" + pattern["$capture"].get<std::string>() + "})");
        if (pattern.contains("$strict")) add("(strictly " + describe(pattern["$strict"]) + ")");
        return out;
    }
    if (pattern.is_object()) {
        std::string out = "{";
        for (auto const& [key, sub] : pattern.items()) out += (out.size() > 1 ? "," : "") + show(Json(key)) + ":" + describe(sub);
        return out + "}";
    }
    if (pattern.is_array()) {
        std::string out = "[";
        for (auto const& sub : pattern) out += (out.size() > 1 ? "," : "") + describe(sub);
        return out + "]";
    }
    return show(pattern);
}

}  // namespace conformance::matcher
