#include "scenario/schema_validator.hpp"

#include <regex>
#include <set>

namespace conformance::scenario {

using Json = nlohmann::json;

namespace {

std::set<std::string> const known_keywords{
    "$schema", "$id", "$ref", "$defs", "title", "description", "type", "properties", "required",
    "additionalProperties", "enum", "const", "oneOf", "items", "minItems", "minProperties", "maxProperties",
    "minimum", "maximum", "minLength", "pattern"};

// Walks the schema and refuses keywords the validator does not implement.
void check_keywords(Json const& schema, std::string const& where) {
    if (!schema.is_object()) return;
    for (auto const& [key, value] : schema.items()) {
        if (!known_keywords.count(key)) throw std::invalid_argument("schema keyword " + key + " at " + where + " is not supported");
        if (key == "properties" || key == "$defs") {
            for (auto const& [name, sub] : value.items()) {
                // $defs/common groups definitions without being a schema itself.
                if (key == "$defs" && name == "common")
                    for (auto const& [n, s] : sub.items()) check_keywords(s, where + "/$defs/common/" + n);
                else
                    check_keywords(sub, where + "/" + key + "/" + name);
            }
        } else if (key == "items" || key == "additionalProperties") {
            check_keywords(value, where + "/" + key);
        } else if (key == "oneOf") {
            for (std::size_t i = 0; i < value.size(); ++i) check_keywords(value[i], where + "/oneOf/" + std::to_string(i));
        }
    }
}

bool has_type(Json const& instance, std::string const& type) {
    if (type == "object") return instance.is_object();
    if (type == "array") return instance.is_array();
    if (type == "string") return instance.is_string();
    if (type == "integer") return instance.is_number_integer() || instance.is_number_unsigned() ||
                                  (instance.is_number_float() && instance.get<double>() == double(std::int64_t(instance.get<double>())));
    if (type == "number") return instance.is_number();
    if (type == "boolean") return instance.is_boolean();
    if (type == "null") return instance.is_null();
    return false;
}

std::string show(Json const& v) {
    auto s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
    return s.size() > 60 ? s.substr(0, 60) + "..." : s;
}

}  // namespace

SchemaValidator::SchemaValidator(Json schema) : schema_(std::move(schema)) { check_keywords(schema_, "#"); }

Json const& SchemaValidator::resolve(std::string const& ref) const {
    if (ref.rfind("#/", 0) != 0) throw std::invalid_argument("only local $ref are supported: " + ref);
    return schema_.at(Json::json_pointer(ref.substr(1)));
}

std::vector<SchemaError> SchemaValidator::validate(Json const& instance) const {
    std::vector<SchemaError> errors;
    check(schema_, instance, "", errors);
    return errors;
}

std::vector<SchemaError> SchemaValidator::validate(Json const& instance, std::string const& ref, std::string const& pointer) const {
    std::vector<SchemaError> errors;
    check(resolve(ref), instance, pointer, errors);
    return errors;
}

void SchemaValidator::check(Json const& schema, Json const& instance, std::string const& pointer,
                            std::vector<SchemaError>& errors) const {
    auto add = [&](std::string message) { errors.push_back({pointer.empty() ? "/" : pointer, std::move(message)}); };
    if (auto ref = schema.find("$ref"); ref != schema.end()) check(resolve(ref->get<std::string>()), instance, pointer, errors);
    if (auto type = schema.find("type"); type != schema.end() && !has_type(instance, type->get<std::string>()))
        return add("expected " + type->get<std::string>() + ", got " + show(instance));
    if (auto e = schema.find("enum"); e != schema.end() && std::find(e->begin(), e->end(), instance) == e->end())
        add("expected one of " + show(*e) + ", got " + show(instance));
    if (auto c = schema.find("const"); c != schema.end() && *c != instance) add("expected " + show(*c) + ", got " + show(instance));
    if (instance.is_string()) {
        auto const& s = instance.get_ref<std::string const&>();
        if (auto p = schema.find("pattern"); p != schema.end() && !std::regex_search(s, std::regex(p->get<std::string>())))
            add(show(instance) + " does not match " + p->get<std::string>());
        if (auto m = schema.find("minLength"); m != schema.end() && s.size() < m->get<std::size_t>())
            add("must not be shorter than " + m->dump());
    }
    if (instance.is_number()) {
        if (auto m = schema.find("minimum"); m != schema.end() && instance < *m) add("must be at least " + m->dump());
        if (auto m = schema.find("maximum"); m != schema.end() && instance > *m) add("must be at most " + m->dump());
    }
    if (instance.is_array()) {
        if (auto m = schema.find("minItems"); m != schema.end() && instance.size() < m->get<std::size_t>())
            add("needs at least " + m->dump() + " items");
        if (auto items = schema.find("items"); items != schema.end())
            for (std::size_t i = 0; i < instance.size(); ++i) check(*items, instance[i], pointer + "/" + std::to_string(i), errors);
    }
    if (instance.is_object()) {
        if (auto m = schema.find("minProperties"); m != schema.end() && instance.size() < m->get<std::size_t>())
            add("needs at least " + m->dump() + " members");
        if (auto m = schema.find("maxProperties"); m != schema.end() && instance.size() > m->get<std::size_t>())
            add("takes at most " + m->dump() + " members");
        if (auto required = schema.find("required"); required != schema.end())
            for (auto const& name : *required)
                if (!instance.contains(name.get<std::string>())) add("missing required field \"" + name.get<std::string>() + "\"");
        auto const properties = schema.find("properties");
        auto const additional = schema.find("additionalProperties");
        for (auto const& [key, value] : instance.items()) {
            auto const here = pointer + "/" + key;
            if (properties != schema.end() && properties->contains(key)) {
                check((*properties)[key], value, here, errors);
            } else if (additional != schema.end()) {
                if (additional->is_boolean() && !additional->get<bool>())
                    errors.push_back({here, "unknown field \"" + key + "\""});
                else if (additional->is_object())
                    check(*additional, value, here, errors);
            }
        }
    }
    if (auto one_of = schema.find("oneOf"); one_of != schema.end()) {
        std::size_t matching = 0;
        for (auto const& option : *one_of) {
            std::vector<SchemaError> trial;
            check(option, instance, pointer, trial);
            matching += trial.empty();
        }
        if (matching != 1) add(matching ? "matches more than one of the allowed forms" : "matches none of the allowed forms: " + show(instance));
    }
}

}  // namespace conformance::scenario
