// Validates JSON against scenarios/scenario.schema.json. Debian has no C++ JSON Schema library, so
// this covers exactly the draft 2020-12 keywords that schema uses, and refuses any other keyword
// when it loads, so the schema cannot outgrow it unnoticed.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace conformance::scenario {

struct SchemaError {
    std::string pointer;  // where in the instance, as a JSON pointer
    std::string message;  // one line
};

class SchemaValidator {
public:
    // Throws std::invalid_argument naming the keyword if the schema uses one this validator lacks.
    explicit SchemaValidator(nlohmann::json schema);

    std::vector<SchemaError> validate(nlohmann::json const& instance) const;
    // Validates against one definition, e.g. "#/$defs/expect_step".
    std::vector<SchemaError> validate(nlohmann::json const& instance, std::string const& ref,
                                      std::string const& pointer) const;

private:
    void check(nlohmann::json const& schema, nlohmann::json const& instance, std::string const& pointer,
               std::vector<SchemaError>& errors) const;
    nlohmann::json const& resolve(std::string const& ref) const;

    nlohmann::json schema_;
};

}  // namespace conformance::scenario
