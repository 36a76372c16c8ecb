// The admin port's HTTP/JSON API (docs/daemon-development.md, "Fault injection"): each request in,
// one JSON answer out, carried out by the Injector. No sockets here.
#pragma once

#include "faults/injector.hpp"

#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>

namespace relay::admin {

struct AdminReply {
    unsigned status;
    std::string body;  // JSON
};

class AdminApi {
public:
    explicit AdminApi(faults::Injector& injector) : injector_(injector) {}

    AdminReply answer(boost::beast::http::verb method, std::string_view target, std::string_view body);

private:
    AdminReply inject(std::string_view kind, std::string_view body);

    faults::Injector& injector_;
};

}  // namespace relay::admin
