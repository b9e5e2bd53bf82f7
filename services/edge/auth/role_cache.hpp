#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace bazaar::edge {

/// What every authenticated request asks the users table: the role of an active account. Kept
/// in memory and forgotten whenever the account's row changes: edge's own writers forget it
/// once their transaction committed, and a listener on the table's change notifications
/// (migration 013) forgets what any other writer changed. Nothing is kept while no listener
/// stands behind it (watch()), and a read that a change overtook is not kept.
class RoleCache {
 public:
  /// `max_users` bounds the accounts kept; when one more would exceed it, all are dropped.
  RoleCache(std::size_t max_users, prometheus::Counter* hits = nullptr,
            prometheus::Counter* misses = nullptr);

  /// The role of account `user_id` (canonical UUID) when kept: empty for an account that may
  /// not act (disabled, deleted or unknown).
  std::optional<std::string> role(const std::string& user_id) const;

  /// Taken before the read whose answer keep() may keep: kept only when nothing was forgotten
  /// and no watch began or ended between the two.
  struct Ticket {
    std::uint64_t generation = 0;
    bool valid = false;
  };
  Ticket ticket() const;
  /// Keeps what the read after `ticket` found: the role, or empty for an account that may not act.
  void keep(const Ticket& ticket, const std::string& user_id, std::string role);

  /// The account changed (a commit, here or elsewhere): forgets it; "*" forgets every account.
  void forget(const std::string& user_id);
  /// Whether changes are being watched (the listener is connected). Either way everything kept
  /// is dropped: what changed while nobody listened is unknown.
  void watch(bool watching);

  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string> roles_;
  std::size_t max_users_;
  std::uint64_t generation_ = 0;
  bool watching_ = false;
  prometheus::Counter* hits_;
  prometheus::Counter* misses_;
};

}  // namespace bazaar::edge
