#include "http/ws_registry.hpp"

namespace bazaar::edge {

std::uint64_t WsRegistry::add(std::string user_id, std::weak_ptr<WsOutlet> session) {
  const std::lock_guard lock(mutex_);
  if (closed_) return 0;
  const auto id = next_id_++;
  entries_.emplace(id, Entry{std::move(user_id), std::move(session)});
  return id;
}

void WsRegistry::remove(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  entries_.erase(id);
  if (entries_.empty()) emptied_.notify_all();
}

std::vector<std::shared_ptr<WsOutlet>> WsRegistry::live(const std::string* user_id) const {
  std::vector<std::shared_ptr<WsOutlet>> found;
  const std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : entries_) {
    if (user_id != nullptr && entry.user_id != *user_id) continue;
    if (auto session = entry.session.lock()) found.push_back(std::move(session));
  }
  return found;
}

void WsRegistry::send_to_user(const std::string& user_id, const std::string& text) {
  const auto sessions = live(&user_id);
  if (sessions.empty()) return;
  const auto frame = std::make_shared<const std::string>(text);
  for (const auto& session : sessions) session->send(frame);
}

void WsRegistry::broadcast(const std::string& text) {
  const auto sessions = live(nullptr);
  if (sessions.empty()) return;
  const auto frame = std::make_shared<const std::string>(text);
  for (const auto& session : sessions) session->send(frame);
}

std::size_t WsRegistry::sessions() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

void WsRegistry::close_all() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  for (const auto& session : live(nullptr)) session->close();
}

void WsRegistry::wait_empty(std::chrono::steady_clock::duration limit) {
  std::unique_lock lock(mutex_);
  emptied_.wait_for(lock, limit, [this] { return entries_.empty(); });
}

}  // namespace bazaar::edge
