#include "interpreter/interpreter.hpp"

#include "client/http_exchange.hpp"
#include "client/ws_connection.hpp"
#include "interpreter/event_matching.hpp"
#include "interpreter/timing.hpp"
#include "interpreter/trace_writer.hpp"
#include "matcher/msgpack.hpp"
#include "matcher/request_pattern.hpp"
#include "server/listener.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/detail/base64.hpp>

#include <map>
#include <memory>
#include <random>

namespace conformance::interpreter {

namespace net = boost::asio;
using client::Clock;
using client::WireEvent;
using matcher::Json;
using namespace scenario;

char const* to_string(Verdict v) {
    switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::nonstrict: return "nonstrict";
    case Verdict::fail: return "fail";
    case Verdict::blocked: return "blocked";
    case Verdict::error: return "error";
    case Verdict::notrun: return "notrun";
    case Verdict::flaky: return "flaky";
    }
    return "?";
}

namespace {

constexpr auto operation_timeout = std::chrono::seconds(10);
// A flooding relay must not grow the wire log, and every report, without bound: the first entries are
// kept, then only counted.
constexpr std::size_t max_wire_log = 10'000;

// The relay deviated at this step.
struct StepFailure {
    std::vector<std::string> expected;
    std::string actual;
    std::string why;
    std::string socket;
};

// The runner could not carry the step out.
struct StepError {
    std::string message;
    std::string socket;
};

std::string websocket_key() {
    std::string raw(16, '\0');
    for (auto& c : raw) c = char(std::random_device{}());
    std::string out(boost::beast::detail::base64::encoded_size(raw.size()), '\0');
    out.resize(boost::beast::detail::base64::encode(out.data(), raw.data(), raw.size()));
    return out;
}

// Reports quote steps and mismatches, which may hold a 32 MiB payload: about 300 bytes say enough,
// cut where a UTF-8 character starts.
std::string shortened(std::string text) {
    std::size_t cut = 300;
    if (text.size() <= cut) return text;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut) + "…";
}

std::string step_text(Step const& step) { return shortened(step.source.dump(-1, ' ', false, Json::error_handler_t::replace)); }

class ScenarioRun {
public:
    ScenarioRun(Scenario const& scenario, RunSettings settings) : scenario_(scenario), settings_(std::move(settings)) {
        // Client scenarios have no fresh variables: their values come from captures.
        if (!scenario.client) vars_ = fresh_variables(settings_.profile, scenario.id);
        result_.scenario = &scenario;
        // A trace names ${serverId} (Paseo's) instead of its value.
        if (settings_.record) trace_.emplace(vars_.count("serverId") ? vars_["serverId"].get<std::string>() : std::string());
    }

    net::awaitable<ScenarioResult> run() {
        start_ = Clock::now();
        // Slower relay timers stretch the scenario's cap too; faster ones leave it as it is.
        auto const cap_ms = settings_.scenario_timeout_ms.value_or(scenario_.timeout_ms) * std::max(1.0, settings_.time_scale);
        deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(cap_ms));
        std::size_t index = 0;
        try {
            for (; index < scenario_.steps.size(); ++index) {
                auto const& step = scenario_.steps[index];
                auto const began = Clock::now();
                recorded_.reset();
                matched_at_.reset();
                co_await perform(step);
                if (trace_) write_down(step);
                if (step.mark) marks_[*step.mark] = {ms_since_start(began), ms_since_start(matched_at_.value_or(Clock::now()))};
                result_.steps.push_back({index + 1, step_text(step), "ok", elapsed_ms(began)});
            }
            result_.verdict = result_.nonstrict.empty() ? Verdict::pass : Verdict::nonstrict;
        } catch (StepFailure const& f) {
            record(index, Verdict::fail, f.expected, f.actual, f.why, f.socket);
        } catch (client::BadResponse const& e) {
            record(index, Verdict::fail, {"an answer a client can use"}, e.what(), "the relay's answer is unusable", {});
        } catch (StepError const& e) {
            record(index, Verdict::error, {}, {}, e.message, e.socket);
        } catch (client::ConnectionFault const& e) {
            result_.connection_refused = e.refused;
            record(index, Verdict::error, {}, {}, e.what(), {});
        } catch (matcher::UnknownVariable const& e) {
            record(index, Verdict::error, {}, {}, std::string("scenario fault: ") + e.what(), {});
        } catch (std::exception const& e) {
            record(index, Verdict::error, {}, {}, std::string("runner fault: ") + e.what(), {});
        }
        for (auto& [name, socket] : sockets_) {
            if (settings_.close_at_end)
                socket->send_close(1012, "");
            else
                socket->drop();
        }
        if (unlogged_) result_.wire_log.push_back({ms_since_start(Clock::now()), "", "in", "note", std::to_string(unlogged_) + " more wire events not logged"});
        result_.duration_ms = elapsed_ms(start_);
        co_return std::move(result_);
    }

private:
    double elapsed_ms(Clock::time_point since) const {
        return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
    }

    double ms_since_start(Clock::time_point at) const { return std::chrono::duration<double, std::milli>(at - start_).count(); }

    Clock::time_point at_ms(double ms) const {
        return start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
    }

    // docs/scenario-format.md, "Timing": the slower the relay has shown itself, the longer we wait.
    double allowance() const { return allowance_ms(settings_.latency_ms, longest_exchange_ms_); }

    void log(std::string const& socket, char const* direction, std::string kind, std::string text,
             std::optional<Clock::time_point> at = std::nullopt) {
        if (result_.wire_log.size() >= max_wire_log) {
            ++unlogged_;
            return;
        }
        result_.wire_log.push_back({ms_since_start(at.value_or(Clock::now())), socket, direction, std::move(kind), std::move(text)});
    }

    std::string const& requirement_of(Step const& step) const { return step.requirement ? *step.requirement : scenario_.requirements.front(); }

    // A step that names a requirement the scenario is not about only sets the stage for it.
    bool is_precondition(Step const& step) const {
        return step.requirement &&
               std::find(scenario_.requirements.begin(), scenario_.requirements.end(), *step.requirement) == scenario_.requirements.end();
    }

    void record(std::size_t index, Verdict verdict, std::vector<std::string> expected, std::string actual,
                std::string why, std::string socket) {
        auto const& step = scenario_.steps[std::min(index, scenario_.steps.size() - 1)];
        result_.verdict = verdict == Verdict::fail && is_precondition(step) ? Verdict::blocked : verdict;
        Failure f;
        f.requirement = requirement_of(step);
        f.step = index + 1;
        f.step_text = step_text(step);
        f.expected = std::move(expected);
        f.actual = std::move(actual);
        f.message = std::move(why);
        f.socket = std::move(socket);
        result_.failure = std::move(f);
        result_.steps.push_back({index + 1, step_text(step), to_string(result_.verdict), 0});
        for (auto i = index + 1; i < scenario_.steps.size(); ++i)
            result_.steps.push_back({i + 1, step_text(scenario_.steps[i]), "skipped", 0});
    }

    void note_differences(std::vector<std::string> const& whys) {
        auto const& step = scenario_.steps[current_step_];
        for (auto const& why : whys) result_.nonstrict.push_back({current_step_ + 1, requirement_of(step), shortened(why)});
    }

    // Opening and plain HTTP exchanges show how slow the relay is right now.
    void note_exchange(Clock::time_point began) { longest_exchange_ms_ = std::max(longest_exchange_ms_, elapsed_ms(began)); }

    Clock::time_point operation_deadline() const { return std::min(deadline_, Clock::now() + operation_timeout); }

    net::awaitable<void> perform(Step const& step) {
        current_step_ = std::size_t(&step - scenario_.steps.data());
        if (auto const* s = std::get_if<OpenStep>(&step.action)) co_return co_await open(*s);
        if (auto const* s = std::get_if<SendStep>(&step.action)) co_return co_await send(*s);
        if (auto const* s = std::get_if<ExpectStep>(&step.action)) co_return co_await expect(*s);
        if (auto const* s = std::get_if<HttpStep>(&step.action)) co_return co_await http(*s);
        if (auto const* s = std::get_if<AcceptStep>(&step.action)) co_return co_await accept(*s);
        if (auto const* s = std::get_if<NoConnectionStep>(&step.action)) co_return co_await no_connection(*s);
        if (auto const* s = std::get_if<CloseStep>(&step.action)) {
            socket(s->socket).send_close(s->code, s->reason);
            log(s->socket, "out", "close", std::to_string(s->code) + " \"" + s->reason + "\"");
        } else if (auto const* s = std::get_if<DropStep>(&step.action)) {
            socket(s->socket).drop();
            log(s->socket, "out", "drop", "TCP connection cut");
        }
        co_return;
    }

    client::WsConnection& socket(std::string const& name) {
        auto it = sockets_.find(name);
        if (it == sockets_.end()) throw StepError{"socket \"" + name + "\" is used before its open step", name};
        return *it->second;
    }

    std::string target(SocketSpec const& spec) const { return socket_target(spec, settings_.profile, vars_); }

    std::map<std::string, std::string> substituted(std::map<std::string, std::string> const& headers) const {
        std::map<std::string, std::string> out;
        for (auto const& [name, value] : headers) out[name] = matcher::substitute(value, vars_);
        return out;
    }

    net::awaitable<void> open(OpenStep const& step) {
        auto const began = Clock::now();
        auto const& spec = scenario_.sockets.at(step.socket);
        auto const path = target(spec);
        log(step.socket, "out", "open", "GET " + path);
        if (step.refused) {
            auto headers = substituted(spec.headers);
            headers.emplace("Upgrade", "websocket");
            headers.emplace("Connection", "Upgrade");
            headers.emplace("Sec-WebSocket-Key", websocket_key());
            headers.emplace("Sec-WebSocket-Version", "13");
            auto response = co_await client::http_exchange(settings_.endpoint, "GET", path, headers, operation_deadline());
            note_exchange(began);
            log(step.socket, "in", "http", describe(response));
            if (trace_) {
                recorded_ = Json{{"open", step.socket}, {"refused", trace_->http_expectation(response)}};
                co_return;
            }
            check_http(*step.refused, response, step.socket);
            co_return;
        }
        auto connection = std::make_shared<client::WsConnection>(co_await net::this_coro::executor, settings_.endpoint);
        auto refused = co_await connection->open(path, substituted(spec.headers), operation_deadline());
        note_exchange(began);
        if (refused) {
            log(step.socket, "in", "http", describe(refused->response));
            throw StepFailure{{"HTTP 101 Switching Protocols"}, describe(refused->response), "the handshake was refused", step.socket};
        }
        log(step.socket, "in", "http", "101 Switching Protocols");
        sockets_[step.socket] = std::move(connection);
    }

    net::awaitable<void> send(SendStep const& step) {
        auto& connection = socket(step.socket);
        auto vars = vars_;
        for (std::uint32_t i = 0; i < step.repeat; ++i) {
            vars["i"] = i;
            auto payload = step.json      ? matcher::substitute_json(*step.json, vars).dump()
                           : step.msgpack ? matcher::msgpack_bytes(matcher::substitute_json(*step.msgpack, vars))
                           : step.substitute ? matcher::substitute(step.payload, vars)
                                             : step.payload;
            bool const binary = step.type == FrameType::binary;
            log(step.socket, "out", binary ? "binary" : "text", preview(payload, binary));
            try {
                co_await connection.send(binary, std::move(payload), operation_deadline());
            } catch (client::ConnectionFault const& e) {
                // A relay may close a socket while it sends (the 1009 cap does); the next expect judges.
                log(step.socket, "out", "note", e.what());
                co_return;
            }
        }
    }

    // How long a step waits for what it expects: `wait_ms` from now, or to a window's upper bound; never
    // past the scenario's time.
    struct Wait {
        std::optional<TimeBounds> bounds;
        double wait_ms = 0;
        Clock::time_point deadline;
        bool capped = false;  // the scenario's time ends first
    };

    Wait wait_for(std::optional<Window> const& window, double wait_ms) const {
        Wait w{std::nullopt, wait_ms, {}, false};
        auto const now = Clock::now();
        if (window) {
            w.bounds = window_bounds(marks_.at(window->after), window->min_ms, window->max_ms, settings_.time_scale, allowance());
            w.wait_ms = std::max(0.0, w.bounds->latest - ms_since_start(now));
        }
        auto const deadline =
            w.bounds ? at_ms(w.bounds->latest) : now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(w.wait_ms));
        w.capped = deadline > deadline_;
        w.deadline = std::min(deadline, deadline_);
        return w;
    }

    server::Listener& listener(std::string const& socket) const {
        if (!settings_.listener) throw StepError{"a client scenario's step, and no client connects here (relay-conformance check-client)", socket};
        return *settings_.listener;
    }

    matcher::MatchResult match_request(std::string const& socket, server::Incoming const& incoming) const {
        return matcher::match_request(scenario_.patterns.at(socket), settings_.profile.socket_path, incoming.handshake, vars_);
    }

    std::string describe_pattern(std::string const& socket) const {
        return matcher::describe(scenario_.patterns.at(socket), settings_.profile.socket_path, vars_);
    }

    // The next connection matching the socket's pattern becomes the socket, or is refused.
    net::awaitable<void> accept(AcceptStep const& step) {
        auto& from = listener(step.socket);
        auto const began = Clock::now();
        auto const wait = wait_for(step.window, step.within_ms.value_or(settings_.step_timeout_ms) + allowance());
        matcher::MatchResult matched;
        auto incoming = co_await from.claim(
            [&](server::Incoming const& c) {
                matched = match_request(step.socket, c);
                return matched.matched;
            },
            wait.deadline);
        if (!incoming) {
            std::string others, closest;
            for (auto const& c : from.unclaimed()) {
                if (c->at < began) continue;
                others += (others.empty() ? "" : ", ") + c->handshake.target;
                if (closest.empty()) closest = shortened(match_request(step.socket, *c).why);
            }
            auto const waited = std::to_string(std::llround(wait.wait_ms)) + " ms" + (wait.capped ? " (the scenario's time ran out)" : "");
            throw StepFailure{{describe_pattern(step.socket)},
                              others.empty() ? "no connection within " + waited
                                             : "within " + waited + " only connections that do not match: " + others,
                              closest, step.socket};
        }
        log(step.socket, "in", "open", "GET " + incoming->handshake.target, incoming->at);
        if (wait.bounds) check_window(*step.window, *wait.bounds, incoming->at, "a connection for " + step.socket, step.socket);
        for (auto& [name, value] : matched.captures) vars_[name] = value;
        note_differences(matched.nonstrict);
        matched_at_ = incoming->at;
        if (step.refuse) {
            log(step.socket, "out", "http", std::to_string(step.refuse->status) + " " + preview(step.refuse->body, false));
            co_await server::refuse(*incoming, step.refuse->status, step.refuse->body, step.refuse->headers, operation_deadline());
            co_return;
        }
        auto connection = std::make_shared<client::WsConnection>(std::move(incoming->stream));
        try {
            co_await connection->accept(incoming->request, operation_deadline());
        } catch (client::ConnectionFault const& e) {
            // An upgrade request a server cannot answer with 101 (no key, wrong version) is the client's.
            throw StepFailure{{describe_pattern(step.socket)}, e.what(), "not a usable WebSocket handshake", step.socket};
        }
        log(step.socket, "out", "http", "101 Switching Protocols");
        // The name passes to the new connection; the old one, if still open, is cut.
        if (auto old = sockets_.find(step.socket); old != sockets_.end()) old->second->drop();
        sockets_[step.socket] = std::move(connection);
    }

    // A quiet period: no connection matching the socket's pattern, unclaimed ones included.
    net::awaitable<void> no_connection(NoConnectionStep const& step) {
        auto& from = listener(step.socket);
        auto const began = Clock::now();
        auto const wait = wait_for(std::nullopt, quiet_ms(step.within_ms, settings_.time_scale, allowance()));
        auto incoming = co_await from.claim([&](server::Incoming const& c) { return match_request(step.socket, c).matched; }, wait.deadline);
        if (!incoming) co_return;
        log(step.socket, "in", "open", "GET " + incoming->handshake.target, incoming->at);
        auto const at = std::llround(std::chrono::duration<double, std::milli>(incoming->at - began).count());
        throw StepFailure{{"no connection for " + step.socket + " for " + std::to_string(std::llround(wait.wait_ms)) + " ms"},
                          "a connection for " + step.socket + " arrived at " + (at < 0 ? "" : "+") + std::to_string(at) +
                              " ms: " + incoming->handshake.target,
                          {}, step.socket};
    }

    net::awaitable<void> expect(ExpectStep const& step) {
        auto& connection = socket(step.socket);
        bool const waits_for_nothing = std::any_of(step.alternatives.begin(), step.alternatives.end(), [](auto const& a) {
            return std::holds_alternative<NothingMatcher>(a);
        });
        for (std::uint32_t i = 0; i < step.repeat; ++i) {
            auto vars = vars_;
            vars["i"] = i;
            auto const written_ms = step.within_ms.value_or(waits_for_nothing ? 1000 : settings_.step_timeout_ms);
            auto const [bounds, wait_ms, deadline, capped] =
                wait_for(step.window, waits_for_nothing ? quiet_ms(written_ms, settings_.time_scale, allowance()) : written_ms + allowance());
            if (trace_) {
                auto event = co_await connection.next(deadline);
                if (event) log(step.socket, "in", kind_of(*event), describe_brief(*event), event->at);
                // The scenario's own captures keep their names in the trace.
                for (auto const& alternative : step.alternatives) {
                    auto result = match_event(alternative, event, vars);
                    for (auto& [name, value] : result.captures) {
                        trace_->know(name, value);
                        vars_[name] = value;
                    }
                }
                auto observed = trace_->expect_step(step.socket, event, written_ms);
                if (step.window) {
                    observed.erase("within_ms");
                    observed["window"] = scenario_.steps[current_step_].source.at("window");
                }
                if (!recorded_) recorded_ = Json::array();
                recorded_->push_back(std::move(observed));
                continue;
            }
            for (;;) {
                auto event = co_await connection.next(deadline);
                if (connection.overflowed())
                    throw StepError{"the relay sent more than " + std::to_string(client::WsConnection::max_queued_bytes >> 20) +
                                        " MiB the scenario did not take; the socket was dropped",
                                    step.socket};
                if (event) log(step.socket, "in", kind_of(*event), describe_brief(*event), event->at);
                std::string closest;
                for (auto const& alternative : step.alternatives) {
                    auto result = match_event(alternative, event, vars);
                    if (!result.matched) {
                        if (closest.empty()) closest = shortened(result.why);
                        continue;
                    }
                    if (bounds && event) check_window(*step.window, *bounds, event->at, describe(*event), step.socket);
                    for (auto& [name, value] : result.captures) vars_[name] = value;
                    note_differences(result.nonstrict);
                    matched_at_ = event ? event->at : Clock::now();
                    goto matched;
                }
                if (step.skip_other_frames && event && event->kind == WireEvent::Kind::frame) continue;
                {
                    std::vector<std::string> expected;
                    for (auto const& alternative : step.alternatives) expected.push_back(describe(alternative, std::uint32_t(wait_ms)));
                    auto const actual = event ? describe(*event)
                                              : "nothing within " + std::to_string(std::llround(wait_ms)) + " ms" +
                                                    (capped ? " (the scenario's time ran out)" : "");
                    throw StepFailure{expected, actual, closest, step.socket};
                }
            }
        matched:;
        }
    }

    // Both ends, also for an event that was already queued when the step began.
    void check_window(Window const& window, TimeBounds bounds, Clock::time_point arrived, std::string const& what,
                      std::string const& socket) {
        auto const at = ms_since_start(arrived);
        auto const judged = judge_time(at, bounds);
        if (judged == Arrival::in) return;
        auto const& mark = marks_.at(window.after);
        throw StepFailure{{"between " + std::to_string(std::llround(bounds.earliest - mark.start)) + " ms after mark " +
                           window.after + " started and " + std::to_string(std::llround(bounds.latest - mark.finish)) +
                           " ms after it finished"},
                          what + " " + std::to_string(std::llround(at - mark.start)) + " ms after mark " +
                              window.after + " started, " + std::to_string(std::llround(at - mark.finish)) + " ms after it finished",
                          judged == Arrival::early ? "too early" : "too late",
                          socket};
    }

    static std::string kind_of(WireEvent const& e) {
        if (e.kind == WireEvent::Kind::frame) return e.binary ? "binary" : "text";
        if (e.kind == WireEvent::Kind::invalid) return "invalid";
        return e.kind == WireEvent::Kind::close ? "close" : "ended";
    }

    static std::string describe_brief(WireEvent const& e) {
        if (e.kind == WireEvent::Kind::frame) return preview(e.payload, e.binary);
        if (e.kind == WireEvent::Kind::close) return std::to_string(e.code) + " \"" + e.reason + "\"";
        return e.reason;
    }

    net::awaitable<void> http(HttpStep const& step) {
        auto const path = matcher::substitute(step.path, vars_) + (step.query ? "?" + matcher::substitute(*step.query, vars_) : "");
        log("http", "out", "http", step.method + " " + path);
        auto const began = Clock::now();
        auto response = co_await client::http_exchange(settings_.endpoint, step.method, path, substituted(step.headers),
                                                       operation_deadline());
        note_exchange(began);
        log("http", "in", "http", describe(response));
        if (trace_) {
            auto const& source = scenario_.steps[current_step_].source;
            recorded_ = Json{{"http", source.at("http")}, {"response", trace_->http_expectation(response)}};
            co_return;
        }
        check_http(step.response, response, "http");
    }

    void check_http(HttpExpectation const& expected, client::HttpResponse const& response, std::string const& socket) {
        auto result = match_http(expected, response, vars_);
        if (!result.matched) throw StepFailure{{describe(expected)}, describe(response), shortened(result.why), socket};
        for (auto& [name, value] : result.captures) vars_[name] = value;
        note_differences(result.nonstrict);
    }

    // The recorded form of a step: what perform() observed, or the step as written.
    void write_down(Step const& step) {
        if (!recorded_) return result_.recorded_steps.push_back(step.source);
        auto observed = recorded_->is_array() ? *recorded_ : Json::array({*recorded_});
        for (std::size_t i = 0; i < observed.size(); ++i)
            for (auto const* key : {"requirement", "note", "mark"})
                if (step.source.contains(key) && (std::string(key) != "mark" || i + 1 == observed.size()))
                    observed[i][key] = step.source[key];
        for (auto& s : observed) result_.recorded_steps.push_back(std::move(s));
    }

    Scenario const& scenario_;
    RunSettings settings_;
    std::optional<TraceWriter> trace_;
    std::optional<Json> recorded_;
    std::size_t current_step_ = 0;
    matcher::Variables vars_;
    std::map<std::string, std::shared_ptr<client::WsConnection>> sockets_;
    std::map<std::string, MarkInterval> marks_;  // ms since start_
    std::optional<Clock::time_point> matched_at_;  // when the current expect step's event arrived
    double longest_exchange_ms_ = 0;
    std::size_t unlogged_ = 0;  // wire events past max_wire_log
    Clock::time_point start_, deadline_;
    ScenarioResult result_;
};

}  // namespace

net::awaitable<ScenarioResult> run_scenario(Scenario const& scenario, RunSettings settings) {
    ScenarioRun run(scenario, std::move(settings));
    co_return co_await run.run();
}

}  // namespace conformance::interpreter
