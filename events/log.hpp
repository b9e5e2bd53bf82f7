#pragma once

#include <string>

namespace bazaar::events::log {

/// Sends spdlog's default logger to stdout as one JSON object per line, with the service name
/// and the calling thread's correlation and trace ids. Levels: trace, debug, info, warn, error.
void init(const std::string& service, const std::string& level);

/// Ids attached to every log line written by this thread while the scope lives.
class ScopedContext {
 public:
  ScopedContext(std::string correlation_id, std::string trace_id);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  std::string saved_correlation_;
  std::string saved_trace_;
};

/// One log line's JSON for `message` at `level`; exposed for tests of the escaping.
std::string format_line(const std::string& service, const std::string& level,
                        const std::string& message);

}  // namespace bazaar::events::log
