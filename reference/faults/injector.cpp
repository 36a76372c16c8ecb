#include "injector.hpp"

namespace relay::faults {

namespace {

using nlohmann::json;

std::string describe_socket(json const& socket) {
    auto const role = socket["role"].get<std::string>();
    auto out = socket["version"].get<std::string>() + " " + role;
    if (socket.contains("connection_id")) out += " " + socket["connection_id"].get<std::string>();
    return out + " serverId=" + socket["server_id"].get<std::string>() + " #" + std::to_string(socket["socket"].get<core::SocketId>());
}

// The log's account of what a fault reached: its sockets, or its id.
std::string outcome(json const& result) {
    if (result.contains("id")) return result["id"].get<std::string>();
    auto const& sockets = result["sockets"];
    if (sockets.empty()) return "no socket matched";
    std::string out;
    for (auto const& socket : sockets) out += (out.empty() ? "" : ", ") + describe_socket(socket);
    return out;
}

long long remaining_ms(std::optional<Clock::time_point> ends) {
    return std::chrono::ceil<std::chrono::milliseconds>(*ends - Clock::now()).count();
}

}  // namespace

Injector::Injector(transport::Hub& hub, transport::Logger const& log, std::size_t startup_max_message_bytes)
    : hub_(hub), log_(log), startup_max_message_bytes_(startup_max_message_bytes) {
    hub_.consult(&standing_);
}

std::vector<core::SocketId> Injector::matching(SocketSelector const& where) const {
    std::vector<core::SocketId> ids;
    for (auto id : hub_.open_sockets())
        if (auto const* info = hub_.relay().info(id); info && matches(where, id, info->admission)) ids.push_back(id);
    return ids;
}

json Injector::sockets(SocketSelector const& where) const {
    auto out = json::array();
    for (auto id : matching(where)) out.push_back(socket_json(id, hub_.relay().info(id)->admission));
    return out;
}

std::optional<Injector::Picked> Injector::pick(SocketSelector const& where, std::uint64_t pick) const {
    auto const ids = matching(where);
    if (ids.empty()) return std::nullopt;
    auto const id = ids[pick % ids.size()];
    return Picked{id, hub_.relay().info(id)->admission};
}

json Injector::close_each(SocketSelector const& where, std::uint16_t code, std::string const& reason) {
    auto closed = json::array();
    for (auto id : matching(where)) {
        auto socket = socket_json(id, hub_.relay().info(id)->admission);
        if (hub_.close_socket(id, code, reason)) closed.push_back(std::move(socket));
    }
    return {{"sockets", closed}};
}

json Injector::drop_each(SocketSelector const& where) {
    auto dropped = json::array();
    // Described first: a reset ends the socket at once, and the core forgets it.
    auto const ids = matching(where);
    for (auto id : ids) dropped.push_back(socket_json(id, hub_.relay().info(id)->admission));
    for (auto id : ids) hub_.reset_socket(id);
    return {{"sockets", dropped}};
}

void Injector::cap(std::size_t bytes) {
    hub_.set_max_message_bytes(bytes);
    if (bytes == startup_max_message_bytes_)
        lowered_cap_.reset();
    else
        lowered_cap_ = bytes;
}

json Injector::apply(Command const& command, std::string const& origin) {
    struct Apply {
        Injector& self;
        json operator()(CloseControls const& c) const {
            return self.close_each({core::Version::v2, c.server_id, "control", {}, {}}, c.code, c.reason);
        }
        json operator()(CloseSockets const& c) const { return self.close_each(c.where, c.code, c.reason); }
        json operator()(DropSockets const& c) const { return self.drop_each(c.where); }
        json operator()(Restart const& c) const {
            auto everyone = self.sockets();
            self.hub_.restart(c.reset);
            return {{"sockets", everyone}};
        }
        json operator()(DelayDelivery const& c) const { return {{"id", self.standing_.add_delay(c, Clock::now())}}; }
        json operator()(CapMessages const& c) const {
            self.cap(c.max_message_bytes);
            return {{"id", "max-message-bytes"}};
        }
        json operator()(RefuseUpgrades const& c) const { return {{"id", self.standing_.refuse_upgrades(c, Clock::now())}}; }
    };
    auto result = std::visit(Apply{*this}, command);
    log_.log(transport::LogLevel::warn, "fault (" + origin + "): " + describe(command) + ": " + outcome(result));
    return result;
}

json Injector::standing() {
    auto const now = Clock::now();
    auto delays = json::array();
    for (auto const& rule : standing_.delays(now)) {
        json delay{{"id", delay_id(rule.number)}, {"sockets", to_json(rule.fault.where)},
                   {"held", hub_.held().held_by(rule.number)}};
        if (rule.fault.delay)
            delay["ms"] = rule.fault.delay->count();
        else
            delay["paused"] = true;
        if (rule.ends) delay["remaining_ms"] = remaining_ms(rule.ends);
        delays.push_back(std::move(delay));
    }
    json out{{"delays", delays}, {"max_message_bytes", nullptr}, {"refuse_upgrades", nullptr}, {"profile", nullptr}};
    if (lowered_cap_)
        out["max_message_bytes"] = {{"id", "max-message-bytes"}, {"bytes", *lowered_cap_}, {"startup_bytes", startup_max_message_bytes_}};
    if (auto const& refusal = standing_.refusal(now)) {
        json refuse{{"id", "refuse-upgrades"}, {"status", refusal->fault.status}, {"body", refusal->fault.body}};
        if (refusal->ends) refuse["remaining_ms"] = remaining_ms(refusal->ends);
        out["refuse_upgrades"] = std::move(refuse);
    }
    if (profile_) out["profile"] = *profile_;
    return out;
}

bool Injector::end(std::string const& id) {
    if (id == "delay") {
        standing_.remove_delays();
        hub_.held().release_all();
    } else if (id == "max-message-bytes") {
        cap(startup_max_message_bytes_);
    } else if (id == "refuse-upgrades") {
        standing_.remove_refusal();
    } else if (auto rule = standing_.remove_delay(id)) {
        hub_.held().release(*rule);
    } else {
        return false;
    }
    return true;
}

bool Injector::clear(std::string const& id) {
    if (!end(id)) return false;
    log_.log(transport::LogLevel::warn, "fault cleared: " + id);
    return true;
}

void Injector::clear_all() {
    for (auto const* kind : {"delay", "max-message-bytes", "refuse-upgrades"}) end(kind);
    log_.log(transport::LogLevel::warn, "faults cleared: every standing fault");
}

}  // namespace relay::faults
