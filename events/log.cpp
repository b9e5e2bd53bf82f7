#include "events/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "events/envelope.hpp"

namespace bazaar::events::log {
namespace {

thread_local std::string t_correlation;
thread_local std::string t_trace;

std::string render(const std::string& service, std::string_view level, std::string_view message,
                   std::chrono::system_clock::time_point when) {
  boost::json::object line;
  line["ts"] = format_rfc3339(when);
  line["level"] = level;
  line["service"] = service;
  line["msg"] = message;
  if (!t_correlation.empty()) line["correlation_id"] = t_correlation;
  if (!t_trace.empty()) line["trace_id"] = t_trace;
  return boost::json::serialize(line);
}

// spdlog's patterns cannot escape JSON, so every line is built as a JSON object.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string service) : service_(std::move(service)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string text =
        render(service_, std::string_view(level.data(), level.size()),
               std::string_view(msg.payload.data(), msg.payload.size()), msg.time);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(service_);
  }

 private:
  std::string service_;
};

}  // namespace

void init(const std::string& service, const std::string& level) {
  auto logger =
      std::make_shared<spdlog::logger>(service, std::make_shared<spdlog::sinks::stdout_sink_mt>());
  logger->set_formatter(std::make_unique<JsonFormatter>(service));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

ScopedContext::ScopedContext(std::string correlation_id, std::string trace_id)
    : saved_correlation_(std::exchange(t_correlation, std::move(correlation_id))),
      saved_trace_(std::exchange(t_trace, std::move(trace_id))) {}

ScopedContext::~ScopedContext() {
  t_correlation = std::move(saved_correlation_);
  t_trace = std::move(saved_trace_);
}

std::string format_line(const std::string& service, const std::string& level,
                        const std::string& message) {
  return render(service, level, message, std::chrono::system_clock::now());
}

}  // namespace bazaar::events::log
