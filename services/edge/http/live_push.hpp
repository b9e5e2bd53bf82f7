#pragma once

#include <atomic>
#include <string>

#include "http/http_server.hpp"

namespace bazaar::edge {

/// Where projections push live messages to WebSocket sessions once their transaction
/// committed. Holds no publisher until the server runs; set(nullptr) before it stops.
class LivePush {
 public:
  void set(WebSocketPublisher* publisher) {
    publisher_.store(publisher, std::memory_order_release);
  }
  void broadcast(const std::string& text) const {
    if (auto* out = publisher_.load(std::memory_order_acquire)) out->broadcast(text);
  }
  void send_to_user(const std::string& user_id, const std::string& text) const {
    if (auto* out = publisher_.load(std::memory_order_acquire)) out->send_to_user(user_id, text);
  }
  void send_to_role(const std::string& role, const std::string& text) const {
    if (auto* out = publisher_.load(std::memory_order_acquire)) out->send_to_role(role, text);
  }

 private:
  std::atomic<WebSocketPublisher*> publisher_{nullptr};
};

}  // namespace bazaar::edge
