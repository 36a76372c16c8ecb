// The admin port's HTTP/JSON API (docs/daemon-development.md, "Fault injection"): each request in,
// one JSON answer out, carried out by the Injector or read from the hub (GET /stats). No sockets here.
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
    AdminApi(faults::Injector& injector, transport::Hub const& hub) : injector_(injector), hub_(hub) {}

    AdminReply answer(boost::beast::http::verb method, std::string_view target, std::string_view body);

private:
    AdminReply inject(std::string_view kind, std::string_view body);

    faults::Injector& injector_;
    transport::Hub const& hub_;
};

}  // namespace relay::admin
