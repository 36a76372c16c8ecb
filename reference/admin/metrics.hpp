// GET /metrics on the admin port: the relay's counters, what it holds now and the process's own
// figures, in the Prometheus text exposition format 0.0.4 (docs/deploy.md lists every metric).
#pragma once

#include "transport/hub.hpp"

#include <string>

namespace relay::admin {

inline constexpr char const* metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(transport::Hub const& hub);

}  // namespace relay::admin
