// One request to a relay's admin port, for `reference-relay fault`: bounded in time, one connection.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <string>

namespace relay::admin {

struct AdminAnswer {
    unsigned status = 0;
    std::string body;
};

// `admin_url` is what the relay printed, http://HOST:PORT. Throws std::invalid_argument for a URL that
// is not one, std::runtime_error (one line) if the admin port cannot be reached or does not answer.
AdminAnswer call_admin(std::string const& admin_url, boost::beast::http::verb method, std::string const& path,
                       std::string const& body, std::chrono::seconds deadline = std::chrono::seconds(10));

}  // namespace relay::admin
