#include "scenario_builder.hpp"

#include <boost/algorithm/hex.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

namespace relay::record {
namespace {

using Json = nlohmann::ordered_json;

// The watchdog's windows as the library's own watchdog scenarios give them (scenarios/v2/watchdog.json),
// after the open of the client whose timer fired, in the official relay's time: a recording made with
// scaled timers replays at the matching --time-scale.
struct Window {
    int min_ms;
    int max_ms;
};
constexpr Window nudge_window{9000, 12500};
constexpr Window reset_window{14000, 18000};
constexpr double official_nudge_ms = 10'000;

// A frame that left no trace on the wire: how long the runner waits before the next socket acts.
constexpr int settle_ms = 500;
// A closed socket: how long the runner waits for the relay to answer the close (the official relay never does).
constexpr int close_answer_ms = 2000;
constexpr int default_timeout_ms = 30'000;

// `${` in recorded text would read as a variable: the format spells a literal one `$${`.
std::string literal(std::string const& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') out += '$';
        out += text[i];
    }
    return out;
}

Json literal_strings(Json value) {
    if (value.is_string()) return literal(value.get<std::string>());
    if (value.is_structured())
        for (auto& item : value) item = literal_strings(item);
    return value;
}

char const* type_of(Payload const& p) { return p.binary ? "binary" : "text"; }

// A delivered frame: the payload itself if it was kept, else its type and size.
Json frame_matcher(Payload const& p) {
    if (!p.bytes) return {{"type", type_of(p)}, {"size", p.size}};
    if (p.binary) return {{"binary_hex", boost::algorithm::hex_lower(*p.bytes)}};
    return {{"text", literal(*p.bytes)}};
}

// A control's own message, as JSON; a pong's time varies from run to run.
Json control_matcher(std::string const& text) {
    auto parsed = Json::parse(text, nullptr, false);
    if (!parsed.is_object()) return {{"text", literal(text)}};
    parsed = literal_strings(parsed);
    if (parsed.value("type", "") == "pong" && parsed.contains("ts")) parsed["ts"] = {{"$integer", true}};
    return {{"json", parsed}};
}

std::string control_type(std::string const& text) {
    auto parsed = Json::parse(text, nullptr, false);
    return parsed.is_object() ? parsed.value("type", "") : "";
}

class Builder {
public:
    Builder(SessionLog const& log, BuildOptions const& options)
        : log_(log), options_(options), usable_(log.sockets.size(), false), closed_by_relay_(log.sockets.size(), false) {}

    Json build() {
        mark_watchdog_opens();
        auto const& all = log_.observations;
        for (std::size_t i = 0; i < all.size(); ++i) take(i, all[i]);
        if (options_.at_shutdown) {
            std::size_t open = 0;
            for (std::size_t s = 0; s < usable_.size(); ++s) open += usable(s);
            steps_.push_back({{"mark", "relay_shutdown"},
                              {"note", "the relay stopped here, " + std::to_string(open) + " socket(s) still open"}});
        }
        merge_repeats();
        steps_.front()["note"] = note();  // a session starts with an open
        if (requirements_.empty()) requirements_.push_back("SESS-1");  // sockets met within their session
        return scenario();
    }

private:
    RecordedSocket const& socket(std::size_t index) const { return log_.sockets[index]; }
    std::string const& name(std::size_t index) const { return socket(index).name; }
    bool v2() const { return log_.version == core::Version::v2; }

    // A watchdog's sync and close are timed from the open of the client whose timer fired: the latest
    // open of a client of that id at least the delay before the nudge, and the latest nudge of that id
    // at least the reset's delay before the reset.
    void mark_watchdog_opens() {
        auto const& all = log_.observations;
        std::map<std::string, std::vector<std::pair<double, std::string>>> nudges;  // connection id -> (time, mark)
        for (std::size_t i = 0; i < all.size(); ++i) {
            auto const& o = all[i];
            if (o.what != What::watchdog) continue;
            if (o.reset) {
                auto const nudged_by = o.t_ms - double(options_.watchdog_reset.count());
                for (auto it = nudges[o.about].rbegin(); it != nudges[o.about].rend(); ++it)
                    if (it->first <= nudged_by) {
                        watchdog_marks_[i] = it->second;
                        break;
                    }
                continue;
            }
            auto const started_by = o.t_ms - double(options_.watchdog_nudge.count());
            for (auto j = i; j-- > 0;) {
                auto const& open = all[j];
                if (open.what != What::open || open.t_ms > started_by) continue;
                if (socket(open.socket).role != "client" || socket(open.socket).connection_id != o.about) continue;
                auto const& mark = open_marks_.emplace(j, "watchdog_" + std::to_string(open_marks_.size() + 1)).first->second;
                watchdog_marks_[i] = mark;
                nudges[o.about].emplace_back(o.t_ms, mark);
                break;
            }
        }
    }

    void take(std::size_t index, Observation const& o) {
        switch (o.what) {
        case What::open: return act(index, o, {{"open", name(o.socket)}});
        case What::send:
            // Sent after the relay's close left: it was dropped, and a runner cannot send it there.
            if (closed_by_relay_[o.socket]) return;
            return act(index, o, send_step(o));
        case What::deliver: return deliver(o);
        case What::relay_close: return relay_close(o);
        case What::peer_close: {
            if (closed_by_relay_[o.socket]) return answer(index, o);
            Json step{{"close", name(o.socket)}};
            if (o.code >= 1000 && o.code <= 4999 && o.code != 1005) step["code"] = o.code;  // 1005: a close without a code
            if (!o.reason.empty()) step["reason"] = o.reason;
            act(index, o, std::move(step));
            usable_[o.socket] = false;
            return;
        }
        case What::peer_drop:
            if (closed_by_relay_[o.socket]) return answer(index, o);
            act(index, o, {{"drop", name(o.socket)}});
            usable_[o.socket] = false;
            return;
        case What::watchdog: {
            auto it = watchdog_marks_.find(index);
            window_ = it == watchdog_marks_.end() ? std::nullopt : std::optional(std::pair(it->second, o.reset ? reset_window : nudge_window));
            has_watchdog_ = true;
            return;
        }
        }
    }

    Json send_step(Observation const& o) const {
        Json step{{"send", name(o.socket)}};
        auto const& p = o.payload;
        if (!p.bytes)
            step["fill"] = {{"type", type_of(p)}, {"size", p.size}};
        else if (p.binary)
            step["binary_hex"] = boost::algorithm::hex_lower(*p.bytes);
        else
            step["text"] = literal(*p.bytes);
        return step;
    }

    // An input: first make sure the relay has taken in the one before, then the step.
    void act(std::size_t index, Observation const& o, Json step) {
        settle_before(o);
        if (auto it = open_marks_.find(index); it != open_marks_.end()) step["mark"] = it->second;
        steps_.push_back(std::move(step));
        if (o.what == What::open) usable_[o.socket] = true;
        last_input_ = index;
        answered_ = false;
    }

    // The runner answers the relay's close by itself, so the answer has no step; but the relay acts on
    // it (a replaced data socket's clients are closed only then, V2-CLOSE-2), so it is an input all the same.
    void answer(std::size_t index, Observation const& o) {
        settle_before(o);
        last_input_ = index;
        answered_ = false;
    }

    // Sockets are not ordered: an input on another socket may overtake the last one unless something on
    // the wire showed the relay had taken that one in (a frame or close it caused, expected before this).
    void settle_before(Observation const& next) {
        if (!last_input_ || answered_) return;
        auto const& last = log_.observations[*last_input_];
        if (last.socket == next.socket) return;  // one socket's frames stay in order
        if (last.what == What::send) {
            if (last.effect == Effect::ignored) return;  // V2-CTRL-6: it changes nothing, whenever it is read
            if (last.effect == Effect::buffered && next.what == What::open && socket(next.socket).role == "data" &&
                socket(next.socket).connection_id == socket(last.socket).connection_id)
                return;  // a new data socket gets what was kept for its id before anything live, so either order delivers the same
            auto const* requirement = last.effect == Effect::buffered ? "V2-BUF-1" : v2() ? "V2-FWD-2" : "V1-4";
            quiet(last.socket, requirement, "nothing on the wire shows the relay has read that frame; sockets are not ordered");
        } else if (closed_by_relay_[last.socket]) {
            ended_or_quiet(last.socket, settle_ms, "the runner answered the relay's close; give the relay time to take that in");
        } else if (last.what == What::peer_close) {
            ended_or_quiet(last.socket, close_answer_ms, "the relay has taken the close in once it answers it");
        } else if (last.what == What::peer_drop) {
            auto const quiet_one = usable(next.socket) ? std::optional(next.socket) : any_usable();
            if (quiet_one) quiet(*quiet_one, nullptr, "nothing on the wire shows the relay has seen that drop; sockets are not ordered");
        }
        // An open's 101 comes as the relay takes the socket in, as the library's scenarios rely on.
    }

    bool usable(std::size_t s) const { return usable_[s] && !closed_by_relay_[s]; }

    std::optional<std::size_t> any_usable() const {
        for (std::size_t s = 0; s < usable_.size(); ++s)
            if (usable(s)) return s;
        return std::nullopt;
    }

    void ended_or_quiet(std::size_t s, int within_ms, std::string note) {
        steps_.push_back({{"expect", name(s)},
                          {"one_of", Json::array({{{"ended", true}}, {{"nothing", true}}})},
                          {"within_ms", within_ms},
                          {"note", std::move(note)}});
        ++waits_;
    }

    void quiet(std::size_t s, char const* requirement, std::string note) {
        Json step{{"expect", name(s)}, {"nothing", true}, {"within_ms", settle_ms}};
        if (requirement) step["requirement"] = require(requirement);
        step["note"] = std::move(note);
        steps_.push_back(std::move(step));
        ++waits_;
    }

    void deliver(Observation const& o) {
        Json step{{"expect", name(o.socket)}};
        std::string requirement;
        if (o.control) {
            auto const text = o.payload.bytes ? *o.payload.bytes : std::string();
            step["frame"] = control_matcher(text);
            auto const type = control_type(text);
            requirement = o.nudge ? "V2-WD-1" : type == "sync" ? "V2-CTRL-1" : type == "connected" ? "V2-CTRL-3"
                        : type == "disconnected" ? "V2-CTRL-4" : type == "pong" ? "V2-CTRL-5" : "";
        } else {
            step["frame"] = frame_matcher(o.payload);
            bool const flushed = last_input_ && log_.observations[*last_input_].what == What::open &&
                                 log_.observations[*last_input_].socket == o.socket;
            requirement = !v2() ? "V1-2" : flushed ? "V2-BUF-1" : "V2-FWD-1";
        }
        expect(std::move(step), requirement, o.nudge);
    }

    void relay_close(Observation const& o) {
        auto const& role = socket(o.socket).role;
        Json close{{"code", o.code}};
        // Reason texts are a NON-STRICT detail (docs/protocol.md): a relay may word them otherwise.
        close["reason"] = {{"$any", true}, {"$strict", literal(o.reason)}};
        std::string requirement;
        switch (o.code) {
        case 1008: requirement = !v2() ? "V1-1" : role == "control" ? "V2-CTRL-2" : "V2-DATA-1"; break;
        case 1001: requirement = "V2-CLOSE-1"; break;
        case 1012: requirement = "V2-CLOSE-2"; break;
        case 1011: requirement = "V2-WD-2"; break;
        case 1009: requirement = "LIMIT-1"; break;
        default: break;
        }
        closed_by_relay_[o.socket] = true;
        expect({{"expect", name(o.socket)}, {"close", std::move(close)}}, requirement, !o.about.empty());
    }

    // `timed`: the watchdog sent it, so it comes at its time rather than in answer to the last input.
    void expect(Json step, std::string const& requirement, bool timed) {
        if (timed && window_)
            step["window"] = {{"after", window_->first}, {"min_ms", window_->second.min_ms}, {"max_ms", window_->second.max_ms}};
        else if (timed)
            step["within_ms"] = reset_window.max_ms;  // its client's open was not recorded
        else
            answered_ = true;
        if (!requirement.empty()) step["requirement"] = require(requirement);
        steps_.push_back(std::move(step));
    }

    std::string const& require(std::string const& id) {
        if (std::find(requirements_.begin(), requirements_.end(), id) == requirements_.end()) requirements_.push_back(id);
        return id;
    }

    // Frames alike in a row become one step with `repeat`, as the library writes them.
    void merge_repeats() {
        auto plain = [](Json const& step) {
            return (step.contains("send") || step.contains("frame")) && !step.contains("mark") && !step.contains("window") &&
                   !step.contains("note");
        };
        Json merged = Json::array();
        for (auto& step : steps_) {
            if (!merged.empty() && plain(step) && plain(merged.back())) {
                auto previous = merged.back();
                auto const count = previous.value("repeat", 1);
                previous.erase("repeat");
                if (previous == step) {
                    merged.back()["repeat"] = count + 1;
                    continue;
                }
            }
            merged.push_back(std::move(step));
        }
        steps_ = std::move(merged);
    }

    std::string note() const {
        std::string text = "recorded by reference-relay --record at " + options_.recorded_at + " from serverId \"" +
                           log_.server_id + "\"; " +
                           (options_.payloads ? "payloads as they were (--record-payloads)"
                                              : "payloads redacted: each send is a fill of the recorded type and size, "
                                                "each delivered frame is matched by type and size");
        auto const nudge = double(options_.watchdog_nudge.count());
        if (has_watchdog_ && nudge != official_nudge_ms) {
            char scale[32];
            std::snprintf(scale, sizeof scale, "%g", nudge / official_nudge_ms);
            text += "; the relay's watchdog nudged after " + std::to_string(options_.watchdog_nudge.count()) +
                    " ms: replay against such a relay with --time-scale " + scale;
        }
        return text;
    }

    Json scenario() const {
        std::size_t sends = 0, delivered = 0;
        for (auto const& o : log_.observations) {
            sends += o.what == What::send;
            delivered += o.what == What::deliver;
        }
        auto const version = core::to_string(log_.version);
        Json sockets = Json::object();
        for (auto const& s : log_.sockets) {
            Json spec{{"v", v2() ? "2" : "1"}, {"role", s.role == "client" ? "client" : "server"}};
            if (!s.connection_id.empty()) spec["connectionId"] = literal(s.connection_id);
            sockets[s.name] = std::move(spec);
        }
        Json tags{"recorded", version};
        if (has_watchdog_) tags.push_back("slow");
        return {{"id", options_.id},
                {"title", std::string("Recorded ") + version + " session of serverId \"" + log_.server_id + "\": " +
                              std::to_string(log_.sockets.size()) + " sockets, " + std::to_string(sends) +
                              " messages in, " + std::to_string(delivered) + " out"},
                {"requirements", requirements_},
                {"level", "MUST"},
                {"tags", std::move(tags)},
                {"timeout_ms", timeout_ms()},
                {"sockets", std::move(sockets)},
                {"steps", steps_}};
    }

    // Plain steps take milliseconds on loopback; waits and the watchdog's windows take their time.
    int timeout_ms() const {
        return default_timeout_ms + waits_ * (close_answer_ms + 500) + int(open_marks_.size()) * reset_window.max_ms;
    }

    SessionLog const& log_;
    BuildOptions const& options_;
    Json steps_ = Json::array();
    std::vector<std::string> requirements_;
    std::vector<bool> usable_;           // the runner holds the socket open: opened, neither closed nor dropped
    std::vector<bool> closed_by_relay_;  // the relay sent it a close frame
    std::optional<std::size_t> last_input_;
    bool answered_ = false;  // something the last input caused has been expected since
    std::map<std::size_t, std::string> open_marks_;      // open observation -> its mark
    std::map<std::size_t, std::string> watchdog_marks_;  // watchdog observation -> the mark its windows follow
    std::optional<std::pair<std::string, Window>> window_;  // the last watchdog's
    bool has_watchdog_ = false;
    int waits_ = 0;
};

}  // namespace

nlohmann::ordered_json build_scenario(SessionLog const& log, BuildOptions const& options) {
    return Builder(log, options).build();
}

}  // namespace relay::record
