#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/http_server.hpp"

namespace bazaar::edge {

/// What the registry needs of one open WebSocket: queue a text frame, or close it.
class WsOutlet {
 public:
  virtual ~WsOutlet() = default;
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  virtual void close() = 0;
};

/// The open WebSocket sessions by id, each with its user: the publisher side of /ws.
class WsRegistry final : public WebSocketPublisher {
 public:
  /// Registers an open session of `who`; 0 once the server is shutting down.
  std::uint64_t add(Principal who, std::weak_ptr<WsOutlet> session);
  void remove(std::uint64_t id);
  void send_to_user(const std::string& user_id, const std::string& text) override;
  void send_to_role(const std::string& role, const std::string& text) override;
  void broadcast(const std::string& text) override;
  std::size_t sessions() const override;
  /// Refuses new sessions and closes every open one.
  void close_all();
  /// Waits until every session has gone, at most `limit`.
  void wait_empty(std::chrono::steady_clock::duration limit);

 private:
  struct Entry {
    Principal who;
    std::weak_ptr<WsOutlet> session;
  };
  /// The sessions still open whose principal `wanted` accepts.
  std::vector<std::shared_ptr<WsOutlet>> live(
      const std::function<bool(const Principal&)>& wanted) const;
  void send(const std::function<bool(const Principal&)>& wanted, const std::string& text);

  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
};

}  // namespace bazaar::edge
