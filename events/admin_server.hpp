#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bazaar::events {

/// Named readiness checks and whether each passed.
using ReadinessReport = std::vector<std::pair<std::string, bool>>;

/// A small HTTP/1.1 server for operators: `GET /health/live` (the process runs; never touches
/// a dependency), `GET /health/ready` (every readiness check passes, else 503), and
/// `GET /metrics` (Prometheus text). Runs on its own thread; every read has a deadline.
class AdminServer {
 public:
  using ReadinessCheck = std::function<ReadinessReport()>;
  using MetricsRenderer = std::function<std::string()>;

  /// Binds `host:port` (port 0 picks a free one); throws when the address cannot be bound.
  AdminServer(const std::string& host, std::uint16_t port, ReadinessCheck ready,
              MetricsRenderer metrics);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  std::uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bazaar::events
