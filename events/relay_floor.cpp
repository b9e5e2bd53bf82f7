#include "events/relay_floor.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <stdexcept>
#include <string>

namespace bazaar::events {
namespace {

std::uint64_t xid_of(std::string_view text, std::string_view whole) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument("not a snapshot (xmin:xmax:xip,...): '" + std::string(whole) + "'");
  }
  return value;
}

}  // namespace

TxSnapshot TxSnapshot::parse(std::string_view text) {
  const auto first = text.find(':');
  const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
  if (second == std::string_view::npos) xid_of({}, text);  // throws
  TxSnapshot s;
  s.xmin = xid_of(text.substr(0, first), text);
  s.xmax = xid_of(text.substr(first + 1, second - first - 1), text);
  if (s.xmin > s.xmax) xid_of({}, text);
  std::string_view rest = text.substr(second + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::uint64_t xid = xid_of(rest.substr(0, comma), text);
    if (xid < s.xmin || xid >= s.xmax) xid_of({}, text);
    s.running.push_back(xid);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (comma != std::string_view::npos && rest.empty()) xid_of({}, text);
  }
  std::sort(s.running.begin(), s.running.end());
  return s;
}

std::uint64_t TxSnapshot::parse_xid(std::string_view text) {
  return xid_of(text, text);
}

bool TxSnapshot::ended(std::uint64_t xid) const {
  if (xid < xmin) return true;
  if (xid >= xmax) return false;
  return !std::binary_search(running.begin(), running.end(), xid);
}

void RelayFloor::reset(long long start) {
  value_ = start;
  pending_.clear();
  above_.clear();
}

bool RelayFloor::ended_in(const Pass& pass, const TxSnapshot& read) {
  if (pass.to > read.xmax) return false;  // ids up to `to` may not even have ended
  // An id is running in `read` only when `read` lists it: none of the range may be there.
  const auto in_range = std::lower_bound(read.running.begin(), read.running.end(), pass.from);
  if (in_range != read.running.end() && *in_range < pass.to) return false;
  return std::all_of(pass.running.begin(), pass.running.end(),
                     [&](std::uint64_t xid) { return read.ended(xid); });
}

void RelayFloor::published_through(long long last_seq, const TxSnapshot& read,
                                   std::uint64_t mark_xid) {
  const long long newest = pending_.empty() ? value_ : pending_.back().last_seq;
  if (last_seq <= newest) return;
  const std::uint64_t to = std::max(mark_xid, read.xmax);
  if (pending_.size() < kMaxPending) {
    pending_.push_back({last_seq, read.running, read.xmax, to});
    return;
  }
  Pass& merged = pending_.back();
  merged.last_seq = last_seq;
  std::vector<std::uint64_t> both;
  std::set_union(merged.running.begin(), merged.running.end(), read.running.begin(),
                 read.running.end(), std::back_inserter(both));
  merged.running = std::move(both);
  merged.from = std::min(merged.from, read.xmax);
  merged.to = std::max(merged.to, to);
}

void RelayFloor::published(const std::vector<long long>& seqs) {
  for (const long long seq : seqs) {
    // The seq right after the floor is always kept: it moves the floor.
    if (seq > value_ && (seq == value_ + 1 || above_.size() < kMaxAbove)) above_.insert(seq);
  }
  absorb();
}

bool RelayFloor::known_published(long long seq) const {
  return seq <= value_ || above_.contains(seq);
}

void RelayFloor::absorb() {
  while (!above_.empty() && *above_.begin() <= value_ + 1) {
    value_ = std::max(value_, *above_.begin());
    above_.erase(above_.begin());
  }
  while (!pending_.empty() && pending_.front().last_seq <= value_) pending_.pop_front();
}

bool RelayFloor::advance(const TxSnapshot& read, long long covered) {
  // A transaction an earlier pass waits for that has not ended in `read` was running at every
  // later pass's snapshot too, and had its id before their marks: passes are confirmed in
  // order, so stop at the first that is not.
  bool moved = false;
  while (!pending_.empty() && pending_.front().last_seq <= covered &&
         ended_in(pending_.front(), read)) {
    value_ = pending_.front().last_seq;
    pending_.pop_front();
    moved = true;
  }
  if (moved) absorb();
  return moved;
}

}  // namespace bazaar::events
