#include "http/ws_registry.hpp"

namespace bazaar::edge {

std::uint64_t WsRegistry::add(Principal who, std::weak_ptr<WsOutlet> session) {
  const std::lock_guard lock(mutex_);
  if (closed_) return 0;
  const auto id = next_id_++;
  entries_.emplace(id, Entry{std::move(who), std::move(session)});
  return id;
}

void WsRegistry::remove(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  entries_.erase(id);
  if (entries_.empty()) emptied_.notify_all();
}

std::vector<std::shared_ptr<WsOutlet>> WsRegistry::live(
    const std::function<bool(const Principal&)>& wanted) const {
  std::vector<std::shared_ptr<WsOutlet>> found;
  const std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : entries_) {
    if (!wanted(entry.who)) continue;
    if (auto session = entry.session.lock()) found.push_back(std::move(session));
  }
  return found;
}

void WsRegistry::send(const std::function<bool(const Principal&)>& wanted,
                      const std::string& text) {
  const auto sessions = live(wanted);
  if (sessions.empty()) return;
  const auto frame = std::make_shared<const std::string>(text);
  for (const auto& session : sessions) session->send(frame);
}

void WsRegistry::send_to_user(const std::string& user_id, const std::string& text) {
  send([&](const Principal& p) { return p.user_id == user_id; }, text);
}

void WsRegistry::send_to_role(const std::string& role, const std::string& text) {
  send([&](const Principal& p) { return p.role == role; }, text);
}

void WsRegistry::broadcast(const std::string& text) {
  send([](const Principal&) { return true; }, text);
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
  for (const auto& session : live([](const Principal&) { return true; })) session->close();
}

void WsRegistry::wait_empty(std::chrono::steady_clock::duration limit) {
  std::unique_lock lock(mutex_);
  emptied_.wait_for(lock, limit, [this] { return entries_.empty(); });
}

}  // namespace bazaar::edge
