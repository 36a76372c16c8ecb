#include "selector.hpp"

#include <stdexcept>

namespace relay::faults {

namespace {

std::optional<std::string> optional_string(nlohmann::json const& body, char const* name) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw std::invalid_argument(std::string(name) + " must be a string");
    return it->get<std::string>();
}

}  // namespace

std::string role_name(core::Admission const& admission) {
    if (admission.version == core::Version::v1 || admission.role == core::Role::client) return core::to_string(admission.role);
    return admission.connection_id.empty() ? "control" : "data";
}

bool matches(SocketSelector const& selector, core::SocketId id, core::Admission const& admission) {
    if (selector.socket && *selector.socket != id) return false;
    if (selector.version && *selector.version != admission.version) return false;
    if (selector.server_id && *selector.server_id != admission.server_id) return false;
    if (selector.connection_id && *selector.connection_id != admission.connection_id) return false;
    if (!selector.role) return true;
    // "server" is the URL's role: v1 servers and v2 control and data sockets alike.
    if (*selector.role == "server") return admission.role == core::Role::server;
    return *selector.role == role_name(admission);
}

SocketSelector selector_from_json(nlohmann::json const& body) {
    SocketSelector selector;
    if (auto version = optional_string(body, "version")) {
        if (*version != "v1" && *version != "v2") throw std::invalid_argument("version must be \"v1\" or \"v2\"");
        selector.version = *version == "v1" ? core::Version::v1 : core::Version::v2;
    }
    selector.server_id = optional_string(body, "server_id");
    selector.role = optional_string(body, "role");
    if (selector.role && *selector.role != "control" && *selector.role != "data" && *selector.role != "client" &&
        *selector.role != "server")
        throw std::invalid_argument("role must be control, data, client or server");
    selector.connection_id = optional_string(body, "connection_id");
    if (auto it = body.find("socket"); it != body.end() && !it->is_null()) {
        if (!it->is_number_unsigned()) throw std::invalid_argument("socket must be a socket number, as GET /sockets lists them");
        selector.socket = it->get<core::SocketId>();
    }
    return selector;
}

nlohmann::json to_json(SocketSelector const& selector) {
    auto out = nlohmann::json::object();
    if (selector.version) out["version"] = core::to_string(*selector.version);
    if (selector.server_id) out["server_id"] = *selector.server_id;
    if (selector.role) out["role"] = *selector.role;
    if (selector.connection_id) out["connection_id"] = *selector.connection_id;
    if (selector.socket) out["socket"] = *selector.socket;
    return out;
}

nlohmann::json socket_json(core::SocketId id, core::Admission const& admission) {
    nlohmann::json out{{"socket", id},
                       {"version", core::to_string(admission.version)},
                       {"server_id", admission.server_id},
                       {"role", role_name(admission)}};
    if (!admission.connection_id.empty()) out["connection_id"] = admission.connection_id;
    return out;
}

}  // namespace relay::faults
