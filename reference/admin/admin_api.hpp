// The admin port's HTTP API (docs/daemon-development.md, "Fault injection"; docs/deploy.md): each request
// in, one answer out, carried out by the Injector or read from the hub (GET /stats, /metrics, /ready).
// No sockets here.
#pragma once

#include "faults/injector.hpp"

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace relay::admin {

struct AdminReply {
    unsigned status;
    std::string body;
    std::string content_type = "application/json";
};

class AdminApi {
public:
    // Without an injector (--admin-read-only) only GET /metrics, /ready and /stats are served.
    AdminApi(faults::Injector* injector, transport::Hub const& hub) : injector_(injector), hub_(hub) {}

    AdminReply answer(boost::beast::http::verb method, std::string_view target, std::string_view body);

private:
    AdminReply inject(std::string_view kind, std::string_view body);
    // The fault-injection endpoints; nothing for a method they do not take.
    std::optional<AdminReply> fault_api(boost::beast::http::verb method, std::string_view path, std::string_view body);

    faults::Injector* injector_;
    transport::Hub const& hub_;
};

}  // namespace relay::admin
